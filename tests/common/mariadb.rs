//! A throwaway MariaDB for the sync tests: Debian's `mariadb-install-db` into a temp dir, then
//! `mariadbd` on a free loopback port and a private socket, with a database `o4send` and a user
//! `o4send` with a password. It can be stopped and started again to inject faults, and is
//! killed when dropped. Nothing is mocked.
//!
//! Without `mariadbd` the tests fail, saying to install mariadb-server, unless
//! `O4SEND_SKIP_MYSQL=1` is set: then [`MariaDb::start`] says they were skipped and gives `None`.
//! Under CI (`CI=true`) nothing is skipped: a missing MariaDB fails the test.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const USER: &str = "o4send";
pub const PASSWORD: &str = "pw-3f9a1c-not-for-logs";

pub struct MariaDb {
    dir: tempfile::TempDir,
    pub port: u16,
    child: Option<Child>,
    /// Server options after the small test defaults (a later option wins).
    options: Vec<String>,
}

/// A fleet server as docs/mysql.md configures one for many appliances: Debian's own buffer pool
/// and redo log sizes, and the thread pool.
pub const FLEET_SERVER: &[&str] = &[
    "--innodb-buffer-pool-size=128M",
    "--innodb-log-file-size=96M",
    "--thread-handling=pool-of-threads",
];

pub fn find(name: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"])
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file());
    found
}

pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

impl MariaDb {
    /// A fresh server, or `None` (with a message) when `O4SEND_SKIP_MYSQL=1`.
    pub fn start() -> Option<MariaDb> {
        MariaDb::start_with(&[])
    }

    /// The same with more server options, e.g. [`FLEET_SERVER`].
    pub fn start_with(options: &[&str]) -> Option<MariaDb> {
        let ci = std::env::var("CI").as_deref() == Ok("true");
        if std::env::var("O4SEND_SKIP_MYSQL").as_deref() == Ok("1") && !ci {
            eprintln!("O4SEND_SKIP_MYSQL=1: skipping a test that needs a real MariaDB");
            return None;
        }
        let (Some(_), Some(install)) = (find("mariadbd"), find("mariadb-install-db")) else {
            panic!(
                "mariadbd not found: install mariadb-server (apt-get install mariadb-server; \
                 scripts/test.sh does it as root), or set O4SEND_SKIP_MYSQL=1 to skip \
                 (not under CI=true)"
            );
        };
        let dir = tempfile::tempdir().unwrap();
        install_db(&install, dir.path());
        let mut db = MariaDb {
            dir,
            port: free_port(),
            child: None,
            options: options.iter().map(|o| o.to_string()).collect(),
        };
        db.start_again();
        db.root(&format!(
            "CREATE DATABASE o4send; CREATE USER '{USER}'@'%' IDENTIFIED BY '{PASSWORD}'; \
             GRANT ALL ON o4send.* TO '{USER}'@'%';"
        ));
        Some(db)
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("sock")
    }

    /// The URL o4send uses.
    pub fn url(&self) -> String {
        format!("mysql://{USER}:{PASSWORD}@127.0.0.1:{}/o4send", self.port)
    }

    /// The same without the password (for configs that pass it as `sync.password`).
    pub fn url_without_password(&self) -> String {
        format!("mysql://{USER}@127.0.0.1:{}/o4send", self.port)
    }

    /// Starts the server (again) and waits until it answers.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "already running");
        let mut cmd = Command::new(find("mariadbd").unwrap());
        cmd.arg("--no-defaults");
        if is_root() {
            cmd.arg("--user=root");
        }
        let child = cmd
            .arg(format!(
                "--datadir={}",
                self.dir.path().join("data").display()
            ))
            .arg(format!("--socket={}", self.socket().display()))
            .arg(format!("--port={}", self.port))
            .arg(format!(
                "--pid-file={}",
                self.dir.path().join("pid").display()
            ))
            .args([
                "--bind-address=127.0.0.1",
                "--skip-name-resolve",
                "--innodb-buffer-pool-size=64M",
                "--innodb-log-file-size=64M",
                "--skip-log-bin",
            ])
            .args(&self.options)
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(self.dir.path().join("server.log"))
                    .unwrap(),
            ))
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if self.try_root("SELECT 1").is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "mariadbd did not come up: {}",
            std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
        );
    }

    /// Kills the server (SIGKILL: the harshest stop; InnoDB recovers at the next start).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Runs SQL as root over the private socket; panics on failure. Returns tab-separated rows.
    /// Runs `sql` as root in the o4send database in the background (a session that holds a
    /// lock, say); the caller waits for the child.
    pub fn root_in_background(&self, sql: &str) -> std::process::Child {
        Command::new(find("mariadb").expect("the mariadb client (mariadb-client)"))
            .args(["--no-defaults", "-u", "root", "-N", "-B", "o4send"])
            .arg(format!("--socket={}", self.socket().display()))
            .args(["-e", sql])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap()
    }

    pub fn root(&self, sql: &str) -> String {
        self.try_root(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    fn try_root(&self, sql: &str) -> Result<String, String> {
        root_sql(&self.socket(), sql)
    }

    /// One number from a query.
    pub fn count(&self, sql: &str) -> i64 {
        self.root(sql)
            .parse()
            .unwrap_or_else(|_| panic!("{sql}: not a number"))
    }
}

/// Runs `sql` as root over the server's socket, in the o4send database once it exists.
pub fn root_sql(socket: &Path, sql: &str) -> Result<String, String> {
    let out = Command::new(find("mariadb").expect("the mariadb client (mariadb-client)"))
        .args(["--no-defaults", "-u", "root", "-N", "-B", "o4send"])
        .arg(format!("--socket={}", socket.display()))
        .args(["-e", sql])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        // Before CREATE DATABASE the default database does not exist yet.
        let again = Command::new(find("mariadb").unwrap())
            .args(["--no-defaults", "-u", "root", "-N", "-B"])
            .arg(format!("--socket={}", socket.display()))
            .args(["-e", sql])
            .output()
            .map_err(|e| e.to_string())?;
        if !again.status.success() {
            return Err(String::from_utf8_lossy(&again.stderr).into_owned());
        }
        return Ok(String::from_utf8_lossy(&again.stdout).trim().to_string());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// `mariadb-install-db`, tried three times: its bootstrap server sometimes fails under load.
pub fn install_db(install: &Path, dir: &Path) {
    let mut last = String::new();
    for _ in 0..3 {
        let data = dir.join("data");
        let _ = std::fs::remove_dir_all(&data);
        let out = Command::new(install)
            .args(["--no-defaults", "--user=root", "--skip-test-db"])
            .arg(format!("--datadir={}", data.display()))
            .arg("--auth-root-authentication-method=normal")
            .output()
            .unwrap();
        if out.status.success() {
            return;
        }
        last = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("mariadb-install-db failed three times: {last}");
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        self.stop();
    }
}
