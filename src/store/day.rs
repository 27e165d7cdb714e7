//! The raw figures of one period (a day, usually) from the log: who was seen, for how long, who
//! was asked, who answered how, per hour, per item and per radio. `crate::report` turns them into
//! what a manager reads; this file only knows the tables.
//!
//! Two queries, one over the period's visit rows and one over its attempts, both through the
//! `last_seen` and `ended_at` indexes; everything else is counted in one pass in memory.

use crate::outcome::Outcome;
use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;

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
    let mut f = DayFigures {
        outcomes: super::report::zero_counts(),
        per_hour: p
            .hour_starts
            .iter()
            .map(|&start_ms| HourFigures {
                start_ms,
                ..HourFigures::default()
            })
            .collect(),
        dwell: vec![0; DWELL_BUCKETS.len()],
        ..DayFigures::default()
    };
    visits(&tx, p, &mut f)?;
    attempts(&tx, p, &mut f)?;
    Ok(f)
}

/// One phone's presence in the period.
struct Presence {
    first: i64,
    last: i64,
    strongest: Option<i64>,
    returning: bool,
    hours: HashSet<usize>,
}

fn visits(tx: &Connection, p: &Period, f: &mut DayFigures) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
        "SELECT s.device_id, max(s.first_seen, ?1), min(s.last_seen, ?2 - 1), s.rssi_max,
                d.first_seen < ?1
         FROM sightings s JOIN devices d ON d.id = s.device_id
         WHERE s.last_seen >= ?1 AND s.first_seen < ?2",
    )?;
    let mut rows = stmt.query(params![p.from_ms, p.to_ms])?;
    let mut phones: HashMap<i64, Presence> = HashMap::new();
    while let Some(r) = rows.next()? {
        let (first, last): (i64, i64) = (r.get(1)?, r.get(2)?);
        let rssi: Option<i64> = r.get(3)?;
        let e = phones.entry(r.get(0)?).or_insert_with(|| Presence {
            first,
            last,
            strongest: None,
            returning: false,
            hours: HashSet::new(),
        });
        e.first = e.first.min(first);
        e.last = e.last.max(last);
        e.strongest = e.strongest.max(rssi);
        e.returning |= r.get::<_, bool>(4)?;
        e.hours.extend(hour_of(p, first)..=hour_of(p, last));
    }
    for phone in phones.values() {
        count_presence(p, f, phone);
    }
    Ok(())
}

fn count_presence(p: &Period, f: &mut DayFigures, phone: &Presence) {
    f.seen += 1;
    let strong = match (p.min_rssi, phone.strongest) {
        (Some(min), Some(rssi)) => rssi >= i64::from(min),
        _ => true,
    };
    f.in_range += u64::from(strong);
    f.returning += u64::from(phone.returning);
    let dwell_secs = (phone.last - phone.first) / 1000;
    let bucket = DWELL_BUCKETS.iter().position(|(_, max)| dwell_secs < *max);
    f.dwell[bucket.unwrap_or(DWELL_BUCKETS.len() - 1)] += 1;
    if dwell_secs < PASSER_BY_SECS {
        f.passers_by += 1;
    } else {
        f.visitors += 1;
    }
    for &h in &phone.hours {
        if let Some(hour) = f.per_hour.get_mut(h) {
            hour.seen += 1;
        }
    }
}

fn attempts(tx: &Connection, p: &Period, f: &mut DayFigures) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
        "SELECT device_id, item_name, radio, outcome, ended_at FROM attempts
         WHERE ended_at >= ?1 AND ended_at < ?2",
    )?;
    let mut rows = stmt.query(params![p.from_ms, p.to_ms])?;
    let mut phones: [HashSet<i64>; 4] = Default::default(); // offered, accepted, declined, ignored
    let mut hourly: Vec<[HashSet<i64>; 2]> = vec![Default::default(); f.per_hour.len()];
    let mut items: BTreeMap<String, Split> = BTreeMap::new();
    let mut radios: BTreeMap<String, Split> = BTreeMap::new();
    while let Some(r) = rows.next()? {
        let device: i64 = r.get(0)?;
        let outcome_name: String = r.get(3)?;
        *f.outcomes.entry(outcome_name.clone()).or_default() += 1;
        let Ok(outcome) = Outcome::from_str(&outcome_name) else {
            continue;
        };
        if !asked(outcome) {
            continue;
        }
        let took = outcome == Outcome::Accepted;
        for (set, yes) in phones.iter_mut().zip([
            true,
            took,
            outcome == Outcome::Declined,
            outcome == Outcome::Ignored,
        ]) {
            if yes {
                set.insert(device);
            }
        }
        if let Some(h) = hourly.get_mut(hour_of(p, r.get(4)?)) {
            h[0].insert(device);
            if took {
                h[1].insert(device);
            }
        }
        for (map, name) in [
            (&mut items, r.get::<_, String>(1)?),
            (&mut radios, r.get(2)?),
        ] {
            let s = map.entry(name.clone()).or_insert_with(|| Split {
                name,
                ..Split::default()
            });
            s.offered += 1;
            s.accepted += u64::from(took);
        }
    }
    let [offered, accepted, declined, ignored] = phones.map(|s| s.len() as u64);
    (f.offered, f.accepted, f.declined, f.ignored) = (offered, accepted, declined, ignored);
    for (hour, sets) in f.per_hour.iter_mut().zip(hourly) {
        hour.offered = sets[0].len() as u64;
        hour.accepted = sets[1].len() as u64;
    }
    f.per_item = items.into_values().collect();
    f.per_radio = radios.into_values().collect();
    Ok(())
}

/// The index of the hour `at_ms` falls in.
fn hour_of(p: &Period, at_ms: i64) -> usize {
    p.hour_starts
        .partition_point(|&start| start <= at_ms)
        .saturating_sub(1)
}
