//! The dashboard answers only requests addressed to it: by an IP address, `localhost`, or the
//! box's own host name (bare or `.local`). A page on another site that makes the operator's
//! browser resolve its own name to the box's address (DNS rebinding) sends that name in `Host:`,
//! and is refused before any handler runs, so no script on it can read a page or log in.

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::IpAddr;

pub async fn only_our_names(req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if is_ours(host, &host_name()) {
        return next.run(req).await;
    }
    (
        StatusCode::MISDIRECTED_REQUEST,
        "this is the o4send dashboard: open it by the box's address or name",
    )
        .into_response()
}

/// `host` (a Host header: name or address, maybe a port) names this box called `own`.
pub fn is_ours(host: &str, own: &str) -> bool {
    let name = strip_port(host).trim_end_matches('.').to_ascii_lowercase();
    if name.parse::<IpAddr>().is_ok() {
        return true;
    }
    let own = own.to_ascii_lowercase();
    name == "localhost" || (!own.is_empty() && (name == own || name == format!("{own}.local")))
}

/// The name without `:port`; an IPv6 literal without its brackets.
pub fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("");
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !name.contains(':') => {
            name
        }
        _ => host,
    }
}

/// The kernel's host name (uname: /proc/sys is hidden from the dashboard's sandbox).
pub fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most `len` bytes into the buffer it is given.
    if unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } != 0 {
        return String::new();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_own_names_only() {
        for ok in [
            "192.168.1.20",
            "192.168.1.20:8080",
            "[fe80::1]:8080",
            "[2001:db8::5]",
            "localhost:8080",
            "o4send-3fa2",
            "O4SEND-3FA2.local:8080",
            "o4send-3fa2.local.",
        ] {
            assert!(is_ours(ok, "o4send-3fa2"), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8080",
            "o4send-3fa2.evil.example",
            "",
            "192.168.1.20.nip.io",
        ] {
            assert!(!is_ours(bad, "o4send-3fa2"), "{bad}");
        }
        assert!(
            !is_ours("anything.local", ""),
            "no own name: only addresses and localhost"
        );
    }
}
