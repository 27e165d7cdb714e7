//! The day summaries must give exactly the figures counted from the rows: on a log written
//! through the writer's own code, across midnight and a 25-hour day, with and without a
//! signal minimum, after a rebuild, and after retention forgot a day.

use super::day::{self, Period};
use super::ingest::{self, Context};
use super::records::{AttemptRecord, Record, SightingRecord};
use super::summary::{self, Days};
use super::{schema, DayFigures};
use crate::model::clock::Stamp;
use crate::model::device::device_name;
use crate::model::outcome::Outcome;
use jiff::{civil::date, tz::TimeZone};
use rusqlite::Connection;
use std::sync::Arc;

const ZONE: &str = "Europe/Berlin";
const MINUTE: i64 = 60_000;

/// A small deterministic generator (xorshift).
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

fn stamp(at_ms: i64) -> Stamp {
    Stamp {
        at_ms,
        clock_synced: true,
    }
}

fn sighting(phone: u64, radio: &str, at_ms: i64, rssi: Option<i16>) -> Record {
    Record::Sighting(SightingRecord {
        addr: format!("02:00:00:00:{:02X}:{:02X}", phone / 256, phone % 256)
            .parse()
            .unwrap(),
        name: device_name("phone"),
        class: 0x5a020c,
        rssi,
        radio: Arc::from(radio),
        at: stamp(at_ms),
    })
}

fn attempt(phone: u64, item: &str, outcome: Outcome, ended_ms: i64) -> Record {
    Record::Attempt(AttemptRecord {
        addr: format!("02:00:00:00:{:02X}:{:02X}", phone / 256, phone % 256)
            .parse()
            .unwrap(),
        item_hash: format!("hash-{item}"),
        item_md5: String::new(),
        item_name: item.into(),
        campaign: "expo".into(),
        radio: Arc::from(if phone.is_multiple_of(2) {
            "hci0"
        } else {
            "hci1"
        }),
        started: stamp(ended_ms - 5_000),
        ended: stamp(ended_ms),
        outcome,
        raw_code: None,
        reason: String::new(),
        bytes: 0,
    })
}

/// The three local days around the end of summer time (2026-10-25 has 25 hours).
fn dates() -> [(i64, i64); 3] {
    let zone = TimeZone::get(ZONE).unwrap();
    [24, 25, 26].map(|d| summary::bounds(&zone, date(2026, 10, d)))
}

/// Writes a crowd through the writer's code: visits at random across the three days, some
/// across midnight, some without a signal strength; attempts with every outcome.
fn write_crowd(conn: &mut Connection, ctx: &Context, dice: &mut Dice) {
    let (start, end) = (dates()[0].0 - 30 * MINUTE, dates()[2].1);
    let tx = conn.transaction().unwrap();
    for phone in 0..60u64 {
        for _ in 0..1 + dice.below(4) {
            let mut at = start + dice.below((end - start) as u64) as i64;
            if phone.is_multiple_of(10) {
                at = dates()[1].0 - 7 * MINUTE; // across midnight
            }
            for _ in 0..1 + dice.below(12) {
                let rssi = (dice.below(5) > 0).then(|| -40 - dice.below(60) as i16);
                ingest::apply(&tx, ctx, &sighting(phone, "hci0", at, rssi)).unwrap();
                at += dice.below(4 * MINUTE as u64) as i64;
            }
            if dice.below(3) == 0 {
                let outcome = Outcome::ALL[dice.below(7) as usize];
                let item = ["flyer.pdf", "map.png"][dice.below(2) as usize];
                ingest::apply(&tx, ctx, &attempt(phone, item, outcome, at)).unwrap();
            }
        }
    }
    tx.commit().unwrap();
}

fn open(dir: &tempfile::TempDir) -> (Connection, Context) {
    let conn = schema::open_writer(&dir.path().join("o4send.db")).unwrap();
    let ctx = Context {
        boot_id: Arc::from("boot-1"),
        visit_gap_ms: 5 * MINUTE,
        days: Days::new(ZONE),
    };
    (conn, ctx)
}

/// The day's figures from its summary, and counted from its rows.
fn both(
    conn: &Connection,
    (from, to): (i64, i64),
    min_rssi: Option<i16>,
) -> (Option<DayFigures>, DayFigures) {
    let starts = summary::hour_starts(from, to);
    let p = Period {
        from_ms: from,
        to_ms: to,
        hour_starts: &starts,
        min_rssi,
    };
    let kept = summary::load(conn, &p).unwrap().map(|t| t.figures());
    (kept, day::counted(conn, &p).unwrap().figures())
}

fn assert_same(conn: &Connection, what: &str) {
    for day in dates() {
        for min_rssi in [None, Some(-70)] {
            let (kept, counted) = both(conn, day, min_rssi);
            assert!(counted.seen > 0, "{what}: the day {day:?} has phones");
            assert_eq!(
                kept.as_ref(),
                Some(&counted),
                "{what}: day {day:?}, min_rssi {min_rssi:?}"
            );
        }
    }
}

#[test]
fn the_summary_is_the_count_of_the_rows() {
    let dir = tempfile::tempdir().unwrap();
    let (mut conn, ctx) = open(&dir);
    let mut dice = Dice(0x9E37_79B9_7F4A_7C15);
    write_crowd(&mut conn, &ctx, &mut dice);
    assert_eq!(summary::hour_starts(dates()[1].0, dates()[1].1).len(), 25);
    assert_same(&conn, "as written");
    write_crowd(&mut conn, &ctx, &mut dice); // the same phones again: visits grow
    assert_same(&conn, "written twice");
    let rebuilt = summary::rebuild(&conn, &ctx.days).unwrap();
    assert!(rebuilt >= 4, "the day before and the three: {rebuilt}");
    assert_same(&conn, "rebuilt");
}

#[test]
fn a_log_without_summaries_is_summarised_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let (mut conn, ctx) = open(&dir);
    write_crowd(&mut conn, &ctx, &mut Dice(7));
    conn.execute_batch("DELETE FROM days; DELETE FROM day_phones; DELETE FROM day_counts;")
        .unwrap();
    assert!(both(&conn, dates()[1], None).0.is_none());
    let summarised = summary::prepare(&conn, &ctx.days).unwrap();
    assert!(summarised >= Some(3), "the three days: {summarised:?}");
    assert_same(&conn, "summarised at open");
    assert_eq!(summary::prepare(&conn, &ctx.days).unwrap(), None, "once");
    let utc = Days::new("UTC");
    assert!(
        summary::prepare(&conn, &utc).unwrap().is_some(),
        "another zone: again"
    );
}

#[test]
fn a_day_retention_touched_is_counted_from_its_rows_for_good() {
    let dir = tempfile::tempdir().unwrap();
    let (mut conn, ctx) = open(&dir);
    write_crowd(&mut conn, &ctx, &mut Dice(11));
    let (first, second) = (dates()[0], dates()[1]);
    summary::forget_through(&conn, first.0 + MINUTE).unwrap();
    assert!(both(&conn, first, None).0.is_none(), "forgotten");
    assert!(both(&conn, second, None).0.is_some(), "the next day kept");
    let late = attempt(3, "flyer.pdf", Outcome::Accepted, first.0 + 2 * MINUTE);
    ingest::apply(&conn, &ctx, &late).unwrap();
    assert!(both(&conn, first, None).0.is_none(), "not summarised again");
}
