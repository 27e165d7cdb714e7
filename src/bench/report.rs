//! `o4send bench report`: how long the day's report takes on a crowded day, against its budget.
//!
//! A log is filled in bulk (one transaction, prepared statements) through the store's real
//! schema with a day of 1 000 000 attempts and 2 000 000 visits by 50 000 phones, a fifth of
//! them seen on an earlier day. Rows go in in time order, as the daemon writes them: row ids
//! grow with the time a visit starts and an attempt ends. The log is then opened as the daemon
//! opens it, which summarises its days once (the writer keeps the summaries from then on: see
//! `store/summary.rs`). Then the day's report is computed from it ([`report::day`]) and
//! rendered ([`report::page`]) five times; the median is the figure, against a budget of 100 ms
//! (what the dashboard can spend on a page).

use crate::report::{self, LocalDay};
use crate::store::{Reader, Retention, Store, StoreOptions};
use rusqlite::{params, Connection};
use std::path::Path;
use std::time::Instant;

/// The size of the crowded day.
#[derive(Clone, Copy, Debug)]
pub struct Crowd {
    pub attempts: u64,
    pub visits: u64,
    pub phones: u64,
}

/// What a report may take, in ms.
const BUDGET_MS: f64 = 100.0;
/// Runs timed; the median is reported.
const RUNS: usize = 5;
/// The day (UTC).
const DATE: &str = "2026-11-20";
const DAY_MS: i64 = 86_400_000;
/// The page cache while filling (KiB, negative for SQLite): the indexes are filled at random.
const FILL_CACHE_KIB: i64 = -262_144;
const OUTCOMES: [&str; 7] = [
    "accepted",
    "declined",
    "ignored",
    "unsupported_type",
    "no_opp",
    "unreachable",
    "failed",
];

/// Builds the log in a temp directory, times the report, prints the figures.
/// With `keep`, the log is built there and kept.
pub fn run(crowd: Crowd, keep: Option<&Path>) -> Result<(), String> {
    if let Some(db) = keep {
        return measure(db, crowd);
    }
    let dir = super::tempfile_dir()?;
    let result = measure(&dir.join("o4send.db"), crowd);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn measure(db: &Path, crowd: Crowd) -> Result<(), String> {
    let day = LocalDay::new(Some(DATE), "UTC")?;
    let started = Instant::now();
    fill(db, day.from_ms(), crowd).map_err(|e| format!("filling {}: {e}", db.display()))?;
    println!("report_bench_attempts={}", crowd.attempts);
    println!("report_bench_visits={}", crowd.visits);
    println!("report_bench_phones={}", crowd.phones);
    println!(
        "report_bench_fill_secs={:.1}",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    summarise(db)?;
    println!(
        "report_bench_summarise_secs={:.1}",
        started.elapsed().as_secs_f64()
    );
    println!("report_bench_db_mib={:.1}", size_mib(db));
    let mut compute = Vec::new();
    let mut render = Vec::new();
    for _ in 0..RUNS {
        let (c, r) = once(db, &day, crowd)?;
        compute.push(c);
        render.push(r);
    }
    let total: Vec<f64> = compute.iter().zip(&render).map(|(c, r)| c + r).collect();
    println!("report_bench_compute_ms={:.0}", median(compute));
    println!("report_bench_render_ms={:.0}", median(render));
    let total = median(total);
    println!("report_bench_total_ms={total:.0}");
    println!("report_bench_budget_ms={BUDGET_MS:.0}");
    println!("report_bench_within_budget={}", total <= BUDGET_MS);
    dashboard_page(db, &day, crowd.phones)
}

/// Opens the log as the daemon does: a log without day summaries (this one, filled in bulk) is
/// summarised from its rows once; from then on the writer keeps them as it writes.
fn summarise(db: &Path) -> Result<(), String> {
    let mut opts = StoreOptions::new("bench");
    // A log this size is past the default size limit: keep every row (the figures are checked).
    opts.retention = Retention {
        max_age_days: u32::MAX,
        max_size_mb: u64::MAX,
    };
    let store = Store::open(db, opts).map_err(|e| e.to_string())?;
    drop(store);
    Ok(())
}

/// The dashboard's today: loaded from its summary once, then kept current. Between pages the hall
/// writes what a day this crowded writes in a few seconds (100 attempts, 200 visits); each page
/// opens the log, reads what is new and renders, as `o4send dashboard` does.
fn dashboard_page(db: &Path, day: &LocalDay, phones: u64) -> Result<(), String> {
    let mut running = None;
    let t0 = Instant::now();
    let reader = Reader::open(db).map_err(|e| e.to_string())?;
    report::day_running(&reader, "bench", day, Some(-80), &mut running)
        .map_err(|e| e.to_string())?;
    println!(
        "report_bench_dashboard_first_ms={:.0}",
        t0.elapsed().as_secs_f64() * 1000.0
    );
    let mut times = Vec::new();
    let mut dice = Dice(0x2545_F491_4F6C_DD1D);
    for _ in 0..RUNS {
        more_rows(db, day.from_ms(), phones, &mut dice)
            .map_err(|e| format!("{}: {e}", db.display()))?;
        let t = Instant::now();
        let reader = Reader::open(db).map_err(|e| e.to_string())?;
        let r = report::day_running(&reader, "bench", day, Some(-80), &mut running)
            .map_err(|e| e.to_string())?;
        let page = report::page(&r);
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        if page.len() < 1000 {
            return Err("the bench's dashboard page came out empty".into());
        }
    }
    let warm = median(times);
    println!("report_bench_dashboard_page_ms={warm:.0}");
    println!("report_bench_dashboard_within_budget={}", warm <= BUDGET_MS);
    Ok(())
}

/// A few seconds of a crowded hall: 100 attempts and 200 visits more, late in the day.
fn more_rows(db: &Path, from_ms: i64, phones: u64, dice: &mut Dice) -> rusqlite::Result<()> {
    let mut conn = Connection::open(db)?;
    let tx = conn.transaction()?;
    let late = from_ms + DAY_MS - 120_000;
    let next: i64 = tx.query_row(
        "SELECT IFNULL(MAX(change_seq), 0) + 1 FROM sightings",
        [],
        |r| r.get(0),
    )?;
    {
        let mut visit = tx.prepare(
            "INSERT INTO sightings(device_id, radio, first_seen, last_seen, count, rssi_min,
                                   rssi_max, rssi_last, boot_id, clock_synced, change_seq)
             VALUES (?1, 'hci0', ?2, ?2, 1, -70, -60, -65, 'bench', 1, ?3)",
        )?;
        for i in 0..200 {
            visit.execute(params![1 + dice.below(phones) as i64, late + i, next + i])?;
        }
        let mut attempt = tx.prepare(
            "INSERT INTO attempts(device_id, item_hash, item_name, campaign, radio, started_at,
                                  ended_at, outcome, raw_code, reason, bytes, boot_id,
                                  clock_synced, item_md5)
             VALUES (?1, 'h', 'flyer.pdf', 'bench', 'hci1', ?2, ?2, ?3, NULL, '', 1, 'bench', 1, '')",
        )?;
        for i in 0..100 {
            let outcome = OUTCOMES[dice.below(7) as usize];
            attempt.execute(params![1 + dice.below(phones) as i64, late + i, outcome])?;
        }
    }
    tx.commit()
}

/// One report: ms to compute the figures (opening the log included), ms to render the page.
fn once(db: &Path, day: &LocalDay, crowd: Crowd) -> Result<(f64, f64), String> {
    let t0 = Instant::now();
    let reader = Reader::open(db).map_err(|e| e.to_string())?;
    let r = report::day(&reader, "bench", day, Some(-80)).map_err(|e| e.to_string())?;
    let t1 = Instant::now();
    let page = report::page(&r);
    let t2 = Instant::now();
    if r.figures.seen == 0 || page.len() < 1000 {
        return Err("the bench's report came out empty".into());
    }
    let counted: u64 = r.figures.outcomes.values().sum();
    if counted != crowd.attempts {
        return Err(format!(
            "the report counted {counted} attempts of the {} in the log",
            crowd.attempts
        ));
    }
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    Ok((ms(t1 - t0), ms(t2 - t1)))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The log's size with its WAL.
fn size_mib(db: &Path) -> f64 {
    let wal = db.with_extension("db-wal");
    let bytes: u64 = [db, wal.as_path()]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    bytes as f64 / (1024.0 * 1024.0)
}

/// A small deterministic generator (xorshift): the same log every run.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Fills a new log at `db` with the crowd's day starting at `from_ms`.
fn fill(db: &Path, from_ms: i64, crowd: Crowd) -> rusqlite::Result<()> {
    let _ = std::fs::remove_file(db);
    crate::store::create(db).map_err(|e| rusqlite::Error::InvalidPath(e.to_string().into()))?;
    let mut conn = Connection::open(db)?;
    conn.pragma_update(None, "synchronous", "OFF")?;
    conn.pragma_update(None, "cache_size", FILL_CACHE_KIB)?;
    let tx = conn.transaction()?;
    let mut dice = Dice(0x9E37_79B9_7F4A_7C15);
    devices(&tx, from_ms, crowd.phones, &mut dice)?;
    visits(&tx, from_ms, crowd, &mut dice)?;
    attempts(&tx, from_ms, crowd, &mut dice)?;
    tx.commit()?;
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;")?;
    Ok(())
}

fn devices(tx: &Connection, from_ms: i64, phones: u64, dice: &mut Dice) -> rusqlite::Result<()> {
    let mut insert = tx.prepare(
        "INSERT INTO devices(id, addr, name, class, first_seen, last_seen, boot_id, clock_synced)
         VALUES (?1, ?2, NULL, 5898764, ?3, ?3, 'bench', 1)",
    )?;
    for id in 1..=phones as i64 {
        let addr = format!(
            "02:00:{:02X}:{:02X}:{:02X}:42",
            id >> 16,
            (id >> 8) & 0xff,
            id & 0xff
        );
        let earlier = dice.below(5) == 0; // a fifth were seen on an earlier day
        let first = if earlier { from_ms - DAY_MS } else { from_ms };
        insert.execute(params![id, addr, first])?;
    }
    Ok(())
}

fn visits(tx: &Connection, from_ms: i64, crowd: Crowd, dice: &mut Dice) -> rusqlite::Result<()> {
    let mut insert = tx.prepare(
        "INSERT INTO sightings(id, device_id, radio, first_seen, last_seen, count, rssi_min,
                               rssi_max, rssi_last, boot_id, clock_synced, change_seq)
         VALUES (?1, ?2, 'hci0', ?3, ?4, ?5, ?6, ?7, ?6, 'bench', 1, ?1)",
    )?;
    let step = (DAY_MS - 600_000) / crowd.visits.max(1) as i64;
    for id in 1..=crowd.visits as i64 {
        let device = 1 + dice.below(crowd.phones) as i64;
        let first = from_ms + id * step + dice.below(step.max(1) as u64) as i64;
        let last = first + dice.below(600_000) as i64; // a visit lasts up to 10 minutes
        let weak = -95 + dice.below(30) as i64;
        let strong = weak + dice.below(25) as i64;
        let count = 1 + dice.below(40) as i64;
        insert.execute(params![id, device, first, last, count, weak, strong])?;
    }
    Ok(())
}

fn attempts(tx: &Connection, from_ms: i64, crowd: Crowd, dice: &mut Dice) -> rusqlite::Result<()> {
    let mut insert = tx.prepare(
        "INSERT INTO attempts(device_id, item_hash, item_name, campaign, radio, started_at,
                              ended_at, outcome, raw_code, reason, bytes, boot_id, clock_synced,
                              item_md5)
         VALUES (?1, ?2, ?3, 'bench', ?4, ?5, ?6, ?7, NULL, '', 24576, 'bench', 1, '')",
    )?;
    let items = ["flyer.pdf", "map.png", "card.vcf"];
    let hashes = items.map(|i| format!("{:064x}", i.len()));
    let step = (DAY_MS - 60_000) / crowd.attempts.max(1) as i64;
    for i in 0..crowd.attempts as i64 {
        let device = 1 + dice.below(crowd.phones) as i64;
        let item = dice.below(3) as usize;
        let radio = if dice.below(2) == 0 { "hci1" } else { "hci2" };
        let ended = from_ms + 60_000 + i * step + dice.below(step.max(1) as u64) as i64;
        let outcome = OUTCOMES[dice.below(7) as usize];
        let params = params![
            device,
            hashes[item],
            items[item],
            radio,
            ended - 30_000,
            ended,
            outcome
        ];
        insert.execute(params)?;
    }
    Ok(())
}
