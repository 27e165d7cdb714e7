//! Acceptance: bad config and bad input end in one line naming the cause, with the right exit
//! status, and lose nothing already logged. Runs the real binary.

mod common;
use common::cli::o4send;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn stderr_line(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).trim_end().to_string();
    assert_eq!(err.lines().count(), 1, "expected one line, got: {err}");
    err
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn config_check_names_key_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("[policy]\nmin_rsi = -80\n", "min_rsi"),
        ("[policy]\nmin_rssi = \"close\"\n", "policy.min_rssi"),
        (
            "[[radio.adapters]]\nid = \"hci0\"\nslots = 12\n",
            "radio.adapters[0].slots = 12",
        ),
        (
            "[appliance]\ntime_zone = \"Europe/Atlantis\"\n",
            "Europe/Atlantis",
        ),
        ("[policy]\ndeny = [\"00:11:22:33:44\"]\n", "00:11:22:33:44"),
        ("[obex\n", "o4send.toml"),
    ];
    for (text, want) in cases {
        let path = write(dir.path(), "o4send.toml", text);
        let out = o4send(&["config", "check", &path]);
        assert_eq!(out.status.code(), Some(78), "{text}");
        let line = stderr_line(&out);
        assert!(line.contains(want), "{want:?} not in {line:?}");
    }
    let out = o4send(&["config", "check", "/nonexistent/o4send.toml"]);
    assert_eq!(out.status.code(), Some(78));
    assert!(stderr_line(&out).contains("/nonexistent/o4send.toml does not exist"));
}

#[test]
fn default_config_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let out = o4send(&["config", "default"]);
    assert!(out.status.success());
    let path = write(
        dir.path(),
        "default.toml",
        &String::from_utf8_lossy(&out.stdout),
    );
    let check = o4send(&["config", "check", &path]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn config_check_warns_of_a_fleet_sync_in_clear_text() {
    let dir = tempfile::tempdir().unwrap();
    let sync = |url: &str| {
        format!("[sync]\nmysql_url = \"{url}\"\nsecret = \"0123456789abcdef0123456789abcdef\"\n")
    };
    let clear = write(
        dir.path(),
        "clear.toml",
        &sync("mysql://o4send@db.expo.example/o4send"),
    );
    let out = o4send(&["config", "check", &clear]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("\nwarning: the fleet sync to db.expo.example is not encrypted"),
        "{stdout}"
    );
    let tls = write(
        dir.path(),
        "tls.toml",
        &sync("mysql://o4send@db.expo.example/o4send?require_ssl=true"),
    );
    let out = o4send(&["config", "check", &tls]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("warning"));
}

#[test]
fn missing_database_directory_is_named() {
    let out = o4send(&[
        "demo",
        "--phones",
        "5",
        "--db",
        "/nonexistent/dir/o4send.db",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let line = stderr_line(&out);
    assert!(
        line.contains("/nonexistent/dir") && line.contains("does not exist"),
        "{line}"
    );
    let out = o4send(&["status", "--db", "/nonexistent/o4send.db"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_line(&out).contains("/nonexistent/o4send.db"));
    assert!(!Path::new("/nonexistent/o4send.db").exists());
}

#[test]
fn push_to_nobody_is_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "hello.txt", "hello");
    let out = o4send(&["push", "--tcp", "127.0.0.1:1", &file]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("outcome: unreachable"), "{stdout}");
    let out = o4send(&["push", "--tcp", "127.0.0.1:1", "/nonexistent/file.pdf"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_line(&out).contains("/nonexistent/file.pdf"));
}

/// A config for `o4send run` on simulated phones, logging into `dir`.
fn sim_config(dir: &Path, content: &Path) -> String {
    let text = format!(
        "[appliance]\ndata_dir = \"{}\"\ncontent_dir = \"{}\"\n[radio]\nbackend = \"sim\"\n[[radio.adapters]]\nid = \"sim0\"\nrole = \"both\"\n[radio.sim]\nphones = 30\narrival_window_secs = 1\n",
        dir.display(),
        content.display()
    );
    write(dir, "o4send.toml", &text)
}

fn count(db: &Path, table: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

/// Starts `o4send run`, waits for a line of its log containing `want` and for the daemon to be
/// ready (signal handlers installed), sends SIGTERM.
fn run_until(config: &str, want: &str) -> (std::process::ExitStatus, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_o4send"))
        .args(["run", "--config", config])
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        let both = seen.contains(want) && seen.contains("ready: config");
        if both || Instant::now() > deadline {
            break;
        }
    }
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    for line in lines {
        seen.push_str(&line.unwrap());
        seen.push('\n');
    }
    (child.wait().unwrap(), seen)
}

#[test]
fn unreadable_content_keeps_the_daemon_up_and_sigterm_stops_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = sim_config(dir.path(), &dir.path().join("no-such-content"));
    let (status, log) = run_until(&config, "pushing nothing");
    assert!(status.success(), "{log}");
    let line = log
        .lines()
        .find(|l| l.contains("pushing nothing"))
        .unwrap_or_else(|| panic!("{log}"));
    assert!(
        line.contains("no-such-content") && line.contains("No such file"),
        "{line}"
    );
    assert!(log.contains("shutting down"), "{log}");
}

#[test]
fn a_broken_config_loses_nothing_already_logged() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("o4send.db");
    let demo = o4send(&["demo", "--phones", "20", "--db", db.to_str().unwrap()]);
    assert!(demo.status.success());
    let attempts = count(&db, "attempts");
    assert!(attempts > 0);
    let broken = write(
        dir.path(),
        "broken.toml",
        &format!(
            "[appliance]\ndata_dir = \"{}\"\n[policy]\nretry_limit = -1\n",
            dir.path().display()
        ),
    );
    let out = o4send(&["run", "--config", &broken]);
    assert_eq!(out.status.code(), Some(78));
    assert!(stderr_line(&out).contains("policy.retry_limit"));
    assert_eq!(count(&db, "attempts"), attempts);
    let status = o4send(&["status", "--db", db.to_str().unwrap(), "--json"]);
    assert!(status.status.success());
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let by_outcome = json["attempts_by_outcome"].as_object().unwrap();
    assert_eq!(by_outcome.len(), 7, "{by_outcome:?}");
    assert_eq!(
        by_outcome
            .values()
            .map(|v| v.as_i64().unwrap())
            .sum::<i64>(),
        attempts
    );
}
