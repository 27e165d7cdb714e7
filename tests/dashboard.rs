//! Acceptance (issue 13, first part): the dashboard over real HTTP against the real binary —
//! nothing but /health without logging in, a wrong password slows that client down, the right one
//! opens today's figures from the log, a logout without the page's CSRF token is refused, and
//! every page carries a strict Content-Security-Policy. (The browser tests come with the rest of
//! the dashboard.)

mod common;

use common::appliance::free_port;
use common::http::request;
use std::net::TcpStream;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

struct Dashboard {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> Dashboard {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let demo = Command::new(env!("CARGO_BIN_EXE_o4send"))
        .args(["demo", "--phones", "40", "--db", db.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(demo.status.success());
    let hash = common::appliance::HASH;
    let port = free_port();
    let cfg = dir.path().join("o4send.toml");
    std::fs::write(
        &cfg,
        format!(
            "[appliance]\nname = \"Booth <7>\"\ndb = \"{}\"\ndata_dir = \"{}\"\n[dashboard]\naddress = \"127.0.0.1\"\n\
             port = {}\nhttp_port = {port}\nhttp = \"serve\"\npassword_hash = \"{hash}\"\n",
            db.display(),
            dir.path().display(),
            free_port()
        ),
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_o4send"))
        .args(["dashboard", "--config", cfg.to_str().unwrap()])
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < until, "the dashboard did not listen");
        std::thread::sleep(Duration::from_millis(100));
    }
    Dashboard {
        child,
        port,
        _dir: dir,
    }
}

#[test]
fn nothing_without_a_login_and_the_day_with_one() {
    let d = start();
    let health = request(d.port, "GET", "/health", "", "");
    assert_eq!((health.status, health.body.as_str()), (200, "ok"));
    let anon = request(d.port, "GET", "/", "", "");
    assert_eq!(anon.status, 303);
    assert!(anon.head.contains("location: /login"));
    assert!(anon
        .head
        .contains("content-security-policy: default-src 'none'"));
    assert_eq!(request(d.port, "GET", "/report.csv", "", "").status, 404);

    let form = request(d.port, "GET", "/login", "", "");
    let pre = form.cookie("o4send_login").unwrap();
    let csrf = form.field("csrf");
    let forged = request(
        d.port,
        "POST",
        "/login",
        "",
        &format!("csrf={csrf}&password=booth7"),
    );
    assert_eq!(
        forged.status, 403,
        "a login without the form's cookie is refused"
    );

    let wrong = request(
        d.port,
        "POST",
        "/login",
        &format!("o4send_login={pre}"),
        &format!("csrf={csrf}&password=booth8"),
    );
    assert_eq!(wrong.status, 401);
    let pre = wrong.cookie("o4send_login").unwrap();
    let csrf = wrong.field("csrf");
    let again = request(
        d.port,
        "POST",
        "/login",
        &format!("o4send_login={pre}"),
        &format!("csrf={csrf}&password=booth7"),
    );
    assert_eq!(
        again.status, 429,
        "right after a wrong password this client must wait"
    );
    assert!(again.body.contains("try again in"));

    std::thread::sleep(Duration::from_millis(1100));
    let ok = request(
        d.port,
        "POST",
        "/login",
        &format!("o4send_login={pre}"),
        &format!("csrf={csrf}&password=booth7"),
    );
    assert_eq!(ok.status, 303, "{}", ok.body);
    let session = ok.cookie("o4send_session").unwrap();
    assert!(ok.head.contains("httponly") && ok.head.contains("samesite=strict"));

    let page = request(d.port, "GET", "/", &format!("o4send_session={session}"), "");
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("<h1>Booth &lt;7&gt;</h1>"),
        "the name is escaped"
    );
    assert!(page.body.contains("Acceptance rate") && page.body.contains("<svg"));

    let no_token = request(
        d.port,
        "POST",
        "/logout",
        &format!("o4send_session={session}"),
        "csrf=forged",
    );
    assert_eq!(no_token.status, 403, "a cross-site POST has no CSRF token");
    let csrf = page.field("csrf");
    let out = request(
        d.port,
        "POST",
        "/logout",
        &format!("o4send_session={session}"),
        &format!("csrf={csrf}"),
    );
    assert_eq!(out.status, 303);
    assert_eq!(
        request(d.port, "GET", "/", &format!("o4send_session={session}"), "").status,
        303
    );
}

#[test]
fn no_password_no_dashboard() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("o4send.toml");
    std::fs::write(&cfg, "[dashboard]\nport = 1\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_o4send"))
        .args(["dashboard", "--config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78));
    assert!(String::from_utf8_lossy(&out.stderr).contains("dashboard.password_hash is not set"));
}
