//! Who is asking: the session cookie checked on every page and every write, and the CSRF token
//! every write must carry. A page without a session goes to the login; a write without one, or
//! with a token that is not the session's, is refused.

use super::App;
use crate::config::password::same;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::{header, request::Parts, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

pub const SESSION: &str = "o4send_session";

/// The header `/live.js` sends with its polls.
pub const POLL: &str = "x-o4send-poll";

/// A logged-in request.
pub struct Authed {
    pub csrf: String,
    /// The session and client in words, for the log (`session 3fa2c1d0 from 10.0.0.5`).
    pub who: String,
}

impl Authed {
    /// Whether `token` is this session's CSRF token.
    pub fn is_ours(&self, token: &str) -> bool {
        same(&self.csrf, token)
    }

    /// The answer to a write that did not come from the dashboard's own page.
    pub fn forged() -> Response {
        (
            StatusCode::FORBIDDEN,
            "refused: this request did not come from the dashboard's own page",
        )
            .into_response()
    }
}

impl FromRequestParts<Arc<App>> for Authed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Response> {
        // A live page's poll is not a person using the dashboard: it leaves the idle time running.
        let touch = !parts.headers.contains_key(POLL);
        let session = cookie(&parts.headers, SESSION)
            .and_then(|id| app.sessions.get(&id, Instant::now(), touch));
        let Some(s) = session else {
            return Err(if parts.method == Method::GET {
                Redirect::to("/login").into_response()
            } else {
                (StatusCode::FORBIDDEN, "refused: not logged in").into_response()
            });
        };
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or("?".to_string(), |c| c.0.ip().to_string());
        Ok(Authed {
            csrf: s.csrf,
            who: format!("session {} from {ip}", s.tag),
        })
    }
}

/// The value of cookie `name`.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == name).then(|| v.to_string())
        })
}
