//! From the config to a MySQL connection: the URL (which may ask for TLS with
//! `require_ssl=true`), the password from `sync.password` or `O4SEND_SYNC__PASSWORD` when given,
//! and a bound on how long connecting may take. Messages show the URL without its password.

use super::error::SyncError;
use crate::config::{redact_url, SyncConfig};
use mysql_async::{Conn, Opts, OptsBuilder};
use std::time::Duration;

/// Connecting (DNS, TCP, TLS, login) takes at most this long.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// The connection options; a URL that does not parse is a fatal error.
pub(super) fn options(cfg: &SyncConfig) -> Result<Opts, SyncError> {
    let Some(url) = &cfg.mysql_url else {
        return Err(SyncError::fatal("sync.mysql_url is not set"));
    };
    let shown = redact_url(url.expose());
    let opts = Opts::from_url(url.expose())
        .map_err(|e| SyncError::fatal(format!("sync.mysql_url = {shown:?} is not usable: {e}")))?;
    let mut builder = OptsBuilder::from_opts(opts)
        .prefer_socket(false)
        .stmt_cache_size(64);
    if let Some(password) = &cfg.password {
        builder = builder.pass(Some(password.expose().to_string()));
    }
    Ok(builder.into())
}

/// Opens one connection, within [`CONNECT_TIMEOUT`].
pub(super) async fn connect(cfg: &SyncConfig) -> Result<Conn, SyncError> {
    let opts = options(cfg)?;
    let target = target(cfg);
    match tokio::time::timeout(CONNECT_TIMEOUT, Conn::new(opts)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(SyncError::mysql(&format!("cannot connect to {target}"), &e)),
        Err(_) => Err(SyncError::new(
            super::SyncErrorKind::Transient,
            format!(
                "cannot connect to {target}: no answer within {}s",
                CONNECT_TIMEOUT.as_secs()
            ),
        )),
    }
}

/// The URL for messages: user, host, port and database, never the password.
pub(super) fn target(cfg: &SyncConfig) -> String {
    cfg.mysql_url
        .as_ref()
        .map_or_else(|| "no server".into(), |u| redact_url(u.expose()))
}
