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

    /// One line when the sync would cross a network in clear text: a URL without
    /// `require_ssl=true` to a host that is not this machine. The database password and every
    /// row (pseudonyms, or raw addresses with `raw_macs`) could then be read on the way.
    pub fn cleartext_warning(&self) -> Option<String> {
        let url = self.mysql_url.as_ref()?.expose();
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
        if query.split('&').any(|kv| kv == "require_ssl=true") {
            return None;
        }
        let authority = before_query.split('/').next().unwrap_or("");
        let hosts = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let remote: Vec<&str> = hosts
            .split(',')
            .map(|h| host_part(h.trim()))
            .filter(|h| !is_loopback(h))
            .collect();
        if remote.is_empty() {
            return None;
        }
        Some(format!(
            "the fleet sync to {} is not encrypted: the database password and the log's rows \
             cross the network in clear text; add ?require_ssl=true to sync.mysql_url",
            remote.join(", ")
        ))
    }
}

/// `host` of `host`, `host:port`, `[v6]` or `[v6]:port`.
fn host_part(h: &str) -> &str {
    match h.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => h.rsplit_once(':').map_or(h, |(host, _)| host),
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(unix)]
fn world_readable(path: &Path) -> Option<bool> {
    use std::os::unix::fs::PermissionsExt;
    Some(std::fs::metadata(path).ok()?.permissions().mode() & 0o004 != 0)
}

/// Windows and macOS laptops check a file for the appliance: no Unix modes there to warn of.
#[cfg(not(unix))]
fn world_readable(_: &Path) -> Option<bool> {
    Some(false)
}

/// The secret keys a config file names, if the file can be read by every user; `None` when the
/// file is private or holds no secret.
pub(super) fn world_readable_secrets(path: &Path) -> Option<Vec<&'static str>> {
    if !world_readable(path)? {
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
    fn a_sync_in_clear_text_over_a_network_is_named() {
        let warn = |url: &str| {
            let cfg = SyncConfig {
                mysql_url: Some(Secret::new(url)),
                ..Default::default()
            };
            cfg.cleartext_warning()
        };
        let w = warn("mysql://o4send:pw@db.expo.example:3306/o4send").unwrap();
        assert!(
            w.starts_with("the fleet sync to db.expo.example is not encrypted"),
            "{w}"
        );
        assert!(
            w.ends_with("add ?require_ssl=true to sync.mysql_url"),
            "{w}"
        );
        assert!(!w.contains("pw"), "{w}");
        let w = warn("mysql://u@127.0.0.1:3306,[2001:db8::1]:3307/db?prefer_socket=false").unwrap();
        assert!(w.starts_with("the fleet sync to 2001:db8::1 is not"), "{w}");
        assert_eq!(warn("mysql://u:pw@db:3306/o4send?require_ssl=true"), None);
        assert_eq!(warn("mysql://u:pw@localhost:3306,[::1]:3307/o4send"), None);
        let off = SyncConfig::default();
        assert_eq!(off.cleartext_warning(), None);
    }

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
