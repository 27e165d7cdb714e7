//! `o4send bench --fleet N --sync URL`: a whole fleet syncing side by side against one server.
//!
//! Each of the N simulated appliances has its own log in the temp directory, filled as the
//! sync benchmark fills one ([`super::sync::fill_backlog`]: the same phones at every appliance,
//! so their visitors overlap), and runs sync rounds on its own thread, as the daemon's task
//! does (a round every [`INTERVAL`], start to start: [`sync::pause_after`]), until its backlog
//! is uploaded and it has downloaded every answer of every other appliance. The fleet gets a
//! name of its own, so runs never see each other's rows.
//! Figures: rows per second until the last row was uploaded, round times, failed rounds,
//! contention retries, the time until every appliance knew every other's answers, and whether
//! the fleet database holds each local row exactly once.

use crate::config::{Secret, SyncConfig};
use crate::store::{Store, StoreOptions};
use crate::sync::{self, Settings};
use mysql_async::prelude::Queryable;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// From one round of an appliance to the next (the daemon's `sync.interval_secs`).
const INTERVAL: Duration = Duration::from_secs(2);
/// An appliance that has not converged after this long fails the benchmark.
const LIMIT: Duration = Duration::from_secs(900);

/// What one appliance's run measured, in time since the fleet started.
#[derive(Default)]
struct Run {
    rounds: Vec<Duration>,
    failed: u64,
    /// Answers of the others downloaded, over all rounds.
    downloaded: u64,
    /// When the last row of the backlog was committed.
    uploaded: Duration,
    converged: Duration,
}

/// One appliance: its name, its log, and what the fleet shares: how many of its `n` have
/// uploaded everything, and then the fleet's first answers.
struct Appliance {
    settings: Settings,
    log: PathBuf,
    uploaded: Arc<AtomicUsize>,
    n: usize,
    last: Arc<LastAnswers>,
}

/// Per appliance, the highest local id of its first answers: read once, by whichever
/// appliance first finds the whole fleet uploaded (only then is it settled).
type LastAnswers = tokio::sync::OnceCell<HashMap<String, i64>>;

/// Runs the fleet of `appliances` with `rows` attempts each against `url`; prints the figures.
pub fn run(url: &str, appliances: usize, rows: u64) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("o4send-bench-fleet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let result = run_in(&dir, url, appliances.max(1), rows);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn run_in(dir: &Path, url: &str, n: usize, rows: u64) -> Result<(), String> {
    let fleet = format!(
        "fleet-{}-{}",
        std::process::id(),
        crate::model::clock::Clock::system().now_ms()
    );
    let names: Vec<String> = (0..n).map(|i| format!("{fleet}-a{i}")).collect();
    let logs: Vec<PathBuf> = (0..n).map(|i| dir.join(format!("a{i}.db"))).collect();
    fill(&logs, rows)?;
    let uploaded = Arc::new(AtomicUsize::new(0));
    let last = Arc::new(LastAnswers::new());
    let retries = sync::contention_retries();
    let started = Instant::now();
    let threads: Vec<_> = names
        .iter()
        .zip(&logs)
        .map(|(name, log)| {
            let a = Appliance {
                settings: settings(url, &fleet, name),
                log: log.clone(),
                uploaded: uploaded.clone(),
                n,
                last: last.clone(),
            };
            std::thread::spawn(move || appliance(a, started))
        })
        .collect();
    let mut runs = Vec::new();
    for t in threads {
        runs.push(t.join().map_err(|_| "an appliance's thread panicked")??);
    }
    let retries = sync::contention_retries() - retries;
    let once = exactly_once(url, &fleet, &names, &logs)?;
    let server = crate::engine::runtime()?.block_on(server(url));
    println!("fleet_bench_server={server}");
    print(&runs, n as u64 * rows, retries, once);
    Ok(())
}

/// Fills every log with `rows` attempts, on as many threads as there are cores.
fn fill(logs: &[PathBuf], rows: u64) -> Result<(), String> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    for chunk in logs.chunks(cores) {
        let threads: Vec<_> = chunk
            .iter()
            .cloned()
            .map(|log| {
                std::thread::spawn(move || {
                    crate::engine::runtime()?.block_on(super::sync::fill_backlog(&log, rows))
                })
            })
            .collect();
        for t in threads {
            t.join().map_err(|_| "filling a log panicked")??;
        }
    }
    Ok(())
}

/// The settings of appliance `name` of `fleet`.
pub(super) fn settings(url: &str, fleet: &str, name: &str) -> Settings {
    Settings {
        cfg: SyncConfig {
            mysql_url: Some(Secret::new(url)),
            fleet: fleet.into(),
            secret: Some(Secret::new("bench-secret-0123456789")),
            interval_secs: INTERVAL.as_secs(),
            ..SyncConfig::default()
        },
        appliance: name.into(),
    }
}

/// Per appliance of the fleet, the highest local id of its first answers in the fleet
/// database: where every other appliance's download mark ends up once it has everything.
async fn last_first_answers(s: &Settings) -> Result<HashMap<String, i64>, String> {
    let failed = |e: mysql_async::Error| format!("reading the fleet's first answers: {e}");
    let url = s
        .cfg
        .mysql_url
        .as_ref()
        .map(|u| u.expose().to_string())
        .unwrap_or_default();
    let opts = mysql_async::Opts::from_url(&url).map_err(|e| e.to_string())?;
    let mut conn = mysql_async::Conn::new(opts).await.map_err(failed)?;
    let rows: Vec<(String, i64)> = conn
        .exec(
            "SELECT appliance, max(local_id) FROM fleet_first_answers WHERE fleet = ? \
             GROUP BY appliance",
            (&s.cfg.fleet,),
        )
        .await
        .map_err(failed)?;
    let _ = conn.disconnect().await;
    Ok(rows.into_iter().collect())
}

/// One appliance's rounds, on its own thread and runtime, until it has uploaded everything
/// and knows every other appliance's answers.
fn appliance(a: Appliance, started: Instant) -> Result<Run, String> {
    crate::engine::runtime()?.block_on(async {
        let store = Store::open(&a.log, StoreOptions::new("bench")).map_err(|e| e.to_string())?;
        let result = rounds(&a, &store, started).await;
        let _ = store.close().await;
        result
    })
}

/// An appliance's download marks at the end of one of its rounds, and when that was.
type Known = (Duration, HashMap<String, i64>);

async fn rounds(a: &Appliance, store: &Store, started: Instant) -> Result<Run, String> {
    let mut run = Run::default();
    let mut uploaded = false;
    let mut known: Vec<Known> = Vec::new();
    loop {
        let round = Instant::now();
        let mut last_batch = None;
        let mut progress = |_: sync::Progress| last_batch = Some(started.elapsed());
        match sync::once(&a.settings, store, &mut progress).await {
            Ok(stats) => {
                run.rounds.push(round.elapsed());
                run.downloaded += stats.downloaded;
            }
            Err(e) => {
                run.failed += 1;
                eprintln!("{}: failed round: {e}", a.settings.appliance);
            }
        }
        let reader = store.reader().map_err(|e| e.to_string())?;
        known.push((
            started.elapsed(),
            reader.fleet_marks().map_err(|e| e.to_string())?,
        ));
        if !uploaded && reader.sync_backlog().map_err(|e| e.to_string())?.total() == 0 {
            uploaded = true;
            run.uploaded = last_batch.unwrap_or(run.uploaded);
            a.uploaded.fetch_add(1, Ordering::SeqCst);
        }
        // Which answer of a pair is the fleet's first is settled once every appliance has
        // uploaded everything; then the first round after which this one knew them all is
        // when it converged, although it may have ended before the last appliance's did.
        if uploaded && a.uploaded.load(Ordering::SeqCst) == a.n {
            let last = a
                .last
                .get_or_try_init(|| last_first_answers(&a.settings))
                .await?;
            let me = &a.settings.appliance;
            if let Some((at, _)) = known.iter().find(|(_, marks)| knows_all(me, marks, last)) {
                run.converged = *at;
                return Ok(run);
            }
        }
        if started.elapsed() > LIMIT {
            return Err(format!(
                "{} did not converge within {} s",
                a.settings.appliance,
                LIMIT.as_secs()
            ));
        }
        tokio::time::sleep(sync::pause_after(INTERVAL, round.elapsed())).await;
    }
}

/// Whether `me` has downloaded up to the last answer of every other appliance.
fn knows_all(me: &str, marks: &HashMap<String, i64>, last: &HashMap<String, i64>) -> bool {
    last.iter()
        .filter(|(name, &id)| name.as_str() != me && id > 0)
        .all(|(name, &id)| marks.get(name).copied().unwrap_or(0) >= id)
}

/// Whether the fleet database holds every local attempt of every appliance exactly once.
fn exactly_once(
    url: &str,
    fleet: &str,
    names: &[String],
    logs: &[PathBuf],
) -> Result<bool, String> {
    let remote = crate::engine::runtime()?.block_on(remote_counts(url, fleet))?;
    let mut all = true;
    for (name, log) in names.iter().zip(logs) {
        let conn = rusqlite::Connection::open(log).map_err(|e| e.to_string())?;
        let local: (i64, i64) = conn
            .query_row(
                "SELECT count(*), COALESCE(max(id), 0) FROM attempts",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| e.to_string())?;
        let (rows, distinct, max) = remote.get(name).copied().unwrap_or((0, 0, 0));
        all &= rows == local.0 && distinct == local.0 && max == local.1;
    }
    Ok(all)
}

/// Per appliance of `fleet`: rows, distinct local ids, highest local id.
async fn remote_counts(url: &str, fleet: &str) -> Result<HashMap<String, (i64, i64, i64)>, String> {
    let failed = |e: mysql_async::Error| format!("counting the fleet's rows: {e}");
    let opts = mysql_async::Opts::from_url(url).map_err(|e| e.to_string())?;
    let mut conn = mysql_async::Conn::new(opts).await.map_err(failed)?;
    let rows: Vec<(String, i64, i64, i64)> = conn
        .exec(
            "SELECT appliance, count(*), count(DISTINCT local_id), max(local_id)
             FROM attempts WHERE fleet = ? GROUP BY appliance",
            (fleet,),
        )
        .await
        .map_err(failed)?;
    let _ = conn.disconnect().await;
    Ok(rows
        .into_iter()
        .map(|(a, n, d, m)| (a, (n, d, m)))
        .collect())
}

/// The server's version and what decides how it bears many appliances at once: how it gives
/// threads to connections, and its buffer pool.
async fn server(url: &str) -> String {
    let read = async {
        let opts = mysql_async::Opts::from_url(url).map_err(|e| e.to_string())?;
        let mut conn = mysql_async::Conn::new(opts)
            .await
            .map_err(|e| e.to_string())?;
        let row: Option<(String, String, u64)> = conn
            .query_first(
                "SELECT @@version, @@thread_handling, @@innodb_buffer_pool_size DIV 1048576",
            )
            .await
            .map_err(|e| e.to_string())?;
        let _ = conn.disconnect().await;
        Ok::<_, String>(row)
    };
    match read.await {
        Ok(Some((version, threads, pool))) => {
            format!("{version} thread_handling={threads} innodb_buffer_pool_mib={pool}")
        }
        Ok(None) => "unknown".into(),
        Err(e) => format!("unknown ({e})"),
    }
}

/// The figures, one `name=value` a line.
fn print(runs: &[Run], rows: u64, retries: u64, once: bool) {
    let mut rounds: Vec<Duration> = runs.iter().flat_map(|r| r.rounds.clone()).collect();
    rounds.sort();
    let uploaded = runs.iter().map(|r| r.uploaded).max().unwrap_or_default();
    let converged = runs.iter().map(|r| r.converged).max().unwrap_or_default();
    let after = converged.saturating_sub(uploaded);
    println!("fleet_bench_appliances={}", runs.len());
    println!("fleet_bench_rows={rows}");
    println!("fleet_bench_interval_secs={}", INTERVAL.as_secs());
    println!("fleet_bench_upload_secs={:.2}", uploaded.as_secs_f64());
    println!(
        "fleet_bench_rows_per_sec={:.0}",
        rows as f64 / uploaded.as_secs_f64().max(1e-9)
    );
    println!("fleet_bench_rounds={}", rounds.len());
    println!("fleet_bench_round_p50_ms={}", percentile(&rounds, 50));
    println!("fleet_bench_round_p99_ms={}", percentile(&rounds, 99));
    println!(
        "fleet_bench_failed_rounds={}",
        runs.iter().map(|r| r.failed).sum::<u64>()
    );
    println!("fleet_bench_retries={retries}");
    println!(
        "fleet_bench_answers_downloaded={}",
        runs.iter().map(|r| r.downloaded).sum::<u64>()
    );
    println!("fleet_bench_converged_secs={:.2}", converged.as_secs_f64());
    println!(
        "fleet_bench_converged_after_upload_intervals={:.2}",
        after.as_secs_f64() / INTERVAL.as_secs_f64()
    );
    println!(
        "fleet_bench_exactly_once={}",
        if once { "yes" } else { "no" }
    );
}

/// The `p`th percentile of sorted durations, in ms (nearest rank).
fn percentile(sorted: &[Duration], p: usize) -> u128 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (sorted.len() * p).div_ceil(100).clamp(1, sorted.len());
    sorted[rank - 1].as_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_is_the_nearest_rank() {
        let ms: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&ms, 50), 50);
        assert_eq!(percentile(&ms, 99), 99);
        assert_eq!(percentile(&ms[..1], 99), 1);
        assert_eq!(percentile(&[], 50), 0);
    }

    #[test]
    fn knowing_all_needs_every_other_appliances_last_answer() {
        let last: HashMap<String, i64> = [("a".into(), 5), ("b".into(), 7), ("c".into(), 0)].into();
        let mut marks: HashMap<String, i64> = [("b".into(), 6)].into();
        assert!(!knows_all("a", &marks, &last));
        marks.insert("b".into(), 7);
        assert!(knows_all("a", &marks, &last));
        assert!(!knows_all("b", &marks, &last));
    }
}
