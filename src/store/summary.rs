//! The day's figures kept as the log is written, so that a day's report reads one row per phone
//! instead of every visit and attempt of the day.
//!
//! A crowded day holds millions of visit and attempt rows; counting them takes over a second,
//! too slow for a report or a dashboard page (budget: 100 ms). So the writer keeps, for each
//! local day of `appliance.time_zone`, what [`super::tally`] counts: one row per phone (first
//! and last time heard, strongest signal, hours heard, returning; hours asked and answered, how
//! it answered) and one row per outcome, item and radio. A report of a day with a summary loads
//! it into a tally. A day without one (logged before schema 4, partly pruned, or asked about in
//! another time zone) is counted from its rows: the same figures, only slower.
//!
//! The summary is the rows' tally by construction. The writer folds each new or grown row in
//! with the tally's own rules (a phone's presence is merged by minimum, maximum and union, so a
//! visit row is folded in whole again each time it grows); the rebuild at open runs the report's
//! own count; retention forgets the summary of every day it deleted rows from, and such a day is
//! never summarised again.

use super::day::{self, asked, Period};
use super::tally::{self, Asked, Attempt, Count, CountKind, PhoneDay, Presence, Tally, Visit};
use crate::model::outcome::Outcome;
use jiff::{civil::Date, tz::TimeZone, Timestamp};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::BTreeSet;
use std::str::FromStr;

/// A visit row is folded into at most this many days (a visit lasts minutes; the bound only
/// keeps a corrupt row from looping).
const MAX_DAYS: usize = 31;
/// `sync_state` name of the last day start whose summary retention forgot.
const FORGOTTEN: &str = "summary_forgotten_through";
/// `answers` bits of a `day_phones` row.
const ASKED: i64 = 1;
const ACCEPTED: i64 = 2;
const DECLINED: i64 = 4;
const IGNORED: i64 = 8;

/// How the writer cuts time into local days.
#[derive(Clone, Debug)]
pub(crate) struct Days {
    zone: TimeZone,
    name: String,
}

impl Days {
    /// Days of the IANA zone `name` (UTC when it is unknown: the config check names it).
    pub fn new(name: &str) -> Days {
        match TimeZone::get(name) {
            Ok(zone) => Days {
                zone,
                name: name.to_string(),
            },
            Err(_) => Days {
                zone: TimeZone::UTC,
                name: "UTC".into(),
            },
        }
    }

    /// The local day holding `at_ms`: its first instant and the next day's.
    fn of(&self, at_ms: i64) -> Option<(i64, i64)> {
        let date = Timestamp::from_millisecond(at_ms)
            .ok()?
            .to_zoned(self.zone.clone())
            .date();
        Some(bounds(&self.zone, date))
    }
}

/// The first instant of `date` in `zone` and that of the next day, in unix ms.
pub fn bounds(zone: &TimeZone, date: Date) -> (i64, i64) {
    let start = |d: Date| {
        d.to_zoned(zone.clone())
            .map(|z| z.timestamp().as_millisecond())
            .unwrap_or_default()
    };
    (start(date), start(date.tomorrow().unwrap_or(date)))
}

/// The start of every hour of the day `[from, to)`, one hour apart in real time.
pub fn hour_starts(from: i64, to: i64) -> Vec<i64> {
    const HOUR_MS: i64 = 3_600_000;
    (0..)
        .map(|i| from + i * HOUR_MS)
        .take_while(|&t| t < to)
        .collect()
}

/// Folds a visit row, as it stands now, into every day it overlaps; its phone was first seen
/// at `first_seen` (a phone seen before a day is returning that day).
pub(crate) fn visit(
    conn: &Connection,
    days: &Days,
    row: &Visit<i64>,
    first_seen: i64,
) -> rusqlite::Result<()> {
    let mut at = row.first_ms;
    for _ in 0..MAX_DAYS {
        let Some((from, to)) = days.of(at) else {
            return Ok(());
        };
        if open_day(conn, days, (from, to))? {
            let returning = first_seen < from;
            let seen = tally::presence((from, to), &hour_starts(from, to), row);
            save_presence(conn, from, row.phone, &Presence { returning, ..seen })?;
        }
        if row.last_ms < to {
            break;
        }
        at = to;
    }
    Ok(())
}

/// Folds a new attempt row into the day it ended in.
pub(crate) fn attempt(
    conn: &Connection,
    days: &Days,
    a: &Attempt<'_, i64>,
) -> rusqlite::Result<()> {
    let Some((from, to)) = days.of(a.ended_ms) else {
        return Ok(());
    };
    if !open_day(conn, days, (from, to))? {
        return Ok(());
    }
    add_count(conn, from, CountKind::Outcome, a.outcome, 1, 0)?;
    let Ok(outcome) = Outcome::from_str(a.outcome) else {
        return Ok(());
    };
    if !asked(outcome) {
        return Ok(());
    }
    let took = u64::from(outcome == Outcome::Accepted);
    add_count(conn, from, CountKind::Item, a.item, 1, took)?;
    add_count(conn, from, CountKind::Radio, a.radio, 1, took)?;
    let hour = 1u64 << tally::hour_of(&hour_starts(from, to), a.ended_ms);
    let answer = Asked {
        hours: hour,
        accepted_hours: if took == 1 { hour } else { 0 },
        accepted: outcome == Outcome::Accepted,
        declined: outcome == Outcome::Declined,
        ignored: outcome == Outcome::Ignored,
    };
    save_asked(conn, from, a.phone, &answer)
}

/// Whether the day `[from, to)` is summarised (marking it so on its first row), or not: a day
/// retention pruned, whose summary would now lack the rows it deleted.
fn open_day(conn: &Connection, days: &Days, (from, to): (i64, i64)) -> rusqlite::Result<bool> {
    let forgotten: Option<i64> = conn
        .prepare_cached("SELECT value FROM sync_state WHERE name = ?1")?
        .query_row([FORGOTTEN], |r| r.get(0))
        .optional()?;
    if forgotten.is_some_and(|through| from <= through) {
        return Ok(false);
    }
    conn.prepare_cached(
        "INSERT INTO days(day, ends, zone) VALUES (?1, ?2, ?3) ON CONFLICT(day) DO NOTHING",
    )?
    .execute(params![from, to, days.name])?;
    Ok(true)
}

fn save_presence(conn: &Connection, day: i64, phone: i64, p: &Presence) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO day_phones(day, device_id, first_seen, last_seen, rssi_max, hours, returner)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT(day, device_id) DO UPDATE SET
             first_seen = min(COALESCE(first_seen, excluded.first_seen), excluded.first_seen),
             last_seen = max(COALESCE(last_seen, excluded.last_seen), excluded.last_seen),
             rssi_max = CASE WHEN rssi_max IS NULL OR excluded.rssi_max > rssi_max
                             THEN excluded.rssi_max ELSE rssi_max END,
             hours = hours | excluded.hours,
             returner = returner | excluded.returner",
    )?
    .execute(params![
        day,
        phone,
        p.first,
        p.last,
        p.strongest,
        p.hours as i64,
        p.returning
    ])?;
    Ok(())
}

fn save_asked(conn: &Connection, day: i64, phone: i64, a: &Asked) -> rusqlite::Result<()> {
    let answers = ASKED
        | if a.accepted { ACCEPTED } else { 0 }
        | if a.declined { DECLINED } else { 0 }
        | if a.ignored { IGNORED } else { 0 };
    conn.prepare_cached(
        "INSERT INTO day_phones(day, device_id, asked_hours, accepted_hours, answers)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(day, device_id) DO UPDATE SET
             asked_hours = asked_hours | excluded.asked_hours,
             accepted_hours = accepted_hours | excluded.accepted_hours,
             answers = answers | excluded.answers",
    )?
    .execute(params![
        day,
        phone,
        a.hours as i64,
        a.accepted_hours as i64,
        answers
    ])?;
    Ok(())
}

fn add_count(
    conn: &Connection,
    day: i64,
    kind: CountKind,
    name: &str,
    offered: u64,
    accepted: u64,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO day_counts(day, kind, name, offered, accepted) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(day, kind, name) DO UPDATE SET
             offered = offered + excluded.offered,
             accepted = accepted + excluded.accepted",
    )?
    .execute(params![
        day,
        kind_code(kind),
        name,
        offered as i64,
        accepted as i64
    ])?;
    Ok(())
}

fn kind_code(kind: CountKind) -> i64 {
    match kind {
        CountKind::Outcome => 0,
        CountKind::Item => 1,
        CountKind::Radio => 2,
    }
}

fn kind_of(code: i64) -> Option<CountKind> {
    match code {
        0 => Some(CountKind::Outcome),
        1 => Some(CountKind::Item),
        2 => Some(CountKind::Radio),
        _ => None,
    }
}

/// The summarised tally of the period, when its day has a summary.
pub(crate) fn load(conn: &Connection, p: &Period) -> rusqlite::Result<Option<Tally<i64>>> {
    let found: Option<i64> = conn
        .prepare_cached("SELECT 1 FROM days WHERE day = ?1 AND ends = ?2")?
        .query_row(params![p.from_ms, p.to_ms], |r| r.get(0))
        .optional()?;
    if found.is_none() {
        return Ok(None);
    }
    let mut tally = Tally::new(p);
    load_phones(conn, p.from_ms, &mut tally)?;
    load_counts(conn, p.from_ms, &mut tally)?;
    Ok(Some(tally))
}

fn load_phones(conn: &Connection, day: i64, tally: &mut Tally<i64>) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT device_id, first_seen, last_seen, rssi_max, hours, returner,
                asked_hours, accepted_hours, answers
         FROM day_phones WHERE day = ?1",
    )?;
    let mut rows = stmt.query([day])?;
    while let Some(r) = rows.next()? {
        let first: Option<i64> = r.get(1)?;
        let presence = match first {
            Some(first) => Some(Presence {
                first,
                last: r.get(2)?,
                strongest: r.get(3)?,
                hours: r.get::<_, i64>(4)? as u64,
                returning: r.get(5)?,
            }),
            None => None,
        };
        let answers: i64 = r.get(8)?;
        let asked = (answers & ASKED != 0).then(|| Asked {
            hours: r.get::<_, i64>(6).unwrap_or_default() as u64,
            accepted_hours: r.get::<_, i64>(7).unwrap_or_default() as u64,
            accepted: answers & ACCEPTED != 0,
            declined: answers & DECLINED != 0,
            ignored: answers & IGNORED != 0,
        });
        tally.restore(PhoneDay {
            phone: r.get(0)?,
            presence,
            asked,
        });
    }
    Ok(())
}

fn load_counts(conn: &Connection, day: i64, tally: &mut Tally<i64>) -> rusqlite::Result<()> {
    let mut stmt =
        conn.prepare_cached("SELECT kind, name, offered, accepted FROM day_counts WHERE day = ?1")?;
    let mut rows = stmt.query([day])?;
    while let Some(r) = rows.next()? {
        let Some(kind) = kind_of(r.get(0)?) else {
            continue;
        };
        let name = r.get_ref(1)?.as_str()?;
        tally.restore_count(Count {
            kind,
            name,
            offered: r.get::<_, i64>(2)? as u64,
            accepted: r.get::<_, i64>(3)? as u64,
        });
    }
    Ok(())
}

/// At open: summarises the whole log again when it has rows but no summary (a log from before
/// schema 4) or one made in another time zone. Returns the days summarised, if it rebuilt.
pub(crate) fn prepare(conn: &Connection, days: &Days) -> rusqlite::Result<Option<usize>> {
    let needed: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM days WHERE zone != ?1)
             OR (NOT EXISTS(SELECT 1 FROM days)
                 AND (EXISTS(SELECT 1 FROM sightings) OR EXISTS(SELECT 1 FROM attempts)))",
        [&days.name],
        |r| r.get(0),
    )?;
    if !needed {
        return Ok(None);
    }
    let tx = conn.unchecked_transaction()?;
    let n = rebuild(&tx, days)?;
    tx.commit()?;
    Ok(Some(n))
}

/// Summarises every day of the log from its rows, with the report's own count.
pub(crate) fn rebuild(conn: &Connection, days: &Days) -> rusqlite::Result<usize> {
    conn.execute_batch(&format!(
        "DELETE FROM day_phones; DELETE FROM day_counts; DELETE FROM days;
         DELETE FROM sync_state WHERE name = '{FORGOTTEN}';"
    ))?;
    let all = days_with_rows(conn, days)?;
    for &(from, to) in &all {
        let starts = hour_starts(from, to);
        let period = Period {
            from_ms: from,
            to_ms: to,
            hour_starts: &starts,
            min_rssi: None,
        };
        let tally = day::counted(conn, &period)?;
        save(conn, days, (from, to), &tally)?;
    }
    Ok(all.len())
}

/// Every local day some visit overlaps or some attempt ended in.
fn days_with_rows(conn: &Connection, days: &Days) -> rusqlite::Result<BTreeSet<(i64, i64)>> {
    let mut found = BTreeSet::new();
    let mut last: Option<(i64, i64)> = None;
    let mut note = |at: i64, found: &mut BTreeSet<(i64, i64)>| -> Option<(i64, i64)> {
        if let Some(d) = last.filter(|&(from, to)| from <= at && at < to) {
            return Some(d);
        }
        last = days.of(at);
        found.extend(last);
        last
    };
    let mut stmt = conn.prepare("SELECT first_seen, last_seen FROM sightings")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let (mut at, until): (i64, i64) = (r.get(0)?, r.get(1)?);
        for _ in 0..MAX_DAYS {
            match note(at, &mut found) {
                Some((_, to)) if until >= to => at = to,
                _ => break,
            }
        }
    }
    let mut stmt = conn.prepare("SELECT ended_at FROM attempts")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        note(r.get(0)?, &mut found);
    }
    Ok(found)
}

/// Writes a day's tally as its summary.
fn save(
    conn: &Connection,
    days: &Days,
    (from, to): (i64, i64),
    tally: &Tally<i64>,
) -> rusqlite::Result<()> {
    open_day(conn, days, (from, to))?;
    for d in tally.phone_days() {
        if let Some(p) = &d.presence {
            save_presence(conn, from, *d.phone, p)?;
        }
        if let Some(a) = &d.asked {
            save_asked(conn, from, *d.phone, a)?;
        }
    }
    for c in tally.counts() {
        add_count(conn, from, c.kind, c.name, c.offered, c.accepted)?;
    }
    Ok(())
}

/// Retention deleted rows stamped up to `through_ms`: the summaries of the days they fell in
/// (and any earlier) are forgotten for good; those days are counted from their rows.
pub(crate) fn forget_through(conn: &Connection, through_ms: i64) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM day_phones WHERE day <= ?1", [through_ms])?;
    conn.execute("DELETE FROM day_counts WHERE day <= ?1", [through_ms])?;
    conn.execute("DELETE FROM days WHERE day <= ?1", [through_ms])?;
    conn.execute(
        "INSERT INTO sync_state(name, value) VALUES (?1, ?2)
         ON CONFLICT(name) DO UPDATE SET value = max(value, excluded.value)",
        params![FORGOTTEN, through_ms],
    )?;
    Ok(())
}
