//! The `[sync]` section: where the fleet database is, which fleet this box belongs to, and how
//! phones are named there.
//!
//! Two of its values are secrets (the fleet secret that pseudonymises phones, the database
//! password, which may also sit inside the URL). They are held as [`Secret`], whose Debug and
//! Display print `***`, and a config file that holds one while every user on the box can read
//! it is refused ([`world_readable_secrets`]): the daemon then runs without sync and says why
//! in one line.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

/// A value that must never reach a log line.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }
    /// The value itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Offline-first upload of the log to MySQL/MariaDB and download of the fleet's answers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyncConfig {
    /// `mysql://user[:password]@host[:port]/database[?require_ssl=true]`; no sync without it.
    pub mysql_url: Option<Secret>,
    /// The database password, replacing any in the URL (better: `O4SEND_SYNC__PASSWORD`).
    pub password: Option<Secret>,
    /// Appliances with the same fleet name share "already asked".
    pub fleet: String,
    /// Key of the phones' pseudonyms (HMAC-SHA256); the same on every appliance of the fleet.
    pub secret: Option<Secret>,
    /// Send raw Bluetooth addresses and device names instead of pseudonyms.
    pub raw_macs: bool,
    /// Rows per upload transaction.
    pub batch: usize,
    /// Seconds from the start of one sync round to the start of the next while the server
    /// answers (`crate::sync::pause_after`).
    pub interval_secs: u64,
    /// Longest pause between tries while the server is unreachable.
    pub backoff_max_secs: u64,
    /// Why sync is refused although configured (set at load time, never read from a file).
    #[serde(skip)]
    pub refused: Option<String>,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            mysql_url: None,
            password: None,
            fleet: "default".into(),
            secret: None,
            raw_macs: false,
            batch: 1000,
            interval_secs: 30,
            backoff_max_secs: 300,
            refused: None,
        }
    }
}

impl SyncConfig {
    /// Whether a fleet database is configured.
    pub fn enabled(&self) -> bool {
        self.mysql_url.is_some()
    }
}

/// The secret keys a config file names, if the file can be read by every user; `None` when the
/// file is private or holds no secret.
pub(super) fn world_readable_secrets(path: &Path) -> Option<Vec<&'static str>> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    if mode & 0o004 == 0 {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    let value: toml::Table = text.parse().ok()?;
    let sync = value.get("sync")?.as_table()?;
    let mut found = Vec::new();
    if sync.contains_key("secret") {
        found.push("sync.secret");
    }
    if sync.contains_key("password") {
        found.push("sync.password");
    }
    if let Some(url) = sync.get("mysql_url").and_then(|v| v.as_str()) {
        if url_has_password(url) {
            found.push("sync.mysql_url (password)");
        }
    }
    (!found.is_empty()).then_some(found)
}

/// Whether `mysql://user:pass@host/...` carries a password.
pub fn url_has_password(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    authority
        .rsplit_once('@')
        .is_some_and(|(user, _)| user.contains(':'))
}

/// The URL with any password replaced by `***`, for messages.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "***".into();
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let authority = match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{name}:***@{host}"),
            None => format!("{user}@{host}"),
        },
        None => authority.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let cfg = SyncConfig {
            mysql_url: Some(Secret::new("mysql://u:hunter2@h/db")),
            secret: Some(Secret::new("fleet-secret-value")),
            ..SyncConfig::default()
        };
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("fleet-secret-value"));
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("mysql://u:hunter2@h:3306/db?require_ssl=true"),
            "mysql://u:***@h:3306/db?require_ssl=true"
        );
        assert_eq!(redact_url("mysql://u@h/db"), "mysql://u@h/db");
        assert!(url_has_password("mysql://u:p@h/db"));
        assert!(!url_has_password("mysql://u@h/db"));
    }
}
