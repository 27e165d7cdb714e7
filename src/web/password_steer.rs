//! The System page's password change: the current password, then the new one twice. Only for a
//! password chosen in the dashboard; one from the settings (Imager's form, `o4send.toml`) is
//! changed there, since it replaces this one at every start. Wrong current passwords slow the
//! client down like failed logins.

use super::auth::Authed;
use super::App;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

#[derive(Deserialize)]
pub struct ChangeForm {
    csrf: String,
    current: String,
    password: String,
    again: String,
}

pub async fn change(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    who: Authed,
    Form(f): Form<ChangeForm>,
) -> Response {
    if !who.is_ours(&f.csrf) {
        return Authed::forged();
    }
    if !app.password.changeable() {
        return refused("the password comes from Imager's form or o4send.toml: change it there");
    }
    let Ok(check) = app.throttle.begin(peer.ip(), Instant::now()) else {
        return refused("too many wrong passwords: try again in a moment");
    };
    let hash = app.password.hash().unwrap_or_default();
    if !super::first_visit::matches(hash, f.current).await {
        check.failed(Instant::now());
        return refused("the current password is wrong");
    }
    check.succeeded();
    if f.password != f.again {
        return refused("the two new passwords differ");
    }
    match app.keep_password(f.password).await {
        Ok(()) => {
            tracing::info!("dashboard: {} changed the password", who.who);
            Redirect::to("/system").into_response()
        }
        Err(why) => refused(&why),
    }
}

fn refused(why: &str) -> Response {
    (StatusCode::BAD_REQUEST, format!("refused: {why}")).into_response()
}
