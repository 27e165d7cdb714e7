//! The captive page and the dashboard under siege (issue 26), as figures: the real
//! `o4send portal` and `o4send dashboard` processes on loopback, each started with the open-file
//! limit a systemd unit gets by default (1 024), while the attacks of the issue press on them
//! all the time: logins carrying a 1.5 MB password (each with a valid form token) against the
//! dashboard, and against each server a crowd of idle connections and of connections that send
//! their headers a line every two seconds (each reopened as soon as the server closes it).
//! Meanwhile a new `GET /` on the portal, the dashboard's `/health` and a logged-in dashboard
//! page are timed, one after another, over and over. Prints each probe's p50, p99 and failures,
//! each process's peak resident memory against its unit's `MemoryMax=`, and whether either
//! process died. Goal: p99 <= 500 ms, memory within the limits, no process lost.
//! `O4SEND_BENCH_SERVER=/path/to/o4send` besieges another build's servers the same way.

use super::memory::status_kib;
use std::path::Path;
use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The size of the attack (defaults: the figures).
#[derive(Clone, Copy, Debug)]
pub struct Siege {
    pub logins: usize,
    pub idle: usize,
    pub slow: usize,
    pub secs: u64,
}

/// What systemd gives a unit that sets no `LimitNOFILE=`.
const UNIT_FILES: libc::rlim_t = 1024;
/// The units' `MemoryMax=` (board/common/rootfs-overlay/etc/systemd/system).
const PORTAL_MEMORY_MAX_MIB: u64 = 96;
const DASHBOARD_MEMORY_MAX_MIB: u64 = 48;
/// Both units' `TasksMax=` (threads count against it): the bench counts them, as it does memory.
const UNIT_TASKS_MAX: u64 = 16;
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

pub fn run(siege: Siege) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("o4send-bench-siege-{}", std::process::id()));
    let result = std::fs::create_dir_all(dir.join("portal"))
        .and_then(|_| std::fs::create_dir_all(dir.join("dashboard")))
        .map_err(|e| format!("{}: {e}", dir.display()))
        .and_then(|_| besiege(&dir, siege));
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn besiege(dir: &Path, siege: Siege) -> Result<(), String> {
    super::portal::write_campaign(&dir.join("portal"))?;
    let own = files_limit();
    set_files_limit(UNIT_FILES.min(own.1), own.1)?;
    let portal = super::portal::start_portal(&dir.join("portal"));
    let dashboard = super::dashboard::start(&dir.join("dashboard"));
    set_files_limit(own.1, own.1)?;
    let (mut portal, portal_port) = portal?;
    let (mut dashboard, dash_port) = match dashboard {
        Ok(d) => d,
        Err(e) => {
            let _ = portal.kill();
            return Err(e);
        }
    };
    let session = super::dashboard::login(dash_port)?;
    let servers = Servers {
        portal: (portal_port, portal.id()),
        dashboard: (dash_port, dashboard.id()),
    };
    let result = siege_both(siege, servers, &session);
    let report = result.map(|probes| Report {
        probes,
        portal_mib: peak_mib(&portal),
        dashboard_mib: peak_mib(&dashboard),
        lost: [&mut portal, &mut dashboard]
            .into_iter()
            .filter_map(|c| match c.try_wait() {
                Ok(None) => None,
                _ => Some(()),
            })
            .count(),
    });
    for child in [&mut portal, &mut dashboard] {
        let _ = child.kill();
        let _ = child.wait();
    }
    report?.print(siege);
    Ok(())
}

/// The process's soft and hard limits on open files.
fn files_limit() -> (libc::rlim_t, libc::rlim_t) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit fills the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return (UNIT_FILES, UNIT_FILES);
    }
    (lim.rlim_cur, lim.rlim_max)
}

/// Sets this process's open-file limit (the servers started meanwhile inherit it).
fn set_files_limit(soft: libc::rlim_t, hard: libc::rlim_t) -> Result<(), String> {
    let lim = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: setrlimit reads the struct it is given.
    match unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } {
        0 => Ok(()),
        _ => Err(format!(
            "cannot set the open-file limit to {soft}: {}",
            std::io::Error::last_os_error()
        )),
    }
}

fn peak_mib(child: &Child) -> f64 {
    status_kib(&child.id().to_string(), "VmHWM:") as f64 / 1024.0
}

/// The three probes' latencies (microseconds) and failures.
#[derive(Default)]
struct Probes {
    portal_page: Vec<u32>,
    health: Vec<u32>,
    logged_in: Vec<u32>,
    failures: [u64; 3],
    /// The most threads each process (portal, dashboard) ran at once during the attack.
    peak_tasks: [u64; 2],
}

struct Report {
    probes: Probes,
    portal_mib: f64,
    dashboard_mib: f64,
    lost: usize,
}

/// What the attackers did meanwhile: connections opened, and oversized logins answered.
#[derive(Default)]
struct Pressure {
    connections: AtomicU64,
    logins: AtomicU64,
}

/// Each server's port and process id.
#[derive(Clone, Copy)]
struct Servers {
    portal: (u16, u32),
    dashboard: (u16, u32),
}

/// Files a process has open now.
fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// Until each server holds as many connections as the attack opens on it, or its file limit
/// nearly, or the attack has had `ramp` and 5 s more (a server that closes what it cannot keep
/// never fills up). Prints how long that took and what each held.
async fn wait_for_pressure(siege: Siege, servers: Servers, ramp: Duration) {
    let want = (siege.idle + siege.slow).min(UNIT_FILES as usize - 40);
    let started = Instant::now();
    let pids = [servers.portal.1, servers.dashboard.1];
    while started.elapsed() < ramp + Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if pids.iter().all(|&p| open_files(p) >= want) {
            break;
        }
    }
    println!(
        "siege: after {:.0} s of attack the portal holds {} open files, the dashboard {}",
        started.elapsed().as_secs_f64(),
        open_files(pids[0]),
        open_files(pids[1])
    );
}

fn siege_both(siege: Siege, servers: Servers, session: &str) -> Result<Probes, String> {
    let (portal, dash) = (servers.portal.0, servers.dashboard.0);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let session = session.to_string();
    rt.block_on(async move {
        let stop = Arc::new(AtomicBool::new(false));
        let pressure = Arc::new(Pressure::default());
        let mut attackers = Vec::new();
        // Connections are opened 2 ms apart, as a client on a network would: all at once, most
        // would overflow the listen queue and hang half-open, never reaching the server.
        let mut start = Duration::ZERO;
        for port in [portal, dash] {
            for i in 0..siege.idle + siege.slow {
                start += Duration::from_millis(2);
                let (stop, pressure) = (stop.clone(), pressure.clone());
                attackers.push(tokio::spawn(async move {
                    tokio::time::sleep(start).await;
                    match i < siege.idle {
                        true => idle(port, stop, pressure).await,
                        false => slow(port, stop, pressure).await,
                    }
                }));
            }
        }
        for _ in 0..siege.logins {
            attackers.push(tokio::spawn(oversized_login(
                dash,
                stop.clone(),
                pressure.clone(),
            )));
        }
        let peaks = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
        let pids = [servers.portal.1, servers.dashboard.1];
        attackers.push(tokio::spawn(count_tasks(pids, peaks.clone())));
        wait_for_pressure(siege, servers, start).await;
        let mut probes = probe(portal, dash, &session, Duration::from_secs(siege.secs)).await;
        probes.peak_tasks = [0, 1].map(|i| peaks[i].load(Ordering::Relaxed));
        stop.store(true, Ordering::Relaxed);
        for a in attackers {
            a.abort();
        }
        println!(
            "siege_attack_connections_opened={} siege_oversized_logins_answered={}",
            pressure.connections.load(Ordering::Relaxed),
            pressure.logins.load(Ordering::Relaxed)
        );
        Ok(probes)
    })
}

/// Keeps the most threads each of `pids` has run at once, sampled every 100 ms.
async fn count_tasks(pids: [u32; 2], peaks: Arc<[AtomicU64; 2]>) {
    loop {
        for (pid, peak) in pids.iter().zip(peaks.iter()) {
            peak.fetch_max(status_kib(&pid.to_string(), "Threads:"), Ordering::Relaxed);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A connection that says nothing, reopened whenever the server closes it.
async fn idle(port: u16, stop: Arc<AtomicBool>, pressure: Arc<Pressure>) {
    while !stop.load(Ordering::Relaxed) {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)).await {
            pressure.connections.fetch_add(1, Ordering::Relaxed);
            let mut buf = [0u8; 64];
            let _ = s.read(&mut buf).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A request whose headers come a line every two seconds and never end.
async fn slow(port: u16, stop: Arc<AtomicBool>, pressure: Arc<Pressure>) {
    while !stop.load(Ordering::Relaxed) {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)).await {
            pressure.connections.fetch_add(1, Ordering::Relaxed);
            let mut line: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n";
            while s.write_all(line).await.is_ok() && !stop.load(Ordering::Relaxed) {
                line = b"X-Slow: 1\r\n";
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Logins with a 1.5 MB password, each with a fresh form token, one after another.
async fn oversized_login(port: u16, stop: Arc<AtomicBool>, pressure: Arc<Pressure>) {
    let password = "a".repeat(1_500_000);
    while !stop.load(Ordering::Relaxed) {
        let Ok(form) = exchange(port, "GET /login", "", "").await else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        let token = super::dashboard::between(&form, "o4send_login=", ";")
            .unwrap_or("")
            .to_string();
        let body = format!("csrf={token}&password={password}");
        let cookie = format!("o4send_login={token}");
        if exchange(port, "POST /login", &cookie, &body).await.is_ok() {
            pressure.logins.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The three probes in turn, each on a new connection, for `length`.
async fn probe(portal: u16, dash: u16, session: &str, length: Duration) -> Probes {
    let mut p = Probes::default();
    let until = Instant::now() + length;
    while Instant::now() < until {
        let asks = [
            (portal, "GET /", ""),
            (dash, "GET /health", ""),
            (dash, "GET /", session),
        ];
        for (i, (port, line, cookie)) in asks.into_iter().enumerate() {
            let asked = Instant::now();
            match tokio::time::timeout(PROBE_TIMEOUT, exchange(port, line, cookie, "")).await {
                Ok(Ok(reply)) if reply.starts_with("HTTP/1.1 200") => {
                    let us = asked.elapsed().as_micros().min(u32::MAX as u128) as u32;
                    [&mut p.portal_page, &mut p.health, &mut p.logged_in][i].push(us);
                }
                _ => p.failures[i] += 1,
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    p
}

/// One request on its own connection (`Connection: close`); the whole reply.
async fn exchange(port: u16, line: &str, cookie: &str, body: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await?;
    // The portal answers its own address (the hotspot's default) with the page, other names
    // with a redirect to it; the dashboard answers any IP address.
    let head = format!(
        "{line} HTTP/1.1\r\nHost: 10.44.0.1\r\nConnection: close\r\nCookie: {cookie}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await?;
    // A refused body is answered before it is all sent: the reply counts, not the write.
    let _ = s.write_all(body.as_bytes()).await;
    let mut reply = Vec::new();
    s.read_to_end(&mut reply).await?;
    Ok(String::from_utf8_lossy(&reply).into_owned())
}

impl Report {
    fn print(&self, s: Siege) {
        println!(
            "siege: {} oversized logins, {} idle and {} slow-header connections on each server \
             (each server limited to {UNIT_FILES} open files), {} s of probes",
            s.logins, s.idle, s.slow, s.secs
        );
        let names = ["portal_page", "dashboard_health", "dashboard_logged_in"];
        let lists = [
            &self.probes.portal_page,
            &self.probes.health,
            &self.probes.logged_in,
        ];
        let mut worst = 0.0f64;
        for ((name, list), failed) in names.iter().zip(lists).zip(self.probes.failures) {
            let (p50, p99) = (percentile(list, 0.50), percentile(list, 0.99));
            worst = worst.max(p99);
            println!(
                "siege_{name}: answered {} failed {failed} p50 {p50:.1} ms p99 {p99:.1} ms",
                list.len()
            );
        }
        println!(
            "siege_peak_rss: portal {:.1} MiB (MemoryMax {PORTAL_MEMORY_MAX_MIB} MiB), dashboard \
             {:.1} MiB (MemoryMax {DASHBOARD_MEMORY_MAX_MIB} MiB); processes lost: {}",
            self.portal_mib, self.dashboard_mib, self.lost
        );
        let [portal_tasks, dashboard_tasks] = self.probes.peak_tasks;
        println!(
            "siege_peak_tasks: portal {portal_tasks}, dashboard {dashboard_tasks} (TasksMax \
             {UNIT_TASKS_MAX} each)"
        );
        let failed: u64 = self.probes.failures.iter().sum();
        let met = worst <= 500.0
            && failed == 0
            && self.lost == 0
            && self.portal_mib <= PORTAL_MEMORY_MAX_MIB as f64
            && self.dashboard_mib <= DASHBOARD_MEMORY_MAX_MIB as f64
            && portal_tasks.max(dashboard_tasks) <= UNIT_TASKS_MAX;
        println!(
            "siege: goal (p99 <= 500 ms, no failed probe, memory and threads within the units' \
             limits, no process lost): {}",
            if met { "met" } else { "MISSED" }
        );
    }
}

fn percentile(list: &[u32], p: f64) -> f64 {
    let mut sorted = list.to_vec();
    sorted.sort_unstable();
    super::portal::percentile_ms(&sorted, p)
}
