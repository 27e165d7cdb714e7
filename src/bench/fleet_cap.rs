//! `o4send bench --fleet N --sync URL --cap C`: how far a fleet goes over a cap it shares.
//!
//! Each of the N simulated appliances runs the real policy on one item capped at C, its own log
//! and the real sync against the server, on its own thread: a visitor arrives every
//! 1/[`RATE`] s and accepts at once (the worst case: every phone asked takes the file), and a
//! sync round runs every [`INTERVAL`], after which the policy counts the fleet's accepted
//! answers again, as the daemon does. An appliance stops once its policy finds the item capped
//! and two more rounds have passed. The figure is how many more than C were accepted in all:
//! what the others accept while an appliance does not know it yet (at most one interval and
//! the time a round takes, per other appliance).

use super::fleet::settings;
use crate::config::PolicyConfig;
use crate::content::{Campaign, Item};
use crate::model::clock::{Clock, Stamp};
use crate::model::device::{BdAddr, ClassOfDevice};
use crate::model::outcome::Outcome;
use crate::policy::{Now, Policy, Seen, Skip};
use crate::store::{AttemptRecord, DeviceHistory, Store, StoreOptions};
use crate::sync;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Visitors per second at each appliance, every one accepting.
const RATE: f64 = 5.0;
/// From one sync round to the next (the daemon's default is 30 s: the overshoot grows with it).
const INTERVAL: Duration = Duration::from_secs(2);
/// An appliance that has not seen the cap reached after this long fails the benchmark.
const LIMIT: Duration = Duration::from_secs(600);

/// What one appliance did.
struct Run {
    accepted: u64,
    /// When its policy first found the item capped.
    capped_at: Duration,
}

/// Runs the fleet of `n` against `url` on a cap of `cap`; prints the figures.
pub fn run(url: &str, n: usize, cap: u64) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("o4send-bench-cap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let result = run_in(&dir, url, n.max(1), cap.max(1));
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn run_in(dir: &Path, url: &str, n: usize, cap: u64) -> Result<(), String> {
    let fleet = format!("cap-{}-{}", std::process::id(), Clock::system().now_ms());
    let item = Arc::new(capped_item(cap));
    let started = Instant::now();
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let s = settings(url, &fleet, &format!("{fleet}-a{i}"));
            let log = dir.join(format!("a{i}.db"));
            let item = item.clone();
            std::thread::spawn(move || appliance(i as u8, s, log, item, started))
        })
        .collect();
    let mut runs = Vec::new();
    for t in threads {
        runs.push(t.join().map_err(|_| "an appliance's thread panicked")??);
    }
    let accepted: u64 = runs.iter().map(|r| r.accepted).sum();
    let over = accepted.saturating_sub(cap);
    let per_window = (n as f64 - 1.0).max(1.0) * RATE * INTERVAL.as_secs_f64();
    println!("fleet_cap_appliances={n}");
    println!("fleet_cap_cap={cap}");
    println!("fleet_cap_rate_per_appliance={RATE}");
    println!("fleet_cap_interval_secs={}", INTERVAL.as_secs());
    println!("fleet_cap_accepted={accepted}");
    println!("fleet_cap_over={over}");
    println!(
        "fleet_cap_over_in_intervals={:.2}",
        over as f64 / per_window
    );
    let last = runs.iter().map(|r| r.capped_at).max().unwrap_or_default();
    println!("fleet_cap_all_capped_secs={:.1}", last.as_secs_f64());
    Ok(())
}

fn capped_item(cap: u64) -> Item {
    let mut item = Item::new(
        "voucher.pdf",
        "application/pdf",
        b"%PDF-1.4 v".to_vec(),
        vec![],
    );
    item.rules.cap_total = Some(cap);
    item
}

fn appliance(
    index: u8,
    s: sync::Settings,
    log: PathBuf,
    item: Arc<Item>,
    started: Instant,
) -> Result<Run, String> {
    crate::engine::runtime()?.block_on(async {
        let store = Store::open(&log, StoreOptions::new("bench")).map_err(|e| e.to_string())?;
        let result = visitors(index, &s, &store, item, started).await;
        let _ = sync::once(&s, &store, &mut |_| {}).await;
        let _ = store.close().await;
        result
    })
}

async fn visitors(
    index: u8,
    s: &sync::Settings,
    store: &Store,
    item: Arc<Item>,
    started: Instant,
) -> Result<Run, String> {
    let campaign = Arc::new(Campaign {
        items: vec![item.clone()],
        ..Campaign::default()
    });
    let tz = jiff::tz::TimeZone::UTC;
    let mut policy = Policy::new(&PolicyConfig::default(), tz, campaign, LIMIT);
    let clock = Clock::system();
    let reader = store.reader().map_err(|e| e.to_string())?;
    let mut run = Run {
        accepted: 0,
        capped_at: Duration::ZERO,
    };
    let (mut arrived, mut last_sync, mut rounds_after) = (0u64, Instant::now(), 0);
    while started.elapsed() < LIMIT {
        let now = Now {
            mono_ms: started.elapsed().as_millis() as u64,
            wall_ms: clock.now_ms(),
        };
        while (arrived as f64) < started.elapsed().as_secs_f64() * RATE {
            arrived += 1;
            let addr = BdAddr([
                0x02,
                index,
                (arrived >> 16) as u8,
                (arrived >> 8) as u8,
                arrived as u8,
                1,
            ]);
            match visit(&mut policy, store, addr, &item, now).await {
                Ok(()) => run.accepted += 1,
                Err(Skip::Done) if run.capped_at.is_zero() => run.capped_at = started.elapsed(),
                Err(_) => {}
            }
        }
        if last_sync.elapsed() >= INTERVAL {
            last_sync = Instant::now();
            sync::once(s, store, &mut |_| {})
                .await
                .map_err(|e| e.to_string())?;
            let counts = reader
                .accepted(&policy.capped_hashes(), policy.day_start_ms(now))
                .map_err(|e| e.to_string())?;
            policy.learn_counts(counts.0, counts.1, now);
            if !run.capped_at.is_zero() {
                rounds_after += 1;
                if rounds_after > 2 {
                    return Ok(run);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(format!(
        "{}: the cap was not reached within {} s",
        s.appliance,
        LIMIT.as_secs()
    ))
}

/// One visitor: seen, offered the item if the policy says so, accepts at once.
async fn visit(
    policy: &mut Policy,
    store: &Store,
    addr: BdAddr,
    item: &Item,
    now: Now,
) -> Result<(), Skip> {
    let seen = Seen {
        addr,
        class: ClassOfDevice(0x5A020C),
        rssi: Some(-50),
        name: None,
    };
    if policy.seen(&seen, now) {
        policy.learn(addr, &DeviceHistory::default(), now);
    }
    let job = policy.next_job(addr, now)?;
    let stamp = Stamp {
        at_ms: now.wall_ms,
        clock_synced: true,
    };
    store
        .attempt(AttemptRecord {
            addr,
            item_hash: item.sha256.clone(),
            item_md5: item.md5.clone(),
            item_name: item.name.clone(),
            campaign: "bench".into(),
            radio: Arc::from("hci0"),
            started: stamp,
            ended: stamp,
            outcome: Outcome::Accepted,
            raw_code: None,
            reason: "accepted in the cap benchmark".into(),
            bytes: item.body.len() as u64,
        })
        .await;
    policy.finished(addr, &job.item.sha256, Outcome::Accepted, now);
    Ok(())
}
