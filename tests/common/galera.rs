//! A throwaway MariaDB Galera cluster for the sync tests: three `mariadbd` nodes with Debian's
//! `galera-4` provider on loopback (private SQL, group, IST and SST ports; private sockets), the
//! first one bootstrapping the cluster, a database `o4send` and its user made once and replicated
//! to all. A node can be SIGKILLed and started again: it rejoins and catches up by state transfer
//! (rsync), as a crashed node of a real cluster does. Nothing is mocked.
//!
//! Run as root, the nodes run as Debian's `mysql` user (as the packaged server does): the rsync
//! daemon of a state transfer, started by root, would drop to `nobody` and could not write the
//! joining node's data directory.
//!
//! Without `mariadbd` or the provider the tests fail, saying what to install, unless
//! `O4SEND_SKIP_MYSQL=1` is set outside CI, as [`super::mariadb`].

#![allow(dead_code)]

use super::mariadb::{find, free_port, install_db, is_root, root_sql, PASSWORD, USER};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PROVIDER: &str = "/usr/lib/galera/libgalera_smm.so";

struct Node {
    dir: PathBuf,
    port: u16,
    group: u16,
    ist: u16,
    sst: u16,
    child: Option<Child>,
}

pub struct Galera {
    _dir: tempfile::TempDir,
    nodes: Vec<Node>,
    cluster: String,
}

impl Galera {
    /// A fresh cluster of `n` nodes, all synced, or `None` when `O4SEND_SKIP_MYSQL=1`.
    pub fn start(n: usize) -> Option<Galera> {
        let ci = std::env::var("CI").as_deref() == Ok("true");
        if std::env::var("O4SEND_SKIP_MYSQL").as_deref() == Ok("1") && !ci {
            eprintln!(
                "O4SEND_SKIP_MYSQL=1: skipping a test that needs a real MariaDB Galera cluster"
            );
            return None;
        }
        let install = find("mariadb-install-db");
        assert!(
            find("mariadbd").is_some() && install.is_some() && Path::new(PROVIDER).is_file(),
            "a Galera cluster needs mariadbd and {PROVIDER}: install mariadb-server, galera-4 and \
             rsync (scripts/test.sh does it as root), or set O4SEND_SKIP_MYSQL=1 (not under CI=true)"
        );
        let dir = tempfile::tempdir().unwrap();
        open_to_mysql(dir.path(), 0o755);
        let nodes: Vec<Node> = (0..n).map(|i| node(dir.path(), i)).collect();
        let cluster = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.group))
            .collect::<Vec<_>>()
            .join(",");
        let mut g = Galera {
            _dir: dir,
            nodes,
            cluster,
        };
        for node in &g.nodes {
            install_db(install.as_deref().unwrap(), &node.dir);
            open_to_mysql(&node.dir, 0o700);
        }
        g.launch(0, true);
        g.wait_synced(0);
        g.root(
            0,
            &format!(
                "CREATE DATABASE o4send; CREATE USER '{USER}'@'%' IDENTIFIED BY '{PASSWORD}'; \
                 GRANT ALL ON o4send.* TO '{USER}'@'%';"
            ),
        );
        for i in 1..n {
            g.launch(i, false);
        }
        for i in 1..n {
            g.wait_synced(i);
        }
        Some(g)
    }

    /// How many nodes the cluster was started with.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// The URL o4send uses for node `i`, or for all nodes starting with `i`.
    pub fn url(&self, i: usize) -> String {
        format!(
            "mysql://{USER}:{PASSWORD}@127.0.0.1:{}/o4send",
            self.nodes[i].port
        )
    }

    /// Every node in one URL (`sync.mysql_url`'s list of servers), node `first` first.
    pub fn url_all_from(&self, first: usize) -> String {
        let n = self.nodes.len();
        let hosts: Vec<String> = (0..n)
            .map(|k| format!("127.0.0.1:{}", self.nodes[(first + k) % n].port))
            .collect();
        format!("mysql://{USER}:{PASSWORD}@{}/o4send", hosts.join(","))
    }

    /// SIGKILLs node `i` (a crash; the others go on as the cluster).
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts node `i` again and waits until it has caught up with the cluster. As Debian's
    /// `galera_recovery` does after a crash, the node's last committed position is read first
    /// (`mariadbd --wsrep-recover`) and given to it, so it catches up by incremental state
    /// transfer from another node's cache instead of copying the whole data directory.
    pub fn restart(&mut self, i: usize) {
        let position = self.recovered_position(i);
        self.launch_at(i, false, position.as_deref());
        self.wait_synced(i);
    }

    /// The position a crashed node's storage says it committed last, as `uuid:seqno`.
    fn recovered_position(&self, i: usize) -> Option<String> {
        let log = self.nodes[i].dir.join("recover.log");
        let _ = std::fs::remove_file(&log);
        let status = self
            .command(i, false, None)
            .arg("--wsrep-recover")
            .arg(format!("--log-error={}", log.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .ok()?;
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let found = text
            .lines()
            .filter_map(|l| l.split_once("WSREP: Recovered position: "))
            .map(|(_, p)| p.trim().to_string())
            .next_back();
        if !status.success() || found.is_none() {
            eprintln!("galera: node {i}: no recovered position; it joins by full state transfer");
        }
        found
    }

    /// Runs SQL as root on node `i`; panics on failure. Tab-separated rows.
    pub fn root(&self, i: usize, sql: &str) -> String {
        root_sql(&self.nodes[i].dir.join("sock"), sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// One number from a query on node `i`.
    pub fn count(&self, i: usize, sql: &str) -> i64 {
        self.root(i, sql)
            .parse()
            .unwrap_or_else(|_| panic!("{sql}: not a number"))
    }

    /// The cluster's size as node `i` sees it.
    pub fn size(&self, i: usize) -> i64 {
        status(&self.nodes[i], "wsrep_cluster_size")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    fn launch(&mut self, i: usize, bootstrap: bool) {
        self.launch_at(i, bootstrap, None);
    }

    fn launch_at(&mut self, i: usize, bootstrap: bool, position: Option<&str>) {
        assert!(self.nodes[i].child.is_none(), "node {i} is running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.nodes[i].dir.join("server.log"))
            .unwrap();
        let child = self
            .command(i, bootstrap, position)
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        self.nodes[i].child = Some(child);
    }

    /// `mariadbd` as node `i`.
    fn command(&self, i: usize, bootstrap: bool, position: Option<&str>) -> Command {
        let node = &self.nodes[i];
        let mut cmd = Command::new(find("mariadbd").unwrap());
        cmd.arg("--no-defaults");
        if is_root() {
            cmd.arg("--user=mysql");
        }
        cmd.arg(format!("--datadir={}", node.dir.join("data").display()))
            .arg(format!("--socket={}", node.dir.join("sock").display()))
            .arg(format!("--port={}", node.port))
            .arg(format!("--pid-file={}", node.dir.join("pid").display()))
            .args([
                "--bind-address=127.0.0.1",
                "--skip-name-resolve",
                "--innodb-buffer-pool-size=64M",
                "--innodb-log-file-size=64M",
                "--binlog-format=ROW",
                "--innodb-autoinc-lock-mode=2",
                "--default-storage-engine=InnoDB",
                "--wsrep-on=ON",
                "--wsrep-cluster-name=o4send-test",
                "--wsrep-sst-method=rsync",
            ])
            .arg(format!("--wsrep-provider={PROVIDER}"))
            .arg(format!("--wsrep-cluster-address=gcomm://{}", self.cluster))
            .arg(format!("--wsrep-node-address=127.0.0.1:{}", node.group))
            .arg(format!("--wsrep-node-name=node{i}"))
            .arg(format!(
                "--wsrep-sst-receive-address=127.0.0.1:{}",
                node.sst
            ))
            .arg(format!(
                "--wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:{};\
                 ist.recv_addr=127.0.0.1:{};gcache.size=64M;\
                 evs.suspect_timeout=PT10S;evs.inactive_timeout=PT30S",
                node.group, node.ist
            ));
        if bootstrap {
            cmd.arg("--wsrep-new-cluster");
        }
        if let Some(position) = position {
            cmd.arg(format!("--wsrep-start-position={position}"));
        }
        cmd
    }

    /// Waits until node `i` says Synced and sees every running node.
    fn wait_synced(&self, i: usize) {
        let running = self.nodes.iter().filter(|n| n.child.is_some()).count() as i64;
        let deadline = Instant::now() + Duration::from_secs(180);
        while Instant::now() < deadline {
            let synced =
                status(&self.nodes[i], "wsrep_local_state_comment").as_deref() == Some("Synced");
            if synced && self.size(i) == running {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let logs: Vec<String> = (0..self.nodes.len())
            .map(|k| {
                let log = std::fs::read_to_string(self.nodes[k].dir.join("server.log"))
                    .unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(25).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                format!("--- node {k}'s log ends:\n{}", tail.join("\n"))
            })
            .collect();
        panic!(
            "Galera node {i} did not sync within 180 s\n{}",
            logs.join("\n")
        );
    }
}

/// Node `i`'s directory and ports.
fn node(root: &Path, i: usize) -> Node {
    let dir = root.join(format!("node{i}"));
    std::fs::create_dir_all(&dir).unwrap();
    Node {
        dir,
        port: free_port(),
        group: free_port(),
        ist: free_port(),
        sst: free_port(),
        child: None,
    }
}

/// One wsrep status variable of a node, if it answers.
fn status(node: &Node, name: &str) -> Option<String> {
    let out = root_sql(
        &node.dir.join("sock"),
        &format!("SHOW STATUS LIKE '{name}'"),
    )
    .ok()?;
    out.split('\t').nth(1).map(str::to_string)
}

/// As root, hands `path` to the `mysql` user the nodes run as.
fn open_to_mysql(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    if !is_root() {
        return;
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    let ok = Command::new("chown")
        .args(["-R", "mysql:mysql"])
        .arg(path)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "chown -R mysql {} failed", path.display());
}

impl Drop for Galera {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill(i);
        }
    }
}
