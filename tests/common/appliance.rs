//! A whole appliance for the dashboard's tests: the real `o4send run` on simulated phones (who
//! keep what they receive in an inbox folder) beside the real `o4send dashboard`, each its own
//! process with the same settings, as the image runs them; and the log to check them against.

#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `openssl passwd -6 -salt saltsalt booth7`
pub const HASH: &str = "$6$saltsalt$r2YUdksCwBi0TxgY5/igPoE32SQdJInjlBc/mZdOACDTHxZsEcaw1zA7.5fSL/uwSv53yGMlObmATakz.YTe71";
pub const PASSWORD: &str = "booth7";
/// The appliance's name: markup and quotes, to be shown as text.
pub const NAME: &str = "Booth <7> & \"friends\"";

pub struct Appliance {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub config: PathBuf,
    daemon: Child,
    dashboard: Child,
}

impl Drop for Appliance {
    fn drop(&mut self) {
        for child in [&mut self.daemon, &mut self.dashboard] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A loopback port nobody listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// (The dashboard's tests speak plain HTTP to its `http_port`, served in clear; its HTTPS is
/// tested by tests/dashboard_tls.rs.)
/// Phones that arrive over `arrival` seconds and stay; most accept, some decline, some have no
/// Object Push; each decides within 2 to 50 s.
fn config_text(dir: &Path, port: u16, phones: usize, arrival: u64) -> String {
    format!(
        "[appliance]\nname = {NAME:?}\ndata_dir = \"{d}\"\nlive_dir = \"{d}/live\"\n\
         [radio]\nbackend = \"sim\"\n\
         [[radio.adapters]]\nid = \"sim0\"\nrole = \"both\"\nslots = 4\n\
         [radio.sim]\nseed = 10\nphones = {phones}\narrival_window_secs = {arrival}\n\
         dwell_min_secs = 900\ndwell_max_secs = 900\ninbox = \"{d}/inbox\"\n\
         [radio.sim.mix]\naccept = 6\ndecline = 2\nignore = 0\nprompt_expires = 0\nno_opp = 1\n\
         refuse_connection = 0\ndrop_mid_transfer = 0\nrefuse_type = 0\nslow_link = 0\nout_of_range = 0\n\
         [engine]\nshutdown_grace_secs = 2\n\
         [dashboard]\naddress = \"127.0.0.1\"\nport = {https}\nhttp_port = {port}\nhttp = \"serve\"\n\
         password_hash = \"{HASH}\"\n",
        d = dir.display(),
        https = free_port(),
    )
}

impl Appliance {
    /// Starts the daemon (content: one flyer) and the dashboard, and waits until both answer.
    pub fn start(phones: usize, arrival: u64) -> Appliance {
        let dir = tempfile::tempdir().unwrap();
        let content = dir.path().join("content");
        std::fs::create_dir(&content).unwrap();
        std::fs::write(content.join("flyer.txt"), "the first campaign's flyer").unwrap();
        let port = free_port();
        let config = dir.path().join("o4send.toml");
        std::fs::write(&config, config_text(dir.path(), port, phones, arrival)).unwrap();
        let daemon = spawn(&config, "run", &dir.path().join("daemon.log"));
        let dashboard = spawn(&config, "dashboard", &dir.path().join("dashboard.log"));
        let app = Appliance {
            dir,
            port,
            config,
            daemon,
            dashboard,
        };
        app.wait_until("the dashboard listens", || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        app.wait_until("the daemon publishes its live state", || {
            app.live_dir().join("state.json").exists()
        });
        app
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn data(&self) -> &Path {
        self.dir.path()
    }

    pub fn live_dir(&self) -> PathBuf {
        self.dir.path().join("live")
    }

    pub fn db(&self) -> rusqlite::Connection {
        let c = rusqlite::Connection::open_with_flags(
            self.dir.path().join("o4send.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        c.busy_timeout(Duration::from_secs(5)).unwrap();
        c
    }

    /// One number from the log.
    pub fn count(&self, sql: &str) -> i64 {
        self.db().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// What the simulated phone `addr` received, by file name.
    pub fn inbox(&self, addr: &str) -> Vec<(String, Vec<u8>)> {
        let dir = self.dir.path().join("inbox").join(addr.replace(':', "-"));
        let mut got: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| {
                        let name = e.file_name().to_string_lossy().to_string();
                        (name, std::fs::read(e.path()).unwrap())
                    })
                    .collect()
            })
            .unwrap_or_default();
        got.sort();
        got
    }

    /// Every phone folder of the inbox that holds a file named `name`.
    pub fn phones_holding(&self, name: &str) -> Vec<(String, Vec<u8>)> {
        let Ok(dirs) = std::fs::read_dir(self.dir.path().join("inbox")) else {
            return Vec::new();
        };
        dirs.filter_map(|e| e.ok())
            .filter_map(|e| {
                let body = std::fs::read(e.path().join(name)).ok()?;
                Some((e.file_name().to_string_lossy().replace('-', ":"), body))
            })
            .collect()
    }

    /// The daemon's and the dashboard's logs so far, for a failing assertion.
    pub fn logs(&self) -> String {
        let read = |n: &str| std::fs::read_to_string(self.dir.path().join(n)).unwrap_or_default();
        format!(
            "--- daemon\n{}\n--- dashboard\n{}",
            read("daemon.log"),
            read("dashboard.log")
        )
    }

    /// Polls `cond` for up to 90 s; fails naming `what`.
    pub fn wait_until(&self, what: &str, mut cond: impl FnMut() -> bool) {
        let until = Instant::now() + Duration::from_secs(90);
        while !cond() {
            assert!(
                Instant::now() < until,
                "timed out waiting until {what}\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

fn spawn(config: &Path, command: &str, log: &Path) -> Child {
    let out = std::fs::File::create(log).unwrap();
    Command::new(env!("CARGO_BIN_EXE_o4send"))
        .args([command, "--config", config.to_str().unwrap(), "-v"])
        .env_remove("RUST_LOG")
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .stdin(Stdio::null())
        .spawn()
        .unwrap()
}
