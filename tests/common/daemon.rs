//! The real `o4send run` binary on simulated phones, as systemd would run it: a config in a temp
//! dir, its stderr read line by line, signals by pid, and (optionally) a notify socket of the
//! test's own — a unix datagram socket bound in the temp dir, named by `NOTIFY_SOCKET` — whose
//! every datagram is kept with the moment it arrived.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long any awaited line or message may take before the test fails, naming what it waited for.
pub const PATIENCE: Duration = Duration::from_secs(90);

/// A sim-backend config for `dir` with the content in `content`; `extra` is appended (TOML).
pub fn write_config(dir: &Path, content: &Path, extra: &str) -> PathBuf {
    let text = format!(
        "[appliance]\ndata_dir = \"{}\"\ncontent_dir = \"{}\"\n\
         [radio]\nbackend = \"sim\"\n{extra}",
        dir.display(),
        content.display()
    );
    let path = dir.join("o4send.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// One adapter that scans and pushes, and a small hall that arrives at once.
pub const SMALL_HALL: &str = "[[radio.adapters]]\nid = \"sim0\"\nrole = \"both\"\n\
     [radio.sim]\nphones = 20\narrival_window_secs = 1\n";

/// A content directory holding one file.
pub fn content_dir(dir: &Path) -> PathBuf {
    let content = dir.join("content");
    std::fs::create_dir(&content).unwrap();
    std::fs::write(content.join("first.txt"), "first campaign").unwrap();
    content
}

/// A datagram systemd would have received.
#[derive(Clone, Debug)]
pub struct Message {
    pub at: Instant,
    pub text: String,
}

/// The test's notify socket.
pub struct NotifySocket {
    pub path: PathBuf,
    messages: mpsc::Receiver<Message>,
    /// Everything received so far, oldest first.
    pub seen: Vec<Message>,
}

impl NotifySocket {
    pub fn bind(dir: &Path) -> NotifySocket {
        let path = dir.join("notify.sock");
        let socket = UnixDatagram::bind(&path).unwrap();
        let (tx, messages) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 4096];
            while let Ok(n) = socket.recv(&mut buf) {
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                if tx
                    .send(Message {
                        at: Instant::now(),
                        text,
                    })
                    .is_err()
                {
                    return;
                }
            }
        });
        NotifySocket {
            path,
            messages,
            seen: Vec::new(),
        }
    }

    /// Takes in what arrived until `until`.
    pub fn collect_until(&mut self, until: Instant) {
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok(m) => self.seen.push(m),
                Err(_) => return,
            }
        }
    }

    /// Waits for a message holding the line `want` (e.g. `READY=1`); returns when it arrived.
    pub fn wait_for(&mut self, want: &str) -> Instant {
        let deadline = Instant::now() + PATIENCE;
        if let Some(m) = self.seen.iter().find(|m| has_line(m, want)) {
            return m.at;
        }
        while let Ok(m) = self
            .messages
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.seen.push(m.clone());
            if has_line(&m, want) {
                return m.at;
            }
        }
        panic!("no {want:?} on the notify socket; got {:?}", self.texts());
    }

    /// When each message holding the line `want` arrived.
    pub fn times_of(&self, want: &str) -> Vec<Instant> {
        self.seen
            .iter()
            .filter(|m| has_line(m, want))
            .map(|m| m.at)
            .collect()
    }

    pub fn texts(&self) -> Vec<String> {
        self.seen.iter().map(|m| m.text.clone()).collect()
    }
}

fn has_line(m: &Message, want: &str) -> bool {
    m.text.lines().any(|l| l == want || l.starts_with(want))
}

/// A running `o4send run`.
pub struct Daemon {
    pub child: Child,
    lines: mpsc::Receiver<(Instant, String)>,
    /// Every stderr line read so far.
    pub log: String,
}

impl Daemon {
    /// Starts `o4send run --config config` with the extra environment `env`.
    pub fn start(config: &Path, env: &[(&str, &str)]) -> Daemon {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_o4send"));
        cmd.args(["run", "--config"])
            .arg(config)
            .env("RUST_LOG", "info")
            .env_remove("NOTIFY_SOCKET")
            .env_remove("WATCHDOG_USEC")
            .env_remove("WATCHDOG_PID")
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let (tx, lines) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send((Instant::now(), line));
            }
        });
        Daemon {
            child,
            lines,
            log: String::new(),
        }
    }

    /// Waits for a stderr line containing `want`; returns when it was read.
    pub fn wait_for(&mut self, want: &str) -> Instant {
        let deadline = Instant::now() + PATIENCE;
        while let Ok((at, line)) = self
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.log.push_str(&line);
            self.log.push('\n');
            if line.contains(want) {
                return at;
            }
        }
        panic!("no line with {want:?} in:\n{}", self.log);
    }

    /// Reads whatever stderr lines have arrived.
    pub fn drain(&mut self) {
        while let Ok((_, line)) = self.lines.try_recv() {
            self.log.push_str(&line);
            self.log.push('\n');
        }
    }

    pub fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill {sig} failed");
    }

    /// Waits up to `limit` for the process to exit; its status, or `None` if it still runs.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
