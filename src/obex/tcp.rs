//! IrOBEX over TCP (port 650): how the interop tests and lab setups reach an OBEX peer
//! without a radio.
//!
//! Failing to reach the peer is an attempt outcome like any other, so errors come back as an
//! [`AttemptResult`] (Unreachable) rather than an `io::Error`.

use crate::model::outcome::{AttemptResult, Outcome};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::timeout;

/// The port IrOBEX assigns to OBEX over TCP.
pub const OBEX_TCP_PORT: u16 = 650;

/// Connects to "HOST", "HOST:PORT", "[v6]" or "[v6]:PORT" (a bare IPv6 address means port 650).
/// Errors and timeouts come back as Unreachable with the error text in the reason; a target that
/// cannot be parsed comes back as Failed.
pub async fn connect(target: &str, limit: Duration) -> Result<TcpStream, AttemptResult> {
    let (host, port) = split_target(target)
        .map_err(|reason| AttemptResult::new(Outcome::Failed, None, reason, 0))?;
    let unreachable = |reason: String| AttemptResult::new(Outcome::Unreachable, None, reason, 0);
    match timeout(limit, TcpStream::connect((host, port))).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(e)) => Err(unreachable(format!("connect to {target}: {e}"))),
        Err(_) => Err(unreachable(format!(
            "connect to {target}: timed out after {limit:?}"
        ))),
    }
}

/// Splits a target into host and port.
pub fn split_target(target: &str) -> Result<(&str, u16), String> {
    let target = target.trim();
    let bad = |why: &str| format!("invalid OBEX TCP target {target:?}: {why}");
    if let Some(rest) = target.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(|| bad("missing ']'"))?;
        let port = match after {
            "" => OBEX_TCP_PORT,
            _ => parse_port(
                after
                    .strip_prefix(':')
                    .ok_or_else(|| bad("expected ':' after ']'"))?,
            )
            .ok_or_else(|| bad("bad port"))?,
        };
        return non_empty(host, port).ok_or_else(|| bad("empty host"));
    }
    match target.split_once(':') {
        Some((_, tail)) if tail.contains(':') => {
            non_empty(target, OBEX_TCP_PORT).ok_or_else(|| bad("empty host"))
        }
        Some((host, port)) => {
            let port = parse_port(port).ok_or_else(|| bad("bad port"))?;
            non_empty(host, port).ok_or_else(|| bad("empty host"))
        }
        None => non_empty(target, OBEX_TCP_PORT).ok_or_else(|| bad("empty host")),
    }
}

fn parse_port(s: &str) -> Option<u16> {
    s.parse().ok()
}

fn non_empty(host: &str, port: u16) -> Option<(&str, u16)> {
    (!host.is_empty()).then_some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(split_target("127.0.0.1"), Ok(("127.0.0.1", 650)));
        assert_eq!(split_target("localhost:6500"), Ok(("localhost", 6500)));
        assert_eq!(split_target("[::1]:651"), Ok(("::1", 651)));
        assert_eq!(split_target("[::1]"), Ok(("::1", 650)));
        assert_eq!(split_target("::1"), Ok(("::1", 650)));
        assert!(split_target("host:port").is_err());
        assert!(split_target("[::1").is_err());
        assert!(split_target(":650").is_err());
        assert!(split_target("").is_err());
    }

    #[tokio::test]
    async fn refused_connection_is_unreachable() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let err = connect(&addr.to_string(), Duration::from_secs(5))
            .await
            .unwrap_err();
        assert_eq!(err.outcome, Outcome::Unreachable);
        assert!(err.reason.contains(&addr.to_string()), "{}", err.reason);
    }

    #[tokio::test]
    async fn bad_target_is_failed() {
        let err = connect("nohost:xx", Duration::from_secs(1))
            .await
            .unwrap_err();
        assert_eq!(err.outcome, Outcome::Failed);
        assert!(err.reason.contains("bad port"));
    }
}
