//! The dashboard's routes: who may see what, the headers every answer carries, and logging in
//! and out. The pages are in `views`, the writes in `steer`, the CSV in `export`.

use super::auth::{cookie, Authed, SESSION};
use super::serve::Local;
use super::sessions::token;
use super::throttle::NotNow;
use super::{export, pages, password_steer, steer, system_steer, views, App};
use crate::config::password::same;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{AppendHeaders, Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// The token that ties a login form to the browser that fetched it (no session yet).
const LOGIN: &str = "o4send_login";

/// The largest login request (the form's two fields, well within this).
const LOGIN_BODY_MAX: usize = 4096;

pub fn router(app: Arc<App>) -> Router {
    // An upload may carry a whole bundle; every other form is small.
    let upload_limit = usize::try_from(app.cfg.bundle.max_bundle_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(1 << 20);
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route(
            "/login",
            get(login_page)
                .post(login)
                .layer(DefaultBodyLimit::max(LOGIN_BODY_MAX)),
        )
        .route("/logout", post(logout))
        .route("/", get(views::overview))
        .route("/live.js", get(live_js))
        .route("/phones", get(views::phones).post(steer::phone))
        .route(
            "/campaign",
            get(views::campaign)
                .post(steer::upload)
                .layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/campaign/rollback", post(steer::rollback))
        .route("/report", get(views::report))
        .route("/poster.svg", get(views::poster))
        .route("/export", get(export::page))
        .route("/export.csv", get(export::csv))
        .route("/system", get(views::system))
        .route(
            "/system/upload",
            post(system_steer::upload).layer(DefaultBodyLimit::max(
                (system_steer::MAX_UPDATE_BYTES + (1 << 20)) as usize,
            )),
        )
        .route("/system/restart", post(system_steer::restart))
        .route("/system/password", post(password_steer::change))
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found") })
        .layer(axum::middleware::map_response(secure_headers))
        .layer(axum::middleware::from_fn(super::host_check::only_our_names))
        .with_state(app)
}

async fn secure_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    r
}

async fn live_js(_who: Authed) -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        pages::LIVE_JS,
    )
        .into_response()
}

/// A cookie for this dashboard only: never readable by a script, never sent by another site,
/// and over HTTPS never sent in clear text.
fn set_cookie(name: &str, value: &str, max_age: u64) -> (header::HeaderName, String) {
    let secure = if super::transport::is_plain() {
        ""
    } else {
        "; Secure"
    };
    (
        header::SET_COOKIE,
        format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"),
    )
}

/// The login form; a browser that already holds a login token keeps it, so a second tab (or a
/// fetch that landed here) does not spoil the form of the first.
async fn login_page(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    local: Option<Extension<Local>>,
    headers: HeaderMap,
) -> Response {
    let t = cookie(&headers, LOGIN)
        .filter(|c| c.len() == 64 && c.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(token);
    let c = set_cookie(LOGIN, &t, 600);
    let usb = local.is_some_and(|Extension(l)| app.over_usb(l, peer));
    ([c], Html(login_form(&app, &t, None, usb))).into_response()
}

/// The login form, or the first visit's while no password is set (without the code over the
/// USB cable).
fn login_form(app: &App, csrf: &str, message: Option<&str>, usb: bool) -> String {
    match app.password.hash() {
        Some(_) => pages::login(csrf, message, &app.fingerprint),
        None => pages::first_visit(csrf, message, &app.fingerprint, usb),
    }
}

#[derive(Deserialize)]
struct LoginForm {
    password: String,
    csrf: String,
    /// The first visit's: the code from the box's screen and the password once more.
    code: Option<String>,
    again: Option<String>,
}

async fn login(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    local: Option<Extension<Local>>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let ip = peer.ip();
    let now = Instant::now();
    let from_our_form = cookie(&headers, LOGIN).is_some_and(|c| same(&c, &form.csrf));
    if !from_our_form {
        return (
            StatusCode::FORBIDDEN,
            "the login form has expired or came from elsewhere: reload the page",
        )
            .into_response();
    }
    let check = match app.throttle.begin(ip, now) {
        Ok(check) => check,
        Err(not_now) => return too_many(&not_now),
    };
    let usb = local.is_some_and(|Extension(l)| app.over_usb(l, peer));
    let verdict = match app.password.hash() {
        Some(hash) => password_ok(hash, form.password).await,
        None => first_visit(&app, &form, usb).await,
    };
    if let Err(why) = verdict {
        check.failed(Instant::now());
        tracing::warn!(client = %ip, "dashboard: {why}");
        let t = token();
        let c = set_cookie(LOGIN, &t, 600);
        return (
            StatusCode::UNAUTHORIZED,
            [c],
            Html(login_form(&app, &t, Some(&why), usb)),
        )
            .into_response();
    }
    check.succeeded();
    let id = app.sessions.start(now);
    let c = set_cookie(SESSION, &id, app.cfg.dashboard.session_max_secs);
    tracing::info!(client = %ip, "dashboard: logged in");
    (
        AppendHeaders([c, set_cookie(LOGIN, "", 0)]),
        Redirect::to("/"),
    )
        .into_response()
}

async fn password_ok(hash: String, password: String) -> Result<(), String> {
    let ok = super::first_visit::matches(hash, password).await;
    ok.then_some(())
        .ok_or_else(|| "Wrong password.".to_string())
}

/// The first visit: the code from the box's screen (not over the USB cable), then the new
/// password, twice, kept.
async fn first_visit(app: &Arc<App>, form: &LoginForm, usb: bool) -> Result<(), String> {
    if !usb
        && !app
            .password
            .code_matches(form.code.as_deref().unwrap_or(""))
    {
        return Err("Wrong code: it is on the box's screen and in `o4send status`.".into());
    }
    if form.again.as_deref() != Some(form.password.as_str()) {
        return Err("The two passwords differ.".into());
    }
    app.keep_password(form.password.clone()).await?;
    let over = if usb {
        "over the USB cable"
    } else {
        "with the code"
    };
    tracing::info!("dashboard: the first visit chose the password ({over})");
    Ok(())
}

/// A login not checked now: the page says when to try again (its form keeps the browser's token).
fn too_many(not_now: &NotNow) -> Response {
    let msg = match not_now {
        NotNow::Wait(wait) => format!(
            "Too many wrong passwords: try again in {} s.",
            wait.as_secs().max(1)
        ),
        NotNow::Busy => "Another login is being checked: try again in a moment.".to_string(),
    };
    (
        StatusCode::TOO_MANY_REQUESTS,
        Html(pages::login_again(&msg)),
    )
        .into_response()
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    who: Authed,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !who.is_ours(&form.csrf) {
        return Authed::forged();
    }
    if let Some(id) = cookie(&headers, SESSION) {
        app.sessions.end(&id);
    }
    ([set_cookie(SESSION, "", 0)], Redirect::to("/login")).into_response()
}
