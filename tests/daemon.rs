//! The binary as an operator drives it: `o4send push --tcp` against a live OBEX server, and
//! `o4send run` on simulated phones reloading its content on SIGHUP and stopping on SIGTERM.

use o4send::obex::{serve, AcceptAll, Decision, Offer, Prompt, ServerOptions};
use std::future::Future;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::pin::Pin;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Objects a server received: name and body.
type Inbox = Vec<(String, Vec<u8>)>;

/// Serves one OBEX connection on a fresh loopback port with `prompt`; returns the port and the
/// objects received.
fn one_shot_server(prompt: impl Prompt + 'static) -> (u16, mpsc::Receiver<Inbox>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            listener.set_nonblocking(true).unwrap();
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let (stream, _) = listener.accept().await.unwrap();
            let mut prompt = prompt;
            let got = serve(stream, &ServerOptions::default(), &mut prompt)
                .await
                .unwrap_or_default();
            let _ = tx.send(got.into_iter().map(|r| (r.name, r.body)).collect());
        });
    });
    (port, rx)
}

struct Refuse;

impl Prompt for Refuse {
    fn decide<'a>(
        &'a mut self,
        _offer: &'a Offer,
    ) -> Pin<Box<dyn Future<Output = Decision> + Send + 'a>> {
        Box::pin(async { Decision::Reject(0xC3) })
    }
}

fn push(port: u16, file: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_o4send"))
        .args([
            "push",
            "--tcp",
            &format!("127.0.0.1:{port}"),
            "--timeout",
            "10",
        ])
        .arg(file)
        .output()
        .unwrap()
}

#[test]
fn push_command_delivers_and_reports_the_code() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("flyer.pdf");
    let body: Vec<u8> = (0..150_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&file, &body).unwrap();

    let (port, received) = one_shot_server(AcceptAll);
    let out = push(port, &file);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("outcome: accepted") && stdout.contains("response code: 0xA0"),
        "{stdout}"
    );
    let got = received.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(got, vec![("flyer.pdf".to_string(), body)]);

    let (port, _) = one_shot_server(Refuse);
    let out = push(port, &file);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("outcome: declined") && stdout.contains("response code: 0xC3"),
        "{stdout}"
    );
}

fn write_config(dir: &Path, content: &Path) -> String {
    let text = format!(
        "[appliance]\ndata_dir = \"{}\"\ncontent_dir = \"{}\"\n\
         [radio]\nbackend = \"sim\"\n[[radio.adapters]]\nid = \"sim0\"\nrole = \"both\"\n\
         [radio.sim]\nphones = 20\narrival_window_secs = 1\n",
        dir.display(),
        content.display()
    );
    let path = dir.join("o4send.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// Waits for a stderr line containing `want`; returns everything read so far.
fn wait_for(lines: &mpsc::Receiver<String>, want: &str, log: &mut String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(line) = lines.recv_timeout(Duration::from_millis(200)) {
            log.push_str(&line);
            log.push('\n');
            if line.contains(want) {
                return;
            }
        }
    }
    panic!("no line with {want:?} in:\n{log}");
}

fn signal(pid: u32, sig: &str) {
    assert!(Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap()
        .success());
}

#[test]
fn sighup_reloads_content_and_a_broken_reload_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let content = dir.path().join("content");
    std::fs::create_dir(&content).unwrap();
    std::fs::write(content.join("first.txt"), "first campaign").unwrap();
    let config = write_config(dir.path(), &content);
    let mut child = Command::new(env!("CARGO_BIN_EXE_o4send"))
        .args(["run", "--config", &config])
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, lines) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut log = String::new();
    wait_for(&lines, "ready: config", &mut log);

    // A broken config is refused and the daemon keeps running.
    let good = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{good}\n[policy]\nretry_limit = \"many\"\n"),
    )
    .unwrap();
    signal(child.id(), "-HUP");
    wait_for(&lines, "reload refused", &mut log);
    assert!(log.contains("policy.retry_limit"), "{log}");

    // New content and a good config: reloaded.
    std::fs::write(&config, &good).unwrap();
    std::fs::write(
        content.join("campaign.toml"),
        "name = \"second\"\n[[items]]\nfile = \"second.txt\"\n",
    )
    .unwrap();
    std::fs::write(content.join("second.txt"), "second campaign").unwrap();
    signal(child.id(), "-HUP");
    wait_for(&lines, "reloading: campaign \"second\"", &mut log);

    signal(child.id(), "-TERM");
    wait_for(&lines, "stopped after", &mut log);
    assert!(child.wait().unwrap().success(), "{log}");

    let db = rusqlite::Connection::open(dir.path().join("o4send.db")).unwrap();
    let kinds: Vec<String> = db
        .prepare("SELECT kind FROM events ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| *k == "reload").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(kinds.first().map(String::as_str), Some("start"));
    assert_eq!(kinds.last().map(String::as_str), Some("stop"));
}
