//! Why the store could not do what was asked.
//!
//! Operators read these on a terminal or in the journal of a box nobody logs into, so every
//! message names the file and the cause ("cannot open /var/lib/o4send/o4send.db: disk I/O
//! error"). Errors are cloned to every flush waiter, so the cause travels as text.

use std::fmt;
use std::path::Path;

/// The class of a [`StoreError`], for callers that react differently (e.g. disk full).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreErrorKind {
    /// `Reader::open` on a path with no file.
    NoDatabase,
    /// The directory that should hold the database is missing.
    NoDirectory,
    /// The file was written by a newer o4send.
    SchemaTooNew,
    /// The file is older than this code reads, or not an o4send database.
    SchemaMismatch,
    /// The disk (or the page limit) is full; records are kept and retried.
    DiskFull,
    /// The store was closed.
    Closed,
    /// Any other SQLite or operating-system failure.
    Other,
}

/// An error from the store; `Display` names the path and the cause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreError {
    kind: StoreErrorKind,
    message: String,
}

impl StoreError {
    pub(crate) fn new(kind: StoreErrorKind, message: impl Into<String>) -> StoreError {
        StoreError {
            kind,
            message: message.into(),
        }
    }

    /// `what` says what was being done, e.g. "cannot open /x/o4send.db".
    pub(crate) fn sqlite(what: impl fmt::Display, err: &rusqlite::Error) -> StoreError {
        let kind = if is_disk_full(err) {
            StoreErrorKind::DiskFull
        } else {
            StoreErrorKind::Other
        };
        StoreError::new(kind, format!("{what}: {err}"))
    }

    pub(crate) fn closed(path: &Path) -> StoreError {
        StoreError::new(
            StoreErrorKind::Closed,
            format!("the store for {} is closed", path.display()),
        )
    }

    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StoreError {}

/// SQLITE_FULL: the disk, or `max_page_count`, is exhausted.
pub(crate) fn is_disk_full(err: &rusqlite::Error) -> bool {
    err.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull)
}
