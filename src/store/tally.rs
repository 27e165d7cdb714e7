//! Counting a period's visits and attempts into its [`DayFigures`], whichever database the rows
//! come from: the appliance's SQLite log (phones keyed by device id) or the fleet's MySQL
//! (phones keyed by their pseudonym). One counter for both keeps an appliance's figures the
//! same whichever way they were read, and makes a fleet's figures the union of its phones.

use super::day::{asked, DayFigures, HourFigures, Period, Split, DWELL_BUCKETS, PASSER_BY_SECS};
use crate::outcome::Outcome;
use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::str::FromStr;

/// A fast hash for phone keys (ids and pseudonyms from the logs themselves, counted once per
/// report): a day's report hashes millions of them.
type Fast = foldhash::fast::FixedState;

/// One visit row: a phone heard from `first_ms` to `last_ms`.
pub struct Visit<K> {
    pub phone: K,
    pub first_ms: i64,
    pub last_ms: i64,
    pub rssi_max: Option<i64>,
    /// The phone had been seen before the period.
    pub returning: bool,
}

/// One attempt row, ended at `ended_ms`.
pub struct Attempt<'a, K> {
    pub phone: K,
    pub item: &'a str,
    pub radio: &'a str,
    pub outcome: &'a str,
    pub ended_ms: i64,
}

/// One phone's presence in the period.
struct Presence {
    first: i64,
    last: i64,
    strongest: Option<i64>,
    returning: bool,
    /// Bit `i`: heard in the period's hour `i`.
    hours: u64,
}

/// What one phone was asked in the period and how it answered: one entry per phone, so an
/// attempt costs one lookup.
#[derive(Default)]
struct Asked {
    /// Bit `i`: asked in hour `i`; took a file in hour `i`.
    hours: u64,
    accepted_hours: u64,
    accepted: bool,
    declined: bool,
    ignored: bool,
}

/// The bounds and hours of the counted period (a copy: a tally may outlive the caller's
/// [`Period`], as the dashboard's count of today does).
struct Span {
    from_ms: i64,
    to_ms: i64,
    hour_starts: Vec<i64>,
    min_rssi: Option<i16>,
}

/// The running count of one period; rows in any order, a phone in any number of rows. Visits
/// may be counted again when they grow (a phone's presence is kept as first, last, strongest and
/// hours, which a repeated row does not change); each attempt must be counted once.
pub struct Tally<K> {
    period: Span,
    phones: HashMap<K, Presence, Fast>,
    asked: HashMap<K, Asked, Fast>,
    outcomes: BTreeMap<String, u64>,
    items: BTreeMap<String, Split>,
    radios: BTreeMap<String, Split>,
}

impl<K: Hash + Eq + Clone> Tally<K> {
    /// A count of `period`, which has at most 64 hours (a day has 23 to 25).
    pub fn new(period: &Period) -> Tally<K> {
        assert!(
            period.hour_starts.len() <= 64,
            "a period of at most 64 hours"
        );
        Tally {
            period: Span {
                from_ms: period.from_ms,
                to_ms: period.to_ms,
                hour_starts: period.hour_starts.to_vec(),
                min_rssi: period.min_rssi,
            },
            phones: HashMap::default(),
            asked: HashMap::default(),
            outcomes: super::report::zero_counts(),
            items: BTreeMap::new(),
            radios: BTreeMap::new(),
        }
    }

    /// Counts a visit row that overlaps the period (the part outside it is cut off).
    pub fn visit(&mut self, v: Visit<K>) {
        let p = &self.period;
        let first = v.first_ms.max(p.from_ms);
        let last = v.last_ms.min(p.to_ms - 1);
        let e = self.phones.entry(v.phone).or_insert_with(|| Presence {
            first,
            last,
            strongest: None,
            returning: false,
            hours: 0,
        });
        e.first = e.first.min(first);
        e.last = e.last.max(last);
        e.strongest = e.strongest.max(v.rssi_max);
        e.returning |= v.returning;
        e.hours |= hour_bits(hour_of(p, first), hour_of(p, last));
    }

    /// Whether `phone` has been counted.
    pub fn has(&self, phone: &K) -> bool {
        self.phones.contains_key(phone)
    }

    /// The phones counted so far.
    pub fn phones(&self) -> impl Iterator<Item = &K> {
        self.phones.keys()
    }

    /// Marks a counted phone as seen before the period.
    pub fn returning(&mut self, phone: &K) {
        if let Some(p) = self.phones.get_mut(phone) {
            p.returning = true;
        }
    }

    /// Counts an attempt that ended in the period.
    pub fn attempt(&mut self, a: Attempt<'_, K>) {
        match self.outcomes.get_mut(a.outcome) {
            Some(n) => *n += 1,
            None => {
                self.outcomes.insert(a.outcome.to_string(), 1);
            }
        }
        let Ok(outcome) = Outcome::from_str(a.outcome) else {
            return;
        };
        if !asked(outcome) {
            return;
        }
        let took = outcome == Outcome::Accepted;
        self.answer(a.phone, outcome, a.ended_ms);
        split(&mut self.items, a.item, took);
        split(&mut self.radios, a.radio, took);
    }

    /// Notes how `phone` answered a question at `at_ms`.
    fn answer(&mut self, phone: K, outcome: Outcome, at_ms: i64) {
        let hour = 1u64 << hour_of(&self.period, at_ms);
        let e = self.asked.entry(phone).or_default();
        e.hours |= hour;
        if outcome == Outcome::Accepted {
            e.accepted_hours |= hour;
            e.accepted = true;
        }
        e.declined |= outcome == Outcome::Declined;
        e.ignored |= outcome == Outcome::Ignored;
    }

    /// The period's figures so far.
    pub fn figures(&self) -> DayFigures {
        let count = |pick: fn(&Asked) -> bool| self.asked.values().filter(|a| pick(a)).count();
        let mut f = DayFigures {
            outcomes: self.outcomes.clone(),
            per_hour: self
                .period
                .hour_starts
                .iter()
                .map(|&start_ms| HourFigures {
                    start_ms,
                    ..HourFigures::default()
                })
                .collect(),
            dwell: vec![0; DWELL_BUCKETS.len()],
            offered: self.asked.len() as u64,
            accepted: count(|a| a.accepted) as u64,
            declined: count(|a| a.declined) as u64,
            ignored: count(|a| a.ignored) as u64,
            per_item: self.items.values().cloned().collect(),
            per_radio: self.radios.values().cloned().collect(),
            ..DayFigures::default()
        };
        for phone in self.phones.values() {
            count_presence(&self.period, &mut f, phone);
        }
        for asked in self.asked.values() {
            for (i, hour) in f.per_hour.iter_mut().enumerate() {
                hour.offered += (asked.hours >> i) & 1;
                hour.accepted += (asked.accepted_hours >> i) & 1;
            }
        }
        f
    }
}

fn split(map: &mut BTreeMap<String, Split>, name: &str, took: bool) {
    if !map.contains_key(name) {
        let s = Split {
            name: name.to_string(),
            ..Split::default()
        };
        map.insert(name.to_string(), s);
    }
    if let Some(s) = map.get_mut(name) {
        s.offered += 1;
        s.accepted += u64::from(took);
    }
}

fn count_presence(p: &Span, f: &mut DayFigures, phone: &Presence) {
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
    for (i, hour) in f.per_hour.iter_mut().enumerate() {
        hour.seen += (phone.hours >> i) & 1;
    }
}

/// The bits of hours `from` to `to`, both included (`to` < 64).
fn hour_bits(from: usize, to: usize) -> u64 {
    let upto = if to >= 63 {
        u64::MAX
    } else {
        (1u64 << (to + 1)) - 1
    };
    upto & !((1u64 << from) - 1)
}

/// The index of the hour `at_ms` falls in.
fn hour_of(p: &Span, at_ms: i64) -> usize {
    p.hour_starts
        .partition_point(|&start| start <= at_ms)
        .saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::hour_bits;

    #[test]
    fn hour_bits_cover_both_ends() {
        assert_eq!(hour_bits(0, 0), 0b1);
        assert_eq!(hour_bits(2, 4), 0b11100);
        assert_eq!(hour_bits(63, 63), 1 << 63);
        assert_eq!(hour_bits(0, 63), u64::MAX);
        assert_eq!(
            hour_bits(5, 4),
            0,
            "a visit ending before it starts is in no hour"
        );
    }
}
