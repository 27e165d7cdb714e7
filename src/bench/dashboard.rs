//! The dashboard's memory: the real `o4send dashboard` process over a demo's log, after a login
//! and a few pages, then left idle. Its budget is 8 MiB resident: it runs beside the daemon on
//! a Pi Zero 2 W with 512 MiB for everything.

use super::memory::status_kib;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(super) const PASSWORD: &str = "bench";

/// Starts the dashboard, uses it, lets it idle, and prints its resident memory.
pub fn run() -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("o4send-bench-dashboard-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let result = measure(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn measure(dir: &std::path::Path) -> Result<(), String> {
    let (mut child, port) = start(dir)?;
    let result = exercise(&child, port);
    let _ = child.kill();
    let _ = child.wait();
    result
}

/// The real `o4send dashboard` over a 500-phone demo log in `dir`, listening on loopback (its
/// port returned once it accepts connections); the password is [`PASSWORD`].
pub(super) fn start(dir: &std::path::Path) -> Result<(Child, u16), String> {
    let exe = super::server_exe()?;
    let db = dir.join("demo.db");
    let demo = Command::new(&exe)
        .args(["demo", "--phones", "500", "--db"])
        .arg(&db)
        .output()
        .map_err(|e| format!("cannot run the demo: {e}"))?;
    if !demo.status.success() {
        return Err("the demo failed".into());
    }
    let free_port = || {
        TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())
            .map(|a| a.port())
    };
    let port = free_port()?;
    // The figures are the server's, in clear text (its plain port serves the dashboard here).
    let cfg = dir.join("o4send.toml");
    let text = format!(
        "[appliance]\ndata_dir = {d:?}\ndb = {db:?}\nlive_dir = {l:?}\n[dashboard]\naddress = \"127.0.0.1\"\n\
         port = {https}\nhttp_port = {port}\nhttp = \"serve\"\npassword_hash = {h:?}\n",
        https = free_port()?,
        d = dir.display().to_string(),
        db = db.display().to_string(),
        l = dir.join("live").display().to_string(),
        h = crate::config::password::hash(PASSWORD)?,
    );
    std::fs::write(&cfg, text).map_err(|e| e.to_string())?;
    let mut child = Command::new(&exe)
        .arg("dashboard")
        .arg("--config")
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the dashboard: {e}"))?;
    let until = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            return Err("the dashboard did not listen".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok((child, port))
}

fn exercise(child: &Child, port: u16) -> Result<(), String> {
    let pid = child.id().to_string();
    let start_kib = status_kib(&pid, "VmRSS:");
    let session = login(port)?;
    for path in ["/", "/phones", "/campaign", "/report", "/", "/"] {
        let (status, _) = get(port, path, &session)?;
        if status != 200 {
            return Err(format!("{path}: HTTP {status}"));
        }
    }
    std::thread::sleep(Duration::from_secs(3));
    let mib = |field: &str| status_kib(&pid, field) as f64 / 1024.0;
    println!(
        "dashboard: resident {:.2} MiB at start, {:.2} MiB idle after a login and 6 pages over a \
         500-phone log (goal <= 8 MiB; {:.2} MiB of it heap and stacks, {:.2} MiB the program's \
         own file pages), peak {:.2} MiB",
        start_kib as f64 / 1024.0,
        mib("VmRSS:"),
        mib("RssAnon:"),
        mib("RssFile:"),
        mib("VmHWM:")
    );
    Ok(())
}

/// The session cookie after logging in.
pub(super) fn login(port: u16) -> Result<String, String> {
    let (_, page) = get(port, "/login", "")?;
    let token = between(&page, "o4send_login=", ";").ok_or("no login cookie")?;
    let body = format!("csrf={token}&password={PASSWORD}");
    let reply = exchange(
        port,
        "POST",
        "/login",
        &format!("o4send_login={token}"),
        &body,
    )?;
    let session = between(&reply, "o4send_session=", ";").ok_or("the login failed")?;
    Ok(format!("o4send_session={session}"))
}

pub(super) fn get(port: u16, path: &str, cookie: &str) -> Result<(u16, String), String> {
    let reply = exchange(port, "GET", path, cookie, "")?;
    let status = reply
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, reply))
}

fn exchange(
    port: u16,
    method: &str,
    path: &str,
    cookie: &str,
    body: &str,
) -> Result<String, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nCookie: {cookie}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    let mut reply = String::new();
    s.read_to_string(&mut reply).map_err(|e| e.to_string())?;
    Ok(reply)
}

/// The text between the first `start` and the next `end` in `text`.
pub(super) fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(&text[from..from + len])
}
