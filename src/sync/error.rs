//! Why a sync round failed, in one line that never holds a password.
//!
//! The kind tells the daemon how to wait: an unreachable server is retried with back-off; a
//! refused login, a fleet database newer than this o4send or a refused config will not cure
//! themselves quickly, so they are retried only at the longest back-off.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncErrorKind {
    /// Network, server restart, lock timeout: retry soon.
    Transient,
    /// Login refused, schema too new, bad configuration: needs a person.
    Fatal,
}

/// A failed sync step; `Display` is one line naming the cause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncError {
    kind: SyncErrorKind,
    message: String,
}

impl SyncError {
    pub fn new(kind: SyncErrorKind, message: impl Into<String>) -> SyncError {
        SyncError {
            kind,
            message: crate::config::one_line(&message.into()),
        }
    }

    pub fn fatal(message: impl Into<String>) -> SyncError {
        SyncError::new(SyncErrorKind::Fatal, message)
    }

    /// A MySQL failure while doing `what`.
    pub fn mysql(what: &str, e: &mysql_async::Error) -> SyncError {
        let kind = match e {
            mysql_async::Error::Server(s) if is_fatal_code(s.code) => SyncErrorKind::Fatal,
            mysql_async::Error::Url(_) => SyncErrorKind::Fatal,
            _ => SyncErrorKind::Transient,
        };
        SyncError::new(kind, format!("{what}: {e}"))
    }

    /// A local store failure.
    pub fn store(e: &crate::store::StoreError) -> SyncError {
        SyncError::new(SyncErrorKind::Transient, e.to_string())
    }

    pub fn kind(&self) -> SyncErrorKind {
        self.kind
    }
}

/// Access denied (1044, 1045, 1227, 1142), unknown database (1049).
fn is_fatal_code(code: u16) -> bool {
    matches!(code, 1044 | 1045 | 1049 | 1142 | 1227)
}

impl fmt::Display for SyncError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SyncError {}
