//! The binary as an operator drives it: `o4send push --tcp` against a live OBEX server, and
//! `o4send run` on simulated phones reloading its content on SIGHUP and stopping on SIGTERM.

mod common;

use common::daemon::{content_dir, write_config, Daemon, SMALL_HALL};
use o4send::obex::{serve, AcceptAll, Decision, Offer, Prompt, ServerOptions};
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

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

/// Publishes campaign "second" (one item, second.txt), sends SIGHUP and waits for the reload.
fn reload_second_campaign(daemon: &mut Daemon, content: &Path) {
    std::fs::write(
        content.join("campaign.toml"),
        "name = \"second\"\n[[items]]\nfile = \"second.txt\"\n",
    )
    .unwrap();
    std::fs::write(content.join("second.txt"), "second campaign").unwrap();
    daemon.signal("-HUP");
    daemon.wait_for("reloading: campaign \"second\"");
}

#[test]
fn sighup_reloads_content_and_a_broken_reload_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let content = content_dir(dir.path());
    let config = write_config(dir.path(), &content, SMALL_HALL);
    let mut daemon = Daemon::start(&config, &[]);
    daemon.wait_for("ready: config");

    // A broken config is refused and the daemon keeps running.
    let good = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{good}\n[policy]\nretry_limit = \"many\"\n"),
    )
    .unwrap();
    daemon.signal("-HUP");
    daemon.wait_for("reload refused");
    assert!(daemon.log.contains("policy.retry_limit"), "{}", daemon.log);

    // New content and a good config: reloaded.
    std::fs::write(&config, &good).unwrap();
    reload_second_campaign(&mut daemon, &content);

    daemon.signal("-TERM");
    daemon.wait_for("stopped after");
    assert!(daemon.child.wait().unwrap().success(), "{}", daemon.log);

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

/// A hall of phones whose users all accept, after 2 to 50 s: pushes are in flight for long.
const PATIENT_HALL: &str = "[[radio.adapters]]\nid = \"sim0\"\nrole = \"both\"\nslots = 3\n\
     [radio.sim]\nphones = 20\narrival_window_secs = 1\n\
     [radio.sim.mix]\naccept = 1\ndecline = 0\nignore = 0\nprompt_expires = 0\nno_opp = 0\n\
     refuse_connection = 0\ndrop_mid_transfer = 0\nrefuse_type = 0\nslow_link = 0\nout_of_range = 0\n\
     [engine]\nshutdown_grace_secs = 2\n";

/// `TimeoutStopSec=` of the unit the image ships: systemd's patience with a stopping daemon.
fn shipped_stop_timeout() -> Duration {
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/board/common/rootfs-overlay/etc/systemd/system/o4send.service"
    ))
    .unwrap();
    let secs = unit
        .lines()
        .find_map(|l| l.strip_prefix("TimeoutStopSec="))
        .expect("the unit sets TimeoutStopSec");
    Duration::from_secs(secs.trim().parse().unwrap())
}

/// (item, outcome, reason) of every attempt in the log.
fn attempts(db: &Path) -> Vec<(String, String, String)> {
    let db = rusqlite::Connection::open(db).unwrap();
    let mut stmt = db
        .prepare("SELECT item_name, outcome, reason FROM attempts ORDER BY id")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    rows
}

fn started(log: &str, item: &str) -> usize {
    log.lines()
        .filter(|l| l.contains("push started") && l.contains(&format!("item={item}")))
        .count()
}

#[test]
fn sighup_mid_push_drops_nothing_and_sigterm_records_every_attempt() {
    let dir = tempfile::tempdir().unwrap();
    let content = content_dir(dir.path());
    let config = write_config(dir.path(), &content, PATIENT_HALL);
    let db = dir.path().join("o4send.db");
    let mut daemon = Daemon::start(&config, &[("RUST_LOG", "info,o4send::engine=debug")]);
    daemon.wait_for("ready: config");
    for _ in 0..3 {
        daemon.wait_for("push started");
    }

    // Reload with every slot busy: the pushes in flight go on with the item they started with.
    reload_second_campaign(&mut daemon, &content);
    let before = started(&daemon.log, "first.txt");
    assert!(before >= 3, "{}", daemon.log);
    let first_done = || {
        let a = attempts(&db);
        a.iter().filter(|(item, ..)| item == "first.txt").count() == before
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    while !first_done() {
        assert!(std::time::Instant::now() < deadline, "{:?}", attempts(&db));
        std::thread::sleep(Duration::from_millis(200));
    }
    for (item, outcome, reason) in attempts(&db) {
        if item == "first.txt" {
            assert_eq!(outcome, "accepted", "{reason}");
        }
    }

    // Stop with pushes of the new item in flight: each ends recorded, in systemd's time.
    daemon.drain();
    daemon.wait_for("push started");
    daemon.signal("-TERM");
    let stopping = std::time::Instant::now();
    let status = daemon.wait_exit(shipped_stop_timeout());
    let took = stopping.elapsed();
    daemon.drain();
    assert!(
        status.is_some_and(|s| s.success()),
        "not stopped within TimeoutStopSec:\n{}",
        daemon.log
    );
    eprintln!("stopped {took:?} after SIGTERM");
    assert!(daemon.log.contains("aborting"), "{}", daemon.log);
    assert!(!daemon.log.contains("did not end"), "{}", daemon.log);
    let all = attempts(&db);
    assert_eq!(
        all.len(),
        started(&daemon.log, "first.txt") + started(&daemon.log, "second.txt"),
        "every attempt started has its row: {all:?}"
    );
    assert!(
        all.iter().any(|(_, _, reason)| reason.contains("aborted")),
        "{all:?}"
    );
}
