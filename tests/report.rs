//! Acceptance (issue 13, the day's report): the figures `o4send report` prints and draws are the
//! ones plain SQL finds in the same log, and the HTML file stands alone (no outside reference).
//! The figures come from the day summaries the daemon kept as it wrote the log, and after a
//! rebuild from the rows; SQL here reads the rows themselves.

use o4send::report::{self, LocalDay};
use o4send::store::{Reader, Store, StoreOptions};
use rusqlite::Connection;
use std::process::Command;

fn demo_log(dir: &std::path::Path) -> std::path::PathBuf {
    let db = dir.join("demo.db");
    let out = Command::new(env!("CARGO_BIN_EXE_o4send"))
        .args([
            "demo",
            "--phones",
            "120",
            "--seed",
            "11",
            "--db",
            db.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    db
}

/// The (UTC) day the log's first attempt ended on.
fn first_day(conn: &Connection) -> LocalDay {
    let first: i64 = conn
        .query_row("SELECT min(ended_at) FROM attempts", [], |r| r.get(0))
        .unwrap();
    let date = jiff::Timestamp::from_millisecond(first)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .to_string();
    LocalDay::new(Some(&date), "UTC").unwrap()
}

fn count(conn: &Connection, sql: &str, from: i64, to: i64) -> u64 {
    conn.query_row(sql, [from, to], |r| r.get::<_, i64>(0))
        .unwrap() as u64
}

#[test]
fn the_days_figures_are_what_sql_finds() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_log(dir.path());
    let conn = Connection::open(&db).unwrap();
    let day = first_day(&conn);
    let (from, to) = (day.from_ms(), day.to_ms());
    let summarised: i64 = conn
        .query_row("SELECT count(*) FROM days WHERE day = ?1", [from], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(
        summarised, 1,
        "the daemon summarised the day as it wrote it"
    );
    let r = report::day(&Reader::open(&db).unwrap(), "booth", &day, None).unwrap();
    let f = &r.figures;
    let asked = "outcome IN ('accepted','declined','ignored','unsupported_type')";
    let distinct = |filter: &str| {
        count(&conn, &format!("SELECT count(DISTINCT device_id) FROM attempts WHERE {filter} AND ended_at >= ?1 AND ended_at < ?2"), from, to)
    };
    assert_eq!(f.seen, count(&conn, "SELECT count(DISTINCT device_id) FROM sightings WHERE last_seen >= ?1 AND first_seen < ?2", from, to));
    assert_eq!(f.offered, distinct(asked));
    assert_eq!(f.accepted, distinct("outcome = 'accepted'"));
    assert_eq!(f.declined, distinct("outcome = 'declined'"));
    assert_eq!(f.ignored, distinct("outcome = 'ignored'"));
    assert_eq!(
        f.outcomes.values().sum::<u64>(),
        count(
            &conn,
            "SELECT count(*) FROM attempts WHERE ended_at >= ?1 AND ended_at < ?2",
            from,
            to
        )
    );
    assert_eq!(
        f.in_range, f.seen,
        "no minimum RSSI: every seen phone is in range"
    );
    assert_eq!(f.passers_by + f.visitors, f.seen);
    assert_eq!(f.dwell.iter().sum::<u64>(), f.seen);
    assert_eq!(f.per_item.iter().map(|s| s.accepted).sum::<u64>(), count(&conn, "SELECT count(*) FROM attempts WHERE outcome = 'accepted' AND ended_at >= ?1 AND ended_at < ?2", from, to));
    assert!(f.accepted > 0 && f.offered >= f.accepted && f.seen >= f.offered);
    let hourly_offered: u64 = f.per_hour.iter().map(|h| h.offered).sum();
    assert!(
        hourly_offered >= f.offered,
        "every offered phone is in at least one hour"
    );
    assert_eq!(r.hours.len(), 24);

    for (i, hour) in f.per_hour.iter().enumerate() {
        let (start, end) = (
            day.hour_starts()[i],
            day.hour_starts().get(i + 1).copied().unwrap_or(to),
        );
        let q = "SELECT count(DISTINCT device_id) FROM sightings WHERE last_seen >= ?1 AND first_seen < ?2";
        let label = &r.hours[i];
        assert_eq!(hour.seen, count(&conn, q, start, end), "hour {label}");
        let q = format!("SELECT count(DISTINCT device_id) FROM attempts WHERE {asked} AND ended_at >= ?1 AND ended_at < ?2");
        assert_eq!(hour.offered, count(&conn, &q, start, end), "hour {label}");
        let q = "SELECT count(DISTINCT device_id) FROM attempts WHERE outcome = 'accepted' AND ended_at >= ?1 AND ended_at < ?2";
        assert_eq!(hour.accepted, count(&conn, q, start, end), "hour {label}");
    }
    assert!(f.per_hour.iter().any(|h| h.offered > 0 && h.accepted > 0));

    // A third of the phones had been seen on an earlier day. The history is rewritten behind
    // the writer's back, so its day summaries go too, and opening the log summarises it again
    // from its rows (as after an upgrade from a log without them).
    conn.execute(
        "UPDATE devices SET first_seen = ?1 - 86400000 WHERE id % 3 = 0",
        [from],
    )
    .unwrap();
    conn.execute_batch("DELETE FROM days; DELETE FROM day_phones; DELETE FROM day_counts;")
        .unwrap();
    drop(Store::open(&db, StoreOptions::new("boot-2")).unwrap());
    let summarised: i64 = conn
        .query_row("SELECT count(*) FROM days WHERE day = ?1", [from], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(summarised, 1, "the day is summarised again");
    let again = report::day(&Reader::open(&db).unwrap(), "booth", &day, None).unwrap();
    let returning = "SELECT count(DISTINCT s.device_id) FROM sightings s JOIN devices d ON d.id = s.device_id WHERE d.first_seen < ?1 AND s.last_seen >= ?1 AND s.first_seen < ?2";
    assert_eq!(again.figures.returning, count(&conn, returning, from, to));
    assert!(again.figures.returning > 0);

    let strong = report::day(&Reader::open(&db).unwrap(), "booth", &day, Some(-60)).unwrap();
    assert_eq!(strong.figures.in_range, count(&conn, "SELECT count(DISTINCT device_id) FROM sightings WHERE rssi_max >= -60 AND last_seen >= ?1 AND first_seen < ?2", from, to));
}

#[test]
fn the_html_report_stands_alone_and_escapes() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_log(dir.path());
    let day = LocalDay::new(None, "UTC").unwrap();
    let mut r = report::day(
        &Reader::open(&db).unwrap(),
        "<script>alert(1)</script> & Co",
        &day,
        None,
    )
    .unwrap();
    r.figures.per_item.push(o4send::store::Split {
        name: "<img src=x onerror=alert(2)>".into(),
        offered: 1,
        accepted: 1,
    });
    let html = report::page(&r);
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"));
    assert!(!html.contains("<script>") && !html.contains("<img src=x"));
    for outside in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(
            !html.contains(outside),
            "the report must stand alone: {outside}"
        );
    }
    assert!(
        html.matches("<svg").count() >= 8,
        "every chart is inline SVG"
    );
}

/// The dashboard's today: counted once, then only the rows written since; always what a full
/// count of the same log finds.
#[test]
fn a_running_day_equals_a_full_count_after_more_rows() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_log(dir.path());
    let conn = Connection::open(&db).unwrap();
    let day = first_day(&conn);
    let mut running = None;
    let reader = Reader::open(&db).unwrap();
    let before = report::day_running(&reader, "b", &day, Some(-75), &mut running).unwrap();
    let full = report::day(&reader, "b", &day, Some(-75)).unwrap();
    assert_eq!(before.figures, full.figures);
    // More phones on the same log: a second hall.
    let out = Command::new(env!("CARGO_BIN_EXE_o4send"))
        .args([
            "demo",
            "--phones",
            "80",
            "--seed",
            "12",
            "--db",
            db.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let reader = Reader::open(&db).unwrap();
    let after = report::day_running(&reader, "b", &day, Some(-75), &mut running).unwrap();
    let full = report::day(&reader, "b", &day, Some(-75)).unwrap();
    assert_eq!(after.figures, full.figures);
    let attempts = |r: &report::DayReport| r.figures.outcomes.values().sum::<u64>();
    assert!(attempts(&after) >= attempts(&before));
    eprintln!(
        "running day: {} then {} attempts, {} then {} phones seen",
        attempts(&before),
        attempts(&after),
        before.figures.seen,
        after.figures.seen
    );
}
