//! The raw figures of one period (a day, usually) from the log: who was seen, for how long, who
//! was asked, who answered how, per hour, per item and per radio. `crate::report` turns them into
//! what a manager reads; this file only knows the tables.
//!
//! A day the writer summarised (`summary.rs`) is read from its summary: one row per phone.
//! Otherwise, two queries, one over the period's visit rows and one over its attempts, each
//! answered from an index alone (`sightings_period`, `attempts_period`: schema version 3), then one lookup per
//! phone for whether it is returning; everything is counted in one pass in memory by
//! [`super::tally`], which counts the fleet database's rows the same way.

use super::tally::{Attempt, Tally, Visit};
use crate::model::outcome::Outcome;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Dwell-time buckets, upper bounds in seconds (the last one is open).
pub const DWELL_BUCKETS: [(&str, i64); 5] = [
    ("under 1 min", 60),
    ("1–5 min", 300),
    ("5–15 min", 900),
    ("15–60 min", 3600),
    ("over 1 h", i64::MAX),
];
/// A phone around for less than this is a passer-by; longer, a visitor.
pub const PASSER_BY_SECS: i64 = 300;

/// What the period is and how the hours fall in it (local hours: the caller knows the zone).
pub struct Period<'a> {
    pub from_ms: i64,
    pub to_ms: i64,
    /// The start of every hour in the period, ascending, the first being `from_ms`.
    pub hour_starts: &'a [i64],
    /// Phones heard more weakly were out of range (`policy.min_rssi`).
    pub min_rssi: Option<i16>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DayFigures {
    /// Phones (devices) heard at least once.
    pub seen: u64,
    /// Of those, heard at least once as strongly as `policy.min_rssi` (all, without one).
    pub in_range: u64,
    /// Phones asked a question: an attempt that ended accepted, declined, ignored or with a
    /// refused file type.
    pub offered: u64,
    /// Phones that took at least one file, that declined one, that let one go unanswered.
    pub accepted: u64,
    pub declined: u64,
    pub ignored: u64,
    /// Attempts ended in the period, by outcome (all seven names).
    pub outcomes: BTreeMap<String, u64>,
    pub per_hour: Vec<HourFigures>,
    pub per_item: Vec<Split>,
    pub per_radio: Vec<Split>,
    /// Phones per dwell bucket (see [`DWELL_BUCKETS`]).
    pub dwell: Vec<u64>,
    pub passers_by: u64,
    pub visitors: u64,
    /// Phones seen in the period that were first seen before it.
    pub returning: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HourFigures {
    pub start_ms: i64,
    pub seen: u64,
    pub offered: u64,
    pub accepted: u64,
}

/// Attempts that asked a question, and those accepted, under one name (an item, a radio).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Split {
    pub name: String,
    pub offered: u64,
    pub accepted: u64,
}

/// An attempt the phone's user saw as a question.
pub fn asked(o: Outcome) -> bool {
    matches!(
        o,
        Outcome::Accepted | Outcome::Declined | Outcome::Ignored | Outcome::UnsupportedType
    )
}

pub(crate) fn figures(conn: &Connection, p: &Period) -> rusqlite::Result<DayFigures> {
    let tx = conn.unchecked_transaction()?; // one consistent snapshot
    Ok(tallied(&tx, p)?.figures())
}

/// The period's tally: from the day's summary when it has one, else counted from its rows.
fn tallied(tx: &Connection, p: &Period) -> rusqlite::Result<Tally<i64>> {
    match super::summary::load(tx, p)? {
        Some(tally) => Ok(tally),
        None => counted(tx, p),
    }
}

/// The period's tally counted from its visit and attempt rows.
pub(crate) fn counted(tx: &Connection, p: &Period) -> rusqlite::Result<Tally<i64>> {
    let mut tally = Tally::new(p);
    visits(tx, p, &mut tally)?;
    attempts(tx, p, &mut tally)?;
    Ok(tally)
}

/// A period's figures kept current (the dashboard's today): loaded from the day's summary (or
/// counted in full) once, then only
/// the rows written since (visits by their change counter, attempts by id).
pub struct RunningDay {
    tally: Tally<i64>,
    from_ms: i64,
    to_ms: i64,
    last_attempt: i64,
    last_change: i64,
}

pub(crate) fn running(
    conn: &Connection,
    p: &Period,
    state: &mut Option<RunningDay>,
) -> rusqlite::Result<DayFigures> {
    let tx = conn.unchecked_transaction()?; // one consistent snapshot
    let marks = |tx: &Connection| -> rusqlite::Result<(i64, i64)> {
        tx.query_row(
            "SELECT (SELECT IFNULL(MAX(id), 0) FROM attempts),
                    (SELECT IFNULL(MAX(change_seq), 0) FROM sightings)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    };
    match state {
        Some(day) if day.from_ms == p.from_ms && day.to_ms == p.to_ms => {
            let (attempt, change) = marks(&tx)?;
            newer_visits(&tx, p, day, change)?;
            newer_attempts(&tx, p, day, attempt)?;
            (day.last_attempt, day.last_change) = (attempt, change);
        }
        _ => {
            let (last_attempt, last_change) = marks(&tx)?;
            *state = Some(RunningDay {
                tally: tallied(&tx, p)?,
                from_ms: p.from_ms,
                to_ms: p.to_ms,
                last_attempt,
                last_change,
            });
        }
    }
    Ok(state
        .as_ref()
        .map(|d| d.tally.figures())
        .unwrap_or_default())
}

/// Visits changed since the last count, up to the change `upto`; phones new to the count are
/// looked up for "returning".
fn newer_visits(
    tx: &Connection,
    p: &Period,
    day: &mut RunningDay,
    upto: i64,
) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
        "SELECT device_id, first_seen, last_seen, rssi_max FROM sightings
         WHERE change_seq > ?3 AND change_seq <= ?4 AND last_seen >= ?1 AND first_seen < ?2",
    )?;
    let rows = stmt.query(params![p.from_ms, p.to_ms, day.last_change, upto])?;
    let new = fold_visits(rows, &mut day.tally)?;
    mark_returning(tx, p, &mut day.tally, new)
}

fn newer_attempts(
    tx: &Connection,
    p: &Period,
    day: &mut RunningDay,
    upto: i64,
) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
        "SELECT device_id, item_name, radio, outcome, ended_at FROM attempts
         WHERE id > ?3 AND id <= ?4 AND ended_at >= ?1 AND ended_at < ?2",
    )?;
    let rows = stmt.query(params![p.from_ms, p.to_ms, day.last_attempt, upto])?;
    fold_attempts(rows, &mut day.tally)
}

fn visits(tx: &Connection, p: &Period, tally: &mut Tally<i64>) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
        "SELECT device_id, first_seen, last_seen, rssi_max FROM sightings
         WHERE last_seen >= ?1 AND first_seen < ?2",
    )?;
    let rows = stmt.query(params![p.from_ms, p.to_ms])?;
    let new = fold_visits(rows, tally)?;
    mark_returning(tx, p, tally, new)
}

/// Counts visit rows; returns the phones new to the count.
fn fold_visits(mut rows: rusqlite::Rows<'_>, tally: &mut Tally<i64>) -> rusqlite::Result<Vec<i64>> {
    let mut new = Vec::new();
    while let Some(r) = rows.next()? {
        let phone: i64 = r.get(0)?;
        if !tally.has(&phone) {
            new.push(phone);
        }
        tally.visit(Visit {
            phone,
            first_ms: r.get(1)?,
            last_ms: r.get(2)?,
            rssi_max: r.get(3)?,
            returning: false,
        });
    }
    Ok(new)
}

/// Marks the phones of `phones` first seen before the period: one lookup per phone, not one
/// per visit.
fn mark_returning(
    tx: &Connection,
    p: &Period,
    tally: &mut Tally<i64>,
    phones: Vec<i64>,
) -> rusqlite::Result<()> {
    let mut earlier = tx.prepare_cached("SELECT first_seen < ?2 FROM devices WHERE id = ?1")?;
    for id in phones {
        let before = earlier
            .query_row(params![id, p.from_ms], |r| r.get::<_, bool>(0))
            .optional()?;
        if before == Some(true) {
            tally.returning(&id);
        }
    }
    Ok(())
}

fn attempts(tx: &Connection, p: &Period, tally: &mut Tally<i64>) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
        "SELECT device_id, item_name, radio, outcome, ended_at FROM attempts
         WHERE ended_at >= ?1 AND ended_at < ?2",
    )?;
    let rows = stmt.query(params![p.from_ms, p.to_ms])?;
    fold_attempts(rows, tally)
}

fn fold_attempts(mut rows: rusqlite::Rows<'_>, tally: &mut Tally<i64>) -> rusqlite::Result<()> {
    while let Some(r) = rows.next()? {
        let (item, radio, outcome) = (r.get_ref(1)?, r.get_ref(2)?, r.get_ref(3)?);
        tally.attempt(Attempt {
            phone: r.get(0)?,
            item: item.as_str()?,
            radio: radio.as_str()?,
            outcome: outcome.as_str()?,
            ended_ms: r.get(4)?,
        });
    }
    Ok(())
}
