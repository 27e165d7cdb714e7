//! From the config to a MySQL connection: the URL (which may ask for TLS with
//! `require_ssl=true`), the password from `sync.password` or `O4SEND_SYNC__PASSWORD` when given,
//! and a bound on how long connecting may take. A URL may name several servers (a cluster's
//! nodes, `super::hosts`): they are tried in the order given. Messages show the URL without its
//! password.

use super::error::SyncError;
use crate::config::{redact_url, SyncConfig};
use mysql_async::{Conn, Opts, OptsBuilder};
use std::time::Duration;

/// Connecting (DNS, TCP, TLS, login) takes at most this long.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// With several servers, each one gets at least this long before the next is tried.
const PER_HOST_MIN: Duration = Duration::from_secs(5);

/// The connection options for each server the URL names, with its URL for messages; a URL that
/// does not parse is a fatal error.
pub(super) fn options(cfg: &SyncConfig) -> Result<Vec<(String, Opts)>, SyncError> {
    let Some(url) = &cfg.mysql_url else {
        return Err(SyncError::fatal("sync.mysql_url is not set"));
    };
    super::hosts::split(url.expose())
        .iter()
        .map(|one| host_options(cfg, one))
        .collect()
}

/// The options for one server.
fn host_options(cfg: &SyncConfig, url: &str) -> Result<(String, Opts), SyncError> {
    let shown = redact_url(url);
    let opts = Opts::from_url(url)
        .map_err(|e| SyncError::fatal(format!("sync.mysql_url = {shown:?} is not usable: {e}")))?;
    let mut builder = OptsBuilder::from_opts(opts)
        .prefer_socket(false)
        .stmt_cache_size(64);
    if let Some(password) = &cfg.password {
        builder = builder.pass(Some(password.expose().to_string()));
    }
    Ok((shown, builder.into()))
}

/// Opens one connection to the first server that answers, in the URL's order; each within its
/// share of [`CONNECT_TIMEOUT`]. When none answers, the last one's failure is the error.
pub(super) async fn connect(cfg: &SyncConfig) -> Result<Conn, SyncError> {
    let all = options(cfg)?;
    let each = (CONNECT_TIMEOUT / all.len() as u32).max(PER_HOST_MIN);
    let mut failed = None;
    for (target, opts) in all {
        match connect_one(&target, opts, each).await {
            Ok(conn) => return Ok(conn),
            Err(e) => failed = Some(e),
        }
    }
    Err(failed.expect("at least one server"))
}

/// One server, within `timeout`.
async fn connect_one(target: &str, opts: Opts, timeout: Duration) -> Result<Conn, SyncError> {
    match tokio::time::timeout(timeout, Conn::new(opts)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(SyncError::mysql(&format!("cannot connect to {target}"), &e)),
        Err(_) => Err(SyncError::new(
            super::SyncErrorKind::Transient,
            format!(
                "cannot connect to {target}: no answer within {}s",
                timeout.as_secs()
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
