//! The "am I online?" probes of the phones' makers, and where every other stray request goes.
//!
//! With the hotspot's DNS answering every name with the appliance, each probe reaches this
//! server under its own host name: Android's `connectivitycheck.gstatic.com/generate_204`
//! (expects 204), Apple's `captive.apple.com/hotspot-detect.html` (expects a "Success" page),
//! Windows' `www.msftconnecttest.com/connecttest.txt`, Firefox's
//! `detectportal.firefox.com/canonical.html`. Any other answer means "captive": a redirect to the
//! page makes each phone open its sign-in window there. So does any other address a visitor types.

use super::Portal;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Every request no route takes: to the page.
pub async fn elsewhere(State(p): State<Arc<Portal>>) -> Response {
    to_page(&p)
}

/// A 302 to the page, the answer captive portals give and every probe understands.
pub fn to_page(p: &Portal) -> Response {
    (
        StatusCode::FOUND,
        [(header::LOCATION, format!("http://{}/", p.host))],
        "",
    )
        .into_response()
}
