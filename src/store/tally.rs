//! Counting a period's visits and attempts into its [`DayFigures`], whichever database the rows
//! come from: the appliance's SQLite log (phones keyed by device id) or the fleet's MySQL
//! (phones keyed by their pseudonym). One counter for both keeps an appliance's figures the
//! same whichever way they were read, and makes a fleet's figures the union of its phones.

use super::day::{asked, DayFigures, HourFigures, Period, Split, DWELL_BUCKETS, PASSER_BY_SECS};
use crate::model::outcome::Outcome;
use std::collections::hash_map::Entry;
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
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Presence {
    pub first: i64,
    pub last: i64,
    pub strongest: Option<i64>,
    pub returning: bool,
    /// Bit `i`: heard in the period's hour `i`.
    pub hours: u64,
}

/// What one phone was asked in the period and how it answered: one entry per phone, so an
/// attempt costs one lookup.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Asked {
    /// Bit `i`: asked in hour `i`; took a file in hour `i`.
    pub hours: u64,
    pub accepted_hours: u64,
    pub accepted: bool,
    pub declined: bool,
    pub ignored: bool,
}

/// Everything a tally knows of one phone: what [`super::summary`] keeps per phone and day.
pub(crate) struct PhoneDay<K> {
    pub phone: K,
    pub presence: Option<Presence>,
    pub asked: Option<Asked>,
}

/// Which of a tally's named counts a [`Count`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CountKind {
    /// Attempts by outcome (`offered` holds the count).
    Outcome,
    Item,
    Radio,
}

/// One named count of a tally.
pub(crate) struct Count<'a> {
    pub kind: CountKind,
    pub name: &'a str,
    pub offered: u64,
    pub accepted: u64,
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
        let seen = presence(
            (self.period.from_ms, self.period.to_ms),
            &self.period.hour_starts,
            &v,
        );
        match self.phones.entry(v.phone) {
            Entry::Occupied(mut e) => e.get_mut().merge(&seen),
            Entry::Vacant(e) => {
                e.insert(seen);
            }
        }
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
        let hour = 1u64 << hour_of(&self.period.hour_starts, at_ms);
        let e = self.asked.entry(phone).or_default();
        e.hours |= hour;
        if outcome == Outcome::Accepted {
            e.accepted_hours |= hour;
            e.accepted = true;
        }
        e.declined |= outcome == Outcome::Declined;
        e.ignored |= outcome == Outcome::Ignored;
    }

    /// Puts back what a tally of the same period knew of one phone ([`Tally::phone_days`]).
    pub(crate) fn restore(&mut self, day: PhoneDay<K>) {
        if let Some(p) = day.presence {
            self.phones.insert(day.phone.clone(), p);
        }
        if let Some(a) = day.asked {
            self.asked.insert(day.phone, a);
        }
    }

    /// Puts back one named count ([`Tally::counts`]).
    pub(crate) fn restore_count(&mut self, c: Count<'_>) {
        let split = Split {
            name: c.name.to_string(),
            offered: c.offered,
            accepted: c.accepted,
        };
        match c.kind {
            CountKind::Outcome => {
                self.outcomes.insert(split.name, split.offered);
            }
            CountKind::Item => {
                self.items.insert(split.name.clone(), split);
            }
            CountKind::Radio => {
                self.radios.insert(split.name.clone(), split);
            }
        }
    }

    /// What the tally knows of each phone.
    pub(crate) fn phone_days(&self) -> impl Iterator<Item = PhoneDay<&K>> {
        let heard = self.phones.iter().map(|(k, p)| PhoneDay {
            phone: k,
            presence: Some(*p),
            asked: self.asked.get(k).copied(),
        });
        let only_asked = self
            .asked
            .iter()
            .filter(|(k, _)| !self.phones.contains_key(k))
            .map(|(k, a)| PhoneDay {
                phone: k,
                presence: None,
                asked: Some(*a),
            });
        heard.chain(only_asked)
    }

    /// The named counts: attempts per outcome, questions per item and per radio.
    pub(crate) fn counts(&self) -> impl Iterator<Item = Count<'_>> {
        let outcomes = self.outcomes.iter().map(|(name, &n)| Count {
            kind: CountKind::Outcome,
            name,
            offered: n,
            accepted: 0,
        });
        outcomes
            .chain(split_counts(CountKind::Item, &self.items))
            .chain(split_counts(CountKind::Radio, &self.radios))
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

fn split_counts(kind: CountKind, map: &BTreeMap<String, Split>) -> impl Iterator<Item = Count<'_>> {
    map.values().map(move |s| Count {
        kind,
        name: &s.name,
        offered: s.offered,
        accepted: s.accepted,
    })
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
pub(crate) fn hour_of(hour_starts: &[i64], at_ms: i64) -> usize {
    hour_starts
        .partition_point(|&start| start <= at_ms)
        .saturating_sub(1)
}

/// The part of a visit inside the period `[from, to)` whose hours start at `hour_starts`.
pub(crate) fn presence<K>((from, to): (i64, i64), hour_starts: &[i64], v: &Visit<K>) -> Presence {
    let first = v.first_ms.max(from);
    let last = v.last_ms.min(to - 1);
    Presence {
        first,
        last,
        strongest: v.rssi_max,
        returning: v.returning,
        hours: hour_bits(hour_of(hour_starts, first), hour_of(hour_starts, last)),
    }
}

impl Presence {
    /// Joins another part of the same phone's presence in the same period.
    pub(crate) fn merge(&mut self, other: &Presence) {
        self.first = self.first.min(other.first);
        self.last = self.last.max(other.last);
        self.strongest = self.strongest.max(other.strongest);
        self.returning |= other.returning;
        self.hours |= other.hours;
    }
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
