//! Interop with a real OBEX stack: push a file over TCP to OpenOBEX's own test server
//! (`obex_test -i`, Debian package openobex-apps) and check it arrives byte-identical.
//!
//! obex_test in server mode saves each PUT object in its *current working directory*, under the
//! last path component of the Name header (converted to 8-bit by dropping the high byte of each
//! UTF-16 unit: "é" becomes the single byte 0xE9), with mode 0666 minus umask, without truncating
//! an existing file; so the test runs it in a private temporary directory and reads the file
//! there. It answers CONNECT with a max packet length of 1024 and asks for no Length or Type.

use o4send::model::outcome::Outcome;
use o4send::obex::tcp::{connect, OBEX_TCP_PORT};
use o4send::obex::{push, Object, PushOptions};
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{sleep, Instant};

const OBEX_TEST: &str = "/usr/bin/obex_test";

/// Kills and reaps the server however the test ends.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn skip_requested() -> bool {
    std::env::var("O4SEND_SKIP_INTEROP").is_ok_and(|v| v == "1")
}

fn pseudo_random(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 7;
            x ^= x >> 9;
            (x >> 24) as u8
        })
        .collect()
}

/// Starts `obex_test -i` in `dir` and tells it to serve.
fn start_server(dir: &Path) -> Guard {
    let log = std::fs::File::create(dir.join("obex_test.log")).expect("create log");
    let log_err = log.try_clone().expect("clone log");
    let child = Command::new(OBEX_TEST)
        .arg("-i")
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .expect("spawn obex_test");
    let mut guard = Guard(child);
    serve_command(&mut guard);
    guard
}

/// Polls until the server listens, and keeps the first connection that succeeds (a probe
/// connection would be taken by obex_test as its one client).
///
/// obex_test binds port 650 without SO_REUSEADDR, and it closes the connection first after
/// DISCONNECT, so the port sits in TIME_WAIT for a minute after every run; its bind then fails
/// ("Server register error! (TCP)") and it returns to its prompt. So while nothing listens we
/// repeat the "s" command every two seconds, for up to 90 seconds.
async fn wait_for_server(server: &mut Guard, dir: &Path) -> TcpStream {
    let target = format!("127.0.0.1:{OBEX_TCP_PORT}");
    let start = Instant::now();
    let mut last_retry = start;
    loop {
        match connect(&target, Duration::from_secs(2)).await {
            Ok(stream) => return stream,
            Err(e) if start.elapsed() >= LISTEN_DEADLINE => {
                let log = std::fs::read_to_string(dir.join("obex_test.log")).unwrap_or_default();
                panic!(
                    "obex_test never listened on {target} within {LISTEN_DEADLINE:?} \
                     (last error: {}); its output:\n{log}",
                    e.reason
                );
            }
            Err(_) => sleep(Duration::from_millis(100)).await,
        }
        if last_retry.elapsed() >= Duration::from_secs(2) {
            last_retry = Instant::now();
            serve_command(server);
        }
    }
}

const LISTEN_DEADLINE: Duration = Duration::from_secs(90);

/// Tells obex_test (again) to go into server mode.
fn serve_command(server: &mut Guard) {
    let stdin = server.0.stdin.as_mut().expect("obex_test stdin");
    stdin.write_all(b"s\n").expect("write to obex_test");
    stdin.flush().expect("flush obex_test stdin");
}

#[tokio::test]
async fn push_to_openobex_obex_test() {
    if skip_requested() {
        eprintln!("obex interop test skipped: O4SEND_SKIP_INTEROP=1");
        return;
    }
    assert!(
        Path::new(OBEX_TEST).exists(),
        "{OBEX_TEST} is missing: install the Debian package openobex-apps \
         (apt-get install openobex-apps), or set O4SEND_SKIP_INTEROP=1 to skip this test"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = start_server(dir.path());
    let stream = wait_for_server(&mut server, dir.path()).await;

    let body = pseudo_random(200 * 1024);
    let object = Object {
        name: "o4send-interop.bin",
        mime: "application/octet-stream",
        body: &body,
    };
    let (_tx, mut cancel) = watch::channel(false);
    let opts = PushOptions {
        connect_timeout: Duration::from_secs(10),
        decision_timeout: Duration::from_secs(10),
        packet_timeout: Duration::from_secs(10),
        ..PushOptions::default()
    };
    let result = push(stream, &object, &opts, &mut cancel).await;
    let log = || std::fs::read_to_string(dir.path().join("obex_test.log")).unwrap_or_default();
    assert_eq!(result.outcome, Outcome::Accepted, "{result:?}\n{}", log());
    assert_eq!(result.bytes, body.len() as u64);

    let saved = dir.path().join("o4send-interop.bin");
    let got = std::fs::read(&saved).unwrap_or_else(|e| {
        panic!(
            "{} not written ({e}); obex_test said:\n{}",
            saved.display(),
            log()
        )
    });
    assert_eq!(got.len(), body.len(), "size differs");
    assert!(got == body, "content differs");
}
