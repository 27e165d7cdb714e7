//! Issue 26, item 3: the dashboard speaks HTTPS with the box's own certificate. The real
//! `o4send dashboard` with its default plain-HTTP setting: plain HTTP only redirects (and
//! answers `/health`); over TLS, checked against the certificate the box kept on its data
//! partition (nothing else is trusted), the login page shows that certificate's fingerprint and
//! the cookies are `Secure`; the certificate outlives a restart, and `o4send status` names it.
//! With `http = "serve"` the dashboard also answers in clear, each page warning, cookies without
//! `Secure`. Then headless Chromium, trusting only this box's key, logs in over HTTPS.

mod common;

use common::appliance::{free_port, HASH, PASSWORD};
use common::browser::Browser;
use common::http::{get_as, request, Reply};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Dashboard {
    child: Child,
    dir: tempfile::TempDir,
    https: u16,
    http: u16,
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Dashboard {
    fn start(plain: &str) -> Dashboard {
        let dir = tempfile::tempdir().unwrap();
        let (https, http) = (free_port(), free_port());
        let text = format!(
            "[appliance]\ndata_dir = \"{d}\"\nlive_dir = \"{d}/live\"\n[dashboard]\n\
             address = \"127.0.0.1\"\nport = {https}\nhttp_port = {http}\nhttp = \"{plain}\"\n\
             password_hash = \"{HASH}\"\n",
            d = dir.path().display()
        );
        std::fs::write(dir.path().join("o4send.toml"), text).unwrap();
        let mut d = Dashboard {
            child: spawn(dir.path()),
            dir,
            https,
            http,
        };
        d.wait();
        d
    }

    fn wait(&mut self) {
        let until = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.https)).is_err() {
            assert!(Instant::now() < until, "the dashboard did not listen");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn restart(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.child = spawn(self.dir.path());
        self.wait();
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("o4send.toml")
    }

    fn cert(&self) -> CertificateDer<'static> {
        CertificateDer::from_pem_file(self.dir.path().join("tls/dashboard-cert.pem")).unwrap()
    }

    /// One request over TLS, trusting only the certificate the box keeps.
    fn tls(&self, method: &str, path: &str, cookies: &str, form: &str) -> Reply {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.cert()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let cfg = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = ServerName::try_from("localhost").unwrap();
        let conn = rustls::ClientConnection::new(Arc::new(cfg), name).unwrap();
        let tcp = TcpStream::connect(("127.0.0.1", self.https)).unwrap();
        let mut s = rustls::StreamOwned::new(conn, tcp);
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nCookie: {cookies}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
            form.len()
        )
        .unwrap();
        let mut raw = Vec::new();
        // The server may close without a TLS close_notify once the answer is sent.
        if let Err(e) = s.read_to_end(&mut raw) {
            assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof, "{e}");
        }
        let text = String::from_utf8_lossy(&raw);
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        Reply {
            status: head.split(' ').nth(1).unwrap().parse().unwrap(),
            head: head.to_ascii_lowercase(),
            body: body.to_string(),
        }
    }
}

fn spawn(dir: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_o4send"))
        .args(["dashboard", "--config"])
        .arg(dir.join("o4send.toml"))
        .spawn()
        .unwrap()
}

fn fingerprint(cert: &CertificateDer) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(cert.as_ref());
    d.iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn set_cookie_line<'a>(r: &'a Reply, name: &str) -> &'a str {
    r.head
        .lines()
        .find(|l| l.starts_with(&format!("set-cookie: {name}=")))
        .unwrap_or_else(|| panic!("no cookie {name} in {}", r.head))
}

#[test]
fn plain_http_only_redirects_to_https() {
    let d = Dashboard::start("redirect");
    let r = request(d.http, "GET", "/phones?day=2026-12-07", "", "");
    assert_eq!(r.status, 307, "{}", r.body);
    assert_eq!(
        r.location(),
        Some(format!("https://127.0.0.1:{}/phones?day=2026-12-07", d.https).as_str())
    );
    let login = request(d.http, "POST", "/login", "", "csrf=x&password=booth7");
    assert_eq!(
        login.status, 307,
        "a password sent in clear is not looked at"
    );
    assert!(login.cookie("o4send_session").is_none());
    let (status, _, body) = get_as(d.http, "localhost", "/health");
    assert_eq!((status, body.as_slice()), (200, &b"ok"[..]));
    let (status, _, _) = get_as(d.http, "evil.example", "/");
    assert_eq!(status, 421, "no redirect for another site's name");
}

#[test]
fn https_with_the_boxs_own_certificate() {
    let mut d = Dashboard::start("redirect");
    let print = fingerprint(&d.cert());
    let form = d.tls("GET", "/login", "", "");
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains(&print), "the login page shows {print}");
    assert!(!form.body.contains("plain HTTP"), "no clear-text warning");
    assert!(set_cookie_line(&form, "o4send_login").ends_with("; secure"));
    let pre = form.cookie("o4send_login").unwrap();
    let csrf = form.field("csrf");
    let ok = d.tls(
        "POST",
        "/login",
        &format!("o4send_login={pre}"),
        &format!("csrf={csrf}&password={PASSWORD}"),
    );
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert!(set_cookie_line(&ok, "o4send_session").ends_with("; secure"));
    let session = format!("o4send_session={}", ok.cookie("o4send_session").unwrap());
    assert_eq!(d.tls("GET", "/", &session, "").status, 200);

    d.restart();
    assert_eq!(
        fingerprint(&d.cert()),
        print,
        "the same certificate after a restart"
    );
    assert!(d.tls("GET", "/login", "", "").body.contains(&print));
    let status = Command::new(env!("CARGO_BIN_EXE_o4send"))
        .args(["status", "--config"])
        .arg(d.config())
        .arg("--db")
        .arg(d.dir.path().join("none.db"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&status.stdout);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let want = format!(
        "dashboard: https://{}.local:{}/ certificate SHA-256 {print}",
        host.trim(),
        d.https
    );
    assert!(out.contains(&want), "o4send status said: {out}");
}

#[test]
fn served_in_clear_only_when_asked_and_then_with_a_warning() {
    let d = Dashboard::start("serve");
    let form = request(d.http, "GET", "/login", "", "");
    assert_eq!(form.status, 200);
    assert!(form.body.contains("came over plain HTTP"), "{}", form.body);
    assert!(!set_cookie_line(&form, "o4send_login").contains("secure"));
    // Every page, also those gathered on a blocking thread (the overview reads the log).
    let (session, _) = common::http::login(d.http, PASSWORD);
    let overview = request(d.http, "GET", "/", &session, "");
    assert_eq!(overview.status, 200);
    assert!(
        overview.body.contains("came over plain HTTP"),
        "{}",
        overview.body
    );
    let over_tls = d.tls("GET", "/login", "", "");
    assert!(!over_tls.body.contains("came over plain HTTP"));
}

#[test]
fn chromium_trusting_only_this_box_logs_in_over_https() {
    let d = Dashboard::start("redirect");
    // The box's public key, as Chromium pins it: base64 of the SHA-256 of its SPKI.
    let key = std::fs::read_to_string(d.dir.path().join("tls/dashboard-key.pem")).unwrap();
    let pin = {
        use ct_codecs::Encoder;
        use rcgen::PublicKeyData;
        use sha2::Digest;
        let spki = rcgen::KeyPair::from_pem(&key)
            .unwrap()
            .subject_public_key_info();
        ct_codecs::Base64::encode_to_string(sha2::Sha256::digest(&spki)).unwrap()
    };
    let switch = format!("--ignore-certificate-errors-spki-list={pin}");
    let Some(mut browser) = Browser::start_with(&[&switch]) else {
        return; // no Chromium outside CI: Browser::start_with said so (under CI=true it fails)
    };
    let page = browser.page();
    page.goto(&format!("http://127.0.0.1:{}/login", d.http));
    let url = page.url();
    assert!(
        url.starts_with(&format!("https://127.0.0.1:{}/login", d.https)),
        "the browser was sent to HTTPS: {url}"
    );
    // For review (nothing compared by pixels): the login page with its fingerprint shown.
    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    page.eval("document.querySelector('details').open = true");
    page.set_viewport(390, 844, true);
    page.screenshot(&shots.join("dashboard-login-https-phone.png"));
    page.set_viewport(1280, 800, false);
    page.screenshot(&shots.join("dashboard-login-https-laptop.png"));
    page.fill("input[name=password]", PASSWORD);
    page.submit("form[action='/login']");
    page.wait_until("location.pathname === '/'", Duration::from_secs(20));
    let session = page.cookie("o4send_session").expect("a session cookie");
    assert_eq!(session["secure"], true, "{session}");
    assert!(page.text().contains("Overview"));
}
