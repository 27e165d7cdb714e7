//! Resident memory of the daemon over a long run: 100 000 simulated sightings of thousands of
//! phones coming and going, measured in a fresh process (`bench --rss-child`) so nothing else
//! the benchmark did inflates the figure.

use super::run_engine;
use crate::config::{AdapterConfig, Config, SimConfig};
use crate::engine::Progress;
use std::process::Command;
use std::sync::{Arc, Mutex};

/// Runs the measurement in a child process and relays its figures.
pub fn in_child(sightings: u64) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find myself: {e}"))?;
    let out = Command::new(exe)
        .args([
            "bench",
            "--rss-child",
            "--sightings",
            &sightings.to_string(),
        ])
        .output()
        .map_err(|e| format!("cannot start the memory run: {e}"))?;
    print!("{}", String::from_utf8_lossy(&out.stdout));
    if !out.status.success() {
        return Err(format!(
            "memory run failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

/// The measurement itself (in the child).
pub fn measure(sightings: u64) -> Result<(), String> {
    println!("rss_kib_at_start={}", proc_status_kib("VmRSS:"));
    // Visitors stay 2–6 minutes, about twenty sightings each: 5 000 phones make 100 000
    // sightings. One radio scans, one pushes (a radio that does both holds inquiry while it pages).
    let phones = (sightings / 20).max(100) as usize;
    let mut cfg = Config::default();
    cfg.radio.backend = crate::config::Backend::Sim;
    cfg.radio.adapters = AdapterConfig::sim_scan_and_push();
    cfg.radio.sim = SimConfig {
        seed: 11,
        phones,
        arrival_window_secs: phones as u64 * 2,
        dwell_min_secs: 120,
        dwell_max_secs: 360,
        ..SimConfig::default()
    };
    let samples = Arc::new(Mutex::new(Vec::new()));
    let recorder = samples.clone();
    let step = (sightings / 10).max(1);
    let (progress, _) = run_engine(
        cfg,
        move |p| p.sightings >= sightings,
        move |rx, world| {
            world.discard_inboxes();
            println!(
                "rss_kib_with_simulated_hall_built={}",
                proc_status_kib("VmRSS:")
            );
            tokio::spawn(sample(rx, step, recorder));
        },
    )?;
    let samples = samples
        .lock()
        .map_err(|_| "sampler panicked".to_string())?
        .clone();
    print_figures(&progress, &samples);
    Ok(())
}

async fn sample(
    mut rx: tokio::sync::watch::Receiver<Progress>,
    step: u64,
    out: Arc<Mutex<Vec<(u64, u64)>>>,
) {
    let mut next = step;
    while rx.changed().await.is_ok() {
        let seen = rx.borrow_and_update().sightings;
        if seen >= next {
            if let Ok(mut v) = out.lock() {
                v.push((seen, proc_status_kib("VmRSS:")));
            }
            next += step;
        }
    }
}

fn print_figures(progress: &Progress, samples: &[(u64, u64)]) {
    for (seen, kib) in samples {
        println!("rss_kib_at_{seen}_sightings={kib}");
    }
    println!("sightings={}", progress.sightings);
    println!("attempts={}", progress.attempts);
    println!("devices_forgotten={}", progress.forgotten);
    // The kernel updates VmHWM lazily; a sample may stand above it.
    let sampled = samples.iter().map(|s| s.1).max().unwrap_or(0);
    println!("rss_peak_kib={}", proc_status_kib("VmHWM:").max(sampled));
    // What the peak is made of now: the daemon's own memory (anonymous) and the pages of the
    // binary and libraries mapped from the page cache (file-backed, clean, reclaimable).
    println!("rss_anon_kib_at_end={}", proc_status_kib("RssAnon:"));
    println!("rss_file_kib_at_end={}", proc_status_kib("RssFile:"));
    // Growth after warm-up (from the second sample on): flat means nothing is kept per sighting.
    if let (Some(second), Some(last)) = (samples.get(1), samples.last()) {
        let growth = last.1 as i64 - second.1 as i64;
        println!(
            "rss_growth_kib_{}_to_{}_sightings={growth}",
            second.0, last.0
        );
    }
}

/// A `kB` field of /proc/self/status (0 where there is none).
fn proc_status_kib(field: &str) -> u64 {
    status_kib("self", field)
}

/// A `/proc/<pid>/status` figure in KiB (0 when unreadable).
pub(super) fn status_kib(pid: &str, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}
