//! The dashboard's plain-HTTP port when it only redirects: a browser given `o4send-3fa2.local`
//! or `http://…:8080` lands on the same page over HTTPS. Only names the dashboard answers to are
//! redirected (the Host check runs first, so no other site can borrow this as a redirector), and
//! `/health` is answered here too, for whatever watches the box over plain HTTP.

use super::host_check::strip_port;
use axum::extract::State;
use axum::http::{header, HeaderMap, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

/// Redirects every request to HTTPS on `https_port`.
pub fn router(https_port: u16) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .fallback(to_https)
        .layer(axum::middleware::from_fn(super::host_check::only_our_names))
        .with_state(https_port)
}

async fn to_https(State(port): State<u16>, headers: HeaderMap, uri: Uri) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    Redirect::temporary(&location(host, port, path)).into_response()
}

/// `https://HOST:PORT/PATH` for the Host a browser sent (an IPv6 address in brackets).
fn location(host: &str, port: u16, path: &str) -> String {
    let name = strip_port(host);
    if name.contains(':') {
        format!("https://[{name}]:{port}{path}")
    } else {
        format!("https://{name}:{port}{path}")
    }
}

#[cfg(test)]
mod tests {
    use super::location;

    #[test]
    fn the_same_name_and_page_over_https() {
        assert_eq!(
            location("o4send-3fa2.local:8080", 8443, "/phones?x=1"),
            "https://o4send-3fa2.local:8443/phones?x=1"
        );
        assert_eq!(
            location("[fe80::1]:8080", 8443, "/"),
            "https://[fe80::1]:8443/"
        );
        assert_eq!(
            location("192.168.1.20", 8443, "/"),
            "https://192.168.1.20:8443/"
        );
    }
}
