//! The headless-Chromium driver (tests/common/browser.rs) proved on a tiny local site before the
//! dashboard tests rely on it: a login form that sets an HttpOnly cookie and redirects, a page
//! that greets by that cookie, and a CSV only the cookie unlocks, served by a few lines of
//! std::net in a thread. Also: a missing Chromium fails under CI=true and is a visible skip
//! elsewhere.

mod common;

use common::browser::{Browser, Page};
use serde_json::json;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const FORM: &str = r#"<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign in</title>
<style>body{font-family:sans-serif;margin:1em;background:#eef}main{max-width:40em;margin:auto}
.tall{height:1500px;background:linear-gradient(#fc6,#69f)}</style></head>
<body><main><h1>Booth sign-in</h1>
<form id="login" method="post" action="/login"><label>Name <input name="name" required></label>
<button>Sign in</button></form><div class="tall"></div><p id="end">end of the form page</p>
</main></body></html>"#;

/// One request's method, path, Cookie header and body.
struct Request {
    method: String,
    path: String,
    cookie: String,
    body: String,
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut words = line.split_whitespace();
    let (method, path) = (words.next()?.to_string(), words.next()?.to_string());
    let (mut length, mut cookie) = (0, String::new());
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let Some((name, value)) = header.trim_end().split_once(": ") else {
            break;
        };
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.parse().ok()?,
            "cookie" => cookie = value.to_string(),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let body = String::from_utf8_lossy(&body).into_owned();
    Some(Request {
        method,
        path,
        cookie,
        body,
    })
}

/// The signed-in name, from the `session` cookie.
fn session(cookie: &str) -> Option<&str> {
    cookie
        .split("; ")
        .find_map(|c| c.strip_prefix("session="))
        .filter(|name| !name.is_empty())
}

/// Status line plus headers, and the body.
fn route(request: &Request) -> (String, String) {
    let html = "Content-Type: text/html; charset=utf-8";
    match (request.method.as_str(), request.path.as_str()) {
        ("GET", "/") => (format!("200 OK\r\n{html}"), FORM.to_string()),
        ("POST", "/login") => {
            let name = request.body.strip_prefix("name=").unwrap_or_default();
            let headers = format!(
                "303 See Other\r\nLocation: /result\r\n\
                 Set-Cookie: session={name}; Path=/; HttpOnly; SameSite=Lax"
            );
            (headers, String::new())
        }
        ("GET", "/result") => match session(&request.cookie) {
            Some(name) => (
                format!("200 OK\r\n{html}"),
                format!(
                    "<!doctype html><title>Welcome</title><h1>Welcome, {name}</h1>\
                     <a id=\"csv\" href=\"/data.csv\">download</a> <a id=\"back\" href=\"/\">back</a>"
                ),
            ),
            None => ("403 Forbidden".to_string(), "not signed in".to_string()),
        },
        ("GET", "/data.csv") => match session(&request.cookie) {
            Some(name) => (
                "200 OK\r\nContent-Type: text/csv\r\n\
                 Content-Disposition: attachment; filename=\"data.csv\""
                    .to_string(),
                format!("who,phones\n{name},3\n"),
            ),
            None => ("403 Forbidden".to_string(), "not signed in".to_string()),
        },
        _ => ("404 Not Found".to_string(), "no such page".to_string()),
    }
}

fn serve(mut stream: TcpStream) {
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let Some(request) = read_request(&stream) else {
        return;
    };
    let (head, body) = route(&request);
    let _ = write!(
        stream,
        "HTTP/1.1 {head}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// The site on a free loopback port, one thread per connection (Chromium opens spare ones).
fn start_site() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || serve(stream));
        }
    });
    url
}

fn screenshots() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots")
}

/// Checks `path` starts with `magic` and holds more than `min` bytes; returns its size.
fn check_file(path: &Path, magic: &[u8], min: usize) -> usize {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(bytes.starts_with(magic), "{}: wrong magic", path.display());
    assert!(
        bytes.len() > min,
        "{}: {} bytes",
        path.display(),
        bytes.len()
    );
    bytes.len()
}

/// A PNG's width and height, from its IHDR chunk.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

/// The form page: fill, submit, the redirect and the page it leads to.
fn sign_in(page: &mut Page, site: &str) {
    page.goto(&format!("{site}/"));
    assert_eq!(page.url(), format!("{site}/"));
    assert!(page.text().contains("Booth sign-in"), "{}", page.text());
    assert!(page.html().contains(r#"<form id="login""#));
    assert!(page.cookies().is_empty(), "{:?}", page.cookies());
    page.fill("input[name=name]", "Ada");
    assert_eq!(page.eval("document.querySelector('input').value"), "Ada");
    page.submit("#login");
    assert_eq!(page.url(), format!("{site}/result"));
    assert!(page.text().contains("Welcome, Ada"), "{}", page.text());
}

/// The session cookie as DevTools sees it, and what scripts see of it.
fn check_cookie(page: &mut Page) {
    let cookie = page.cookie("session").expect("the login's cookie");
    assert_eq!(cookie["value"], "Ada");
    assert_eq!(cookie["httpOnly"], true);
    // HttpOnly: the page's own scripts cannot read it, only DevTools can.
    assert_eq!(page.eval("document.cookie"), "");
}

/// eval with plain values and promises; wait_until on something that happens later.
fn check_eval(page: &mut Page) {
    assert_eq!(page.eval("1 + 2"), 3);
    assert_eq!(page.eval("({a: [1, 'b']})"), json!({"a": [1, "b"]}));
    let later = page.eval("new Promise(r => setTimeout(() => r('later'), 50))");
    assert_eq!(later, "later");
    page.eval("setTimeout(() => document.body.dataset.ready = 'yes', 200)");
    page.wait_until(
        "document.body.dataset.ready === 'yes'",
        Duration::from_secs(5),
    );
}

/// Uncaught exceptions and console.error() are collected; dialogs are accepted, not hung on.
fn check_errors_and_dialogs(page: &mut Page) {
    assert_eq!(page.js_errors(), Vec::<String>::new());
    page.eval(
        "console.error('csv', 'not ready', 7); setTimeout(() => { throw new Error('boom') })",
    );
    page.eval("new Promise(r => setTimeout(r, 100))");
    let errors = page.js_errors();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0], "console.error: csv not ready 7");
    assert!(errors[1].contains("Error: boom"), "{errors:?}");
    assert!(page.js_errors().is_empty());
    assert_eq!(page.eval("confirm('Delete the campaign?')"), true);
    assert_eq!(page.dialogs(), ["Delete the campaign?"]);
}

/// The CSV behind the download link, fetched with the session cookie.
fn check_download(page: &mut Page) {
    let csv = page.fetch("/data.csv");
    assert_eq!(csv.status, 200);
    assert_eq!(csv.content_type, "text/csv");
    assert!(csv.content_disposition.contains("data.csv"), "{csv:?}");
    assert_eq!(page.fetch_text("/data.csv"), "who,phones\nAda,3\n");
}

/// The tall form page at a phone's and a laptop's size, whole, and printed on A4.
fn check_pictures(page: &mut Page, site: &str) {
    page.click("#back");
    assert_eq!(page.url(), format!("{site}/"));
    let dir = screenshots();
    for (name, width, height, mobile) in
        [("390x844", 390, 844, true), ("1280x800", 1280, 800, false)]
    {
        page.set_viewport(width, height, mobile);
        let path = dir.join(format!("browser-selftest-{name}.png"));
        page.screenshot(&path);
        let bytes = check_file(&path, b"\x89PNG\r\n\x1a\n", 2_000);
        let (w, h) = png_size(&path);
        eprintln!("{}: {w}x{h}, {bytes} bytes", path.display());
        assert_eq!(w, width, "{}", path.display());
        assert!(
            h > 1500,
            "{}: {h} px high, not the whole page",
            path.display()
        );
    }
    let pdf = dir.join("browser-selftest.pdf");
    page.pdf(&pdf);
    let bytes = check_file(&pdf, b"%PDF-", 2_000);
    eprintln!("{}: {bytes} bytes", pdf.display());
}

/// A frozen Chromium (SIGSTOP to its process group) fails the call, with what hung, within
/// the page's timeout instead of hanging the test.
fn check_hung_chromium_fails(browser: &mut Browser) {
    let group = browser.pid() as libc::pid_t;
    // SAFETY: kill(2) on the process group Browser::start created for this Chromium.
    assert_eq!(unsafe { libc::kill(-group, libc::SIGSTOP) }, 0);
    let page = browser.page();
    page.set_timeout(Duration::from_secs(1));
    let started = Instant::now();
    let hung = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| page.eval("1")));
    let waited = started.elapsed();
    // SAFETY: as above; the group is then killed by the Browser's drop.
    unsafe { libc::kill(-group, libc::SIGCONT) };
    let message = *hung
        .expect_err("a frozen chromium answered")
        .downcast::<String>()
        .unwrap();
    assert!(
        message.contains("chromium did not answer Runtime.evaluate within 1s"),
        "{message}"
    );
    assert!(waited < Duration::from_secs(5), "{waited:?}");
}

#[test]
fn drives_a_real_chromium_through_a_login_and_a_download() {
    let started = Instant::now();
    let Some(mut browser) = Browser::start() else {
        return;
    };
    eprintln!("chromium started in {:?}", started.elapsed());
    let site = start_site();
    let page = browser.page();
    sign_in(page, &site);
    check_cookie(page);
    check_eval(page);
    check_errors_and_dialogs(page);
    check_download(page);
    check_pictures(page, &site);
    check_hung_chromium_fails(&mut browser);
    eprintln!("browser self-test: {:?}", started.elapsed());
}

/// Set in the environment of the child runs below: only then does the test start a browser.
const CHILD: &str = "O4SEND_BROWSER_SELFTEST_CHILD";

/// This test binary run again for one test, with `O4SEND_CHROMIUM` pointing nowhere.
fn run_without_chromium(ci: Option<&str>) -> std::process::Output {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "child_starts_a_browser",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD, "1")
    .env("O4SEND_CHROMIUM", "/nonexistent/chromium")
    .env_remove("CI");
    if let Some(ci) = ci {
        cmd.env("CI", ci);
    }
    cmd.output().unwrap()
}

#[test]
fn child_starts_a_browser() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let started = Browser::start().is_some();
    println!("child: started={started}");
}

#[test]
fn missing_chromium_fails_under_ci_and_is_a_visible_skip_elsewhere() {
    let ci = run_without_chromium(Some("true"));
    let stderr = String::from_utf8_lossy(&ci.stderr);
    assert!(
        !ci.status.success(),
        "CI=true without chromium passed: {stderr}"
    );
    assert!(
        stderr.contains("CI=true and O4SEND_CHROMIUM=/nonexistent/chromium is not a file"),
        "{stderr}"
    );
    assert!(stderr.contains("apt-get install chromium"), "{stderr}");

    let local = run_without_chromium(None);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&local.stdout),
        String::from_utf8_lossy(&local.stderr),
    );
    assert!(local.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("child: started=false"), "{stdout}");
    assert!(
        stderr.contains("skipped: a test that needs a real headless Chromium"),
        "{stderr}"
    );
}
