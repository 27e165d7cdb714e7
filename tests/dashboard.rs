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
    dir: tempfile::TempDir,
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> Dashboard {
    let hash = format!("password_hash = \"{}\"\n", common::appliance::HASH);
    start_in(tempfile::tempdir().unwrap(), &hash)
}

/// The dashboard on a demo log in `dir`, with `password` (a `password_hash = …` line, or none).
fn start_in(dir: tempfile::TempDir, password: &str) -> Dashboard {
    let db = dir.path().join("demo.db");
    let demo = Command::new(env!("CARGO_BIN_EXE_o4send"))
        .args(["demo", "--phones", "40", "--db", db.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(demo.status.success());
    let port = free_port();
    let cfg = dir.path().join("o4send.toml");
    std::fs::write(
        &cfg,
        format!(
            "[appliance]\nname = \"Booth <7>\"\ndb = \"{}\"\ndata_dir = \"{}\"\n[dashboard]\naddress = \"127.0.0.1\"\n\
             port = {}\nhttp_port = {port}\nhttp = \"serve\"\n{password}",
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
    Dashboard { child, port, dir }
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

/// One login attempt through the form: its cookie and token first, as a browser sends it.
fn post_login(port: u16, fields: &str) -> common::http::Reply {
    let form = request(port, "GET", "/login", "", "");
    let pre = form.cookie("o4send_login").unwrap();
    let csrf = form.field("csrf");
    let cookie = format!("o4send_login={pre}");
    request(
        port,
        "POST",
        "/login",
        &cookie,
        &format!("csrf={csrf}&{fields}"),
    )
}

/// The first visit's form: the code from the box's screen and the new password twice.
fn visit(port: u16, code: &str, password: &str, again: &str) -> common::http::Reply {
    post_login(
        port,
        &format!("code={code}&password={password}&again={again}"),
    )
}

/// Over the laptop's USB cable link the first visit needs no code: loopback plays the link here
/// (`usb_address` is the box's own address on it). From any other link the code is asked for
/// (the test below, on the default link address).
#[test]
fn over_the_usb_cable_the_first_visit_needs_no_code() {
    let d = start_in(
        tempfile::tempdir().unwrap(),
        "usb_address = \"127.0.0.1\"\n",
    );
    let form = request(d.port, "GET", "/login", "", "");
    assert!(
        form.body.contains("connected to it by the USB cable"),
        "{}",
        form.body
    );
    assert!(!form.body.contains("name=\"code\""));
    let chosen = post_login(d.port, "password=booth+seven&again=booth+seven");
    assert_eq!(chosen.status, 303, "{}", chosen.body);
    assert!(d.dir.path().join("dashboard-password").exists());
    assert!(!d.dir.path().join("dashboard-first-visit").exists());

    // The same request without the cable (the link elsewhere): refused, nothing set.
    let hall = start_in(tempfile::tempdir().unwrap(), "");
    let no_code = post_login(hall.port, "password=hall+guest+0&again=hall+guest+0");
    assert_eq!(no_code.status, 401, "{}", no_code.body);
    assert!(no_code.body.contains("Wrong code"));
    assert!(!hall.dir.path().join("dashboard-password").exists());
}

#[test]
fn without_a_password_only_the_code_on_the_boxs_screen_sets_one() {
    let d = start_in(tempfile::tempdir().unwrap(), "");
    let code_file = d.dir.path().join("dashboard-first-visit");
    let code = std::fs::read_to_string(&code_file).unwrap();
    let form = request(d.port, "GET", "/login", "", "");
    assert!(form.body.contains("name=\"code\"") && form.body.contains("choose its password"));

    assert_eq!(
        request(d.port, "GET", "/", "", "").status,
        303,
        "no page before"
    );

    // Someone on the hall's network, without the code: refused, then slowed down.
    let guess = visit(d.port, "12345678", "hall+guest+1", "hall+guest+1");
    assert_eq!(guess.status, if code == "12345678" { 303 } else { 401 });
    assert!(guess.body.contains("Wrong code"), "{}", guess.body);
    assert!(!d.dir.path().join("dashboard-password").exists());
    let again = visit(d.port, &code, "booth+seven", "booth+seven");
    assert_eq!(
        again.status, 429,
        "right after a wrong code this client must wait"
    );

    std::thread::sleep(Duration::from_millis(1100));
    let differ = visit(d.port, &code, "booth+seven", "booth+eight");
    assert!(
        differ.body.contains("The two passwords differ"),
        "{}",
        differ.body
    );
    std::thread::sleep(Duration::from_millis(2100));
    let spaced = format!("{}+{}", &code[..4], &code[4..]);
    let chosen = visit(d.port, &spaced, "booth+seven", "booth+seven");
    assert_eq!(chosen.status, 303, "{}", chosen.body);
    let session = chosen.cookie("o4send_session").unwrap();
    assert_eq!(
        request(d.port, "GET", "/", &format!("o4send_session={session}"), "").status,
        200
    );
    let stored = d.dir.path().join("dashboard-password");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&stored).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    assert!(std::fs::read_to_string(&stored).unwrap().starts_with("$6$"));
    assert!(!code_file.exists(), "the code is gone once used");
    let used = visit(d.port, &code, "hall+guest+1", "hall+guest+1");
    assert_eq!(
        used.status, 401,
        "a used code sets nothing: it is a login now"
    );

    // Changed on the System page (after the wait the wrong login above earned), and kept across
    // a restart.
    std::thread::sleep(Duration::from_millis(1100));
    let cookie = format!("o4send_session={session}");
    let page = request(d.port, "GET", "/system", &cookie, "");
    assert!(page.body.contains("Change the password"));
    let csrf = page.field("csrf");
    let change = |form: &str| request(d.port, "POST", "/system/password", &cookie, form);
    let new = "current=booth+seven&password=booth+nine&again=booth+nine";
    assert_eq!(change(&format!("csrf=x&{new}")).status, 403);
    let ok = change(&format!("csrf={csrf}&{new}"));
    assert_eq!(ok.status, 303, "{}", ok.body);
    let mut d = d;
    let _ = d.child.kill();
    let _ = d.child.wait();
    let dir = std::mem::replace(&mut d.dir, tempfile::tempdir().unwrap());
    drop(d);
    let d = start_in(dir, "");
    assert!(!d.dir.path().join("dashboard-first-visit").exists());
    assert_eq!(post_login(d.port, "password=booth+nine").status, 303);
}

#[test]
fn a_password_from_the_settings_is_changed_there() {
    let d = start();
    let ok = post_login(d.port, "password=booth7");
    let cookie = format!("o4send_session={}", ok.cookie("o4send_session").unwrap());
    let page = request(d.port, "GET", "/system", &cookie, "");
    assert!(page.body.contains("change it there"), "{}", page.body);
    let form = format!(
        "csrf={}&current=booth7&password=booth+nine&again=booth+nine",
        page.field("csrf")
    );
    let refused = request(d.port, "POST", "/system/password", &cookie, &form);
    assert_eq!(refused.status, 400);
    assert!(!d.dir.path().join("dashboard-password").exists());
}
