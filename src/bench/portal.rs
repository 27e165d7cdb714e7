//! The captive page under a crowd: the real `o4send portal` process on loopback, and N visitors
//! (tasks here, each on its own keep-alive connection) loading the page and then the campaign's
//! file, again and again, for a fixed time. Prints requests per second, the latency percentiles,
//! failures and the portal's peak resident memory. The simulated hall is run alone and then
//! again while the visitors load the portal, so the two makespans can be compared.

use super::memory::status_kib;
use crate::content::demo_campaign;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The phones of the simulated hall run beside the visitors.
const HALL_PHONES: usize = 200;

pub fn run(visitors: usize, secs: u64) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("o4send-bench-portal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let result = measure(&dir, visitors.max(1), Duration::from_secs(secs.max(1)));
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn measure(dir: &Path, visitors: usize, length: Duration) -> Result<(), String> {
    let item = write_campaign(dir)?;
    let (mut child, port) = start_portal(dir)?;
    let alone = hall()?;
    let crowd = std::thread::spawn(move || crowd(port, visitors, length, &item));
    let busy = hall()?;
    let load = crowd
        .join()
        .map_err(|_| "the visitors' thread panicked")??;
    let rss = status_kib(&child.id().to_string(), "VmHWM:");
    let _ = child.kill();
    let _ = child.wait();
    print(visitors, length, &load, rss);
    println!("portal_bench_hall_phones={HALL_PHONES}");
    println!("portal_bench_hall_makespan_alone_secs={:.1}", alone.0);
    println!(
        "portal_bench_hall_makespan_with_visitors_secs={:.1}",
        busy.0
    );
    println!("portal_bench_hall_makespan_ratio={:.3}", busy.0 / alone.0);
    println!("portal_bench_hall_wall_alone_secs={:.2}", alone.1);
    println!("portal_bench_hall_wall_with_visitors_secs={:.2}", busy.1);
    Ok(())
}

/// The demo's campaign as files; returns the first item's name.
pub(super) fn write_campaign(dir: &Path) -> Result<String, String> {
    let content = dir.join("content");
    std::fs::create_dir_all(&content).map_err(|e| e.to_string())?;
    let demo = demo_campaign();
    let mut toml = format!("name = {:?}\n", demo.name);
    for item in &demo.items {
        std::fs::write(content.join(&item.name), &item.body).map_err(|e| e.to_string())?;
        toml += &format!(
            "[[items]]\nfile = {:?}\nmime = {:?}\n",
            item.name, item.mime
        );
    }
    std::fs::write(content.join("campaign.toml"), toml).map_err(|e| e.to_string())?;
    let cfg = format!(
        "[appliance]\ndata_dir = {:?}\ncontent_dir = {:?}\n",
        dir.display().to_string(),
        content.display().to_string()
    );
    std::fs::write(dir.join("o4send.toml"), cfg).map_err(|e| e.to_string())?;
    Ok(demo.items[0].name.clone())
}

pub(super) fn start_portal(dir: &Path) -> Result<(Child, u16), String> {
    let exe = super::server_exe()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let mut child = Command::new(exe)
        .arg("portal")
        .arg("--config")
        .arg(dir.join("o4send.toml"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the portal: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err("the portal did not listen within 10 s".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok((child, port))
}

/// The simulated hall's makespan (virtual seconds) and how long the run took on the wall.
fn hall() -> Result<(f64, f64), String> {
    let started = Instant::now();
    let makespan = super::ours(HALL_PHONES, 7, 1)?;
    Ok((makespan, started.elapsed().as_secs_f64()))
}

/// What the visitors got.
struct Load {
    /// Each answered request's latency, microseconds.
    latencies: Vec<u32>,
    failures: u64,
    bytes: u64,
    elapsed: Duration,
}

fn crowd(port: u16, visitors: usize, length: Duration, item: &str) -> Result<Load, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let item_path = format!(
        "/f/{}",
        percent_encoding::utf8_percent_encode(item, percent_encoding::NON_ALPHANUMERIC)
    );
    rt.block_on(async move {
        let started = Instant::now();
        let until = started + length;
        let tasks: Vec<_> = (0..visitors)
            .map(|_| tokio::spawn(visitor(port, until, item_path.clone())))
            .collect();
        let mut load = Load {
            latencies: Vec::new(),
            failures: 0,
            bytes: 0,
            elapsed: Duration::ZERO,
        };
        for t in tasks {
            let v = t.await.map_err(|e| e.to_string())?;
            load.latencies.extend(v.latencies);
            load.failures += v.failures;
            load.bytes += v.bytes;
        }
        load.elapsed = started.elapsed();
        Ok(load)
    })
}

/// One visitor: the page, then the file, on one connection, until `until`; a broken connection
/// counts as a failure and is opened again.
async fn visitor(port: u16, until: Instant, item: String) -> Load {
    let mut load = Load {
        latencies: Vec::new(),
        failures: 0,
        bytes: 0,
        elapsed: Duration::ZERO,
    };
    while Instant::now() < until {
        let Ok(stream) = TcpStream::connect(("127.0.0.1", port)).await else {
            load.failures += 1;
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let mut conn = BufReader::new(stream);
        while Instant::now() < until {
            let path = if load.latencies.len().is_multiple_of(2) {
                "/"
            } else {
                &item
            };
            let asked = Instant::now();
            match get(&mut conn, path).await {
                Ok(n) => {
                    load.latencies
                        .push(asked.elapsed().as_micros().min(u32::MAX as u128) as u32);
                    load.bytes += n;
                }
                Err(_) => {
                    load.failures += 1;
                    break;
                }
            }
        }
    }
    load
}

/// One GET on a keep-alive connection; the body's length in bytes.
async fn get(conn: &mut BufReader<TcpStream>, path: &str) -> std::io::Result<u64> {
    let request = format!("GET {path} HTTP/1.1\r\nHost: 10.44.0.1\r\n\r\n");
    conn.get_mut().write_all(request.as_bytes()).await?;
    let mut line = String::new();
    let mut length = 0u64;
    let mut status_ok = false;
    loop {
        line.clear();
        if conn.read_line(&mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let l = line.trim_end().to_ascii_lowercase();
        if l.starts_with("http/1.1 ") {
            status_ok = l.starts_with("http/1.1 200");
        } else if let Some(v) = l.strip_prefix("content-length: ") {
            length = v.parse().unwrap_or(0);
        } else if l.is_empty() {
            break;
        }
    }
    let mut body = vec![0; length as usize];
    conn.read_exact(&mut body).await?;
    match status_ok {
        true => Ok(length),
        false => Err(std::io::Error::other("not 200")),
    }
}

/// The `p` quantile (nearest rank) of `sorted` latencies in microseconds, in milliseconds.
pub(super) fn percentile_ms(sorted: &[u32], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1));
    sorted.get(i).copied().unwrap_or(0) as f64 / 1000.0
}

fn print(visitors: usize, length: Duration, load: &Load, rss_kib: u64) {
    let mut l = load.latencies.clone();
    l.sort_unstable();
    let pct = |p: f64| percentile_ms(&l, p);
    let secs = load.elapsed.as_secs_f64();
    println!("portal_bench_visitors={visitors}");
    println!("portal_bench_secs={}", length.as_secs());
    println!("portal_bench_requests={}", l.len());
    println!("portal_bench_requests_per_sec={:.0}", l.len() as f64 / secs);
    println!(
        "portal_bench_mib_per_sec={:.1}",
        load.bytes as f64 / secs / (1 << 20) as f64
    );
    println!("portal_bench_p50_ms={:.1}", pct(0.50));
    println!("portal_bench_p99_ms={:.1}", pct(0.99));
    println!("portal_bench_max_ms={:.1}", pct(1.0));
    println!("portal_bench_failures={}", load.failures);
    println!(
        "portal_bench_portal_rss_peak_mib={:.1}",
        rss_kib as f64 / 1024.0
    );
}
