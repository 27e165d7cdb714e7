//! The dashboard check: every form and upload handler behind the real router, reached with a
//! logged-in session, so the fuzzer gets past the session and CSRF checks into the form decoding,
//! the multipart reader and the validation behind them.

use axum::body::{to_bytes, Body};
use axum::extract::ConnectInfo;
use axum::http::{header, Request, Response};
use axum::Router;
use o4send::config::Config;
use o4send::web::{router, App};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use tower_service::Service;

/// The routes that take a body, picked by the input's first byte.
const ROUTES: [(&str, Kind); 7] = [
    ("/login", Kind::Form),
    ("/logout", Kind::Form),
    ("/phones", Kind::Form),
    ("/campaign/rollback", Kind::Form),
    ("/system/restart", Kind::Form),
    ("/campaign", Kind::Multipart),
    ("/system/upload", Kind::Multipart),
];

#[derive(Clone, Copy)]
enum Kind {
    Form,
    Multipart,
}

const FORM: &str = "application/x-www-form-urlencoded";

/// The placeholder an input writes where the session's CSRF token goes.
const TOKEN: &[u8] = b"CSRF";
/// `openssl passwd -6 -salt saltsalt booth7`: 5000 rounds, cheap enough per login.
const HASH: &str = "$6$saltsalt$r2YUdksCwBi0TxgY5/igPoE32SQdJInjlBc/mZdOACDTHxZsEcaw1zA7.5fSL/uwSv53yGMlObmATakz.YTe71";

/// The first byte picks the route, the rest is the body (multipart with boundary `x`), `CSRF`
/// standing for the session's token. No body may make the server fail (5xx) or answer without
/// its security headers.
pub fn web_forms(data: &[u8]) {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let (path, kind) = ROUTES[usize::from(pick) % ROUTES.len()];
    let s = state();
    let session = s.session.lock().unwrap().clone();
    let body = with_token(body, session.csrf.as_bytes());
    let content_type = match kind {
        Kind::Form => FORM,
        Kind::Multipart => "multipart/form-data; boundary=x",
    };
    let cookies = format!(
        "o4send_session={}; o4send_login={}",
        session.id, session.csrf
    );
    let request = post(path, content_type, &cookies, body);
    let (status, csp) = super::obex::runtime().block_on(async {
        let r = send(&s.router, request, FUZZER).await;
        if path == "/logout" {
            // A logout that worked ended the session the other inputs need.
            *s.session.lock().unwrap() = log_in(&s.router).await;
        }
        (
            r.status(),
            r.headers().contains_key(header::CONTENT_SECURITY_POLICY),
        )
    });
    assert!(!status.is_server_error(), "{path}: {status}");
    assert!(csp, "{path}: no Content-Security-Policy");
    clear(&s.data_dir);
}

/// The router, and a session logged in once for the whole run (again after a logout).
struct State {
    router: Router,
    session: Mutex<Session>,
    data_dir: PathBuf,
}

#[derive(Clone)]
struct Session {
    id: String,
    csrf: String,
}

fn state() -> &'static State {
    static STATE: OnceLock<State> = OnceLock::new();
    STATE.get_or_init(|| super::obex::runtime().block_on(start()))
}

async fn start() -> State {
    let data_dir = std::env::temp_dir().join(format!("o4send-fuzz-web-{}", std::process::id()));
    std::fs::create_dir_all(&data_dir).expect("a data directory");
    let mut cfg = Config::default();
    cfg.dashboard.password_hash = Some(HASH.into());
    cfg.appliance.data_dir = data_dir.clone();
    cfg.appliance.live_dir = data_dir.join("live");
    let router = router(App::new(cfg).expect("the dashboard starts"));
    let session = Mutex::new(log_in(&router).await);
    State {
        router,
        session,
        data_dir,
    }
}

async fn log_in(router: &Router) -> Session {
    let form = "password=booth7&csrf=0123";
    let login = post("/login", FORM, "o4send_login=0123", form.into());
    let r = send(router, login, OPERATOR).await;
    let id = cookie(&r, "o4send_session").expect("logged in");
    let mut page = Request::get("/campaign").header(header::COOKIE, format!("o4send_session={id}"));
    page = page.header(header::HOST, "127.0.0.1");
    let r = send(router, page.body(Body::empty()).unwrap(), OPERATOR).await;
    let html = to_bytes(r.into_body(), 1 << 20)
        .await
        .expect("the campaign page");
    let csrf = csrf_in(&String::from_utf8_lossy(&html)).expect("a CSRF token on the page");
    Session { id, csrf }
}

fn post(path: &str, content_type: &str, cookies: &str, body: Vec<u8>) -> Request<Body> {
    Request::post(path)
        .header(header::HOST, "127.0.0.1")
        .header(header::CONTENT_TYPE, content_type)
        .header(header::COOKIE, cookies)
        .body(Body::from(body))
        .expect("a request")
}

/// The inputs' client; our own logins come from another address, which the throttle on wrong
/// passwords (per address) keeps apart.
const FUZZER: &str = "127.0.0.1:40000";
const OPERATOR: &str = "127.0.0.2:40000";

async fn send(router: &Router, mut request: Request<Body>, from: &str) -> Response<Body> {
    let peer: SocketAddr = from.parse().expect("an address");
    request.extensions_mut().insert(ConnectInfo(peer));
    let mut service = router.clone();
    match service.call(request).await {
        Ok(r) => r,
        Err(never) => match never {},
    }
}

fn cookie(r: &Response<Body>, name: &str) -> Option<String> {
    r.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(name)?.strip_prefix('=')?.split(';').next())
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

fn csrf_in(html: &str) -> Option<String> {
    let after = html.split("name=\"csrf\" value=\"").nth(1)?;
    Some(after.split('"').next()?.to_string())
}

fn with_token(body: &[u8], token: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut rest = body;
    while !rest.is_empty() {
        if rest.starts_with(TOKEN) {
            out.extend_from_slice(token);
            rest = &rest[TOKEN.len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    out
}

/// Uploads, orders and restart requests land in the data directory: emptied after each input.
fn clear(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let _ = std::fs::remove_dir_all(e.path()).or_else(|_| std::fs::remove_file(e.path()));
    }
}
