//! Caps: "at most 500 vouchers accepted in total, 150 a day". The policy counts, per capped item,
//! the answers "accepted" given here (exactly: it sees each one end) and those the fleet sync
//! brought from the other appliances (as far as the last sync knows them), in total and on the
//! appliance's day in its time zone. Pushes in flight count as if they will be accepted, so one
//! appliance alone never goes over a cap; a fleet can, by what the others accept between syncs.

use crate::content::Item;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use std::collections::HashMap;

/// Accepted answers for one item: in total, and on the day they were counted for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CapCounts {
    pub total: u64,
    pub today: u64,
}

/// Why an item is not offered now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CapHit {
    Total,
    Day,
}

/// An item's cap and where it stands, for the dashboard, the status and the report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CapState {
    pub item: String,
    pub cap_total: Option<u64>,
    pub cap_per_day: Option<u64>,
    /// Accepted here and, as far as the last sync knows, elsewhere in the fleet.
    pub accepted: CapCounts,
    /// Of those, accepted by the other appliances.
    pub fleet: CapCounts,
    pub capped: bool,
}

impl CapState {
    /// `voucher.pdf: 500 of 500 accepted in total (120 at other booths): capped`.
    pub fn line(&self) -> String {
        let mut parts = Vec::new();
        if let Some(cap) = self.cap_total {
            parts.push(format!("{} of {cap} in total", self.accepted.total));
        }
        if let Some(cap) = self.cap_per_day {
            parts.push(format!("{} of {cap} today", self.accepted.today));
        }
        let fleet = if self.fleet.total > 0 {
            format!(" ({} at other appliances)", self.fleet.total)
        } else {
            String::new()
        };
        let verdict = if self.capped { "capped" } else { "open" };
        format!(
            "{}: accepted {}{fleet}: {verdict}",
            self.item,
            parts.join(", ")
        )
    }
}

/// The counts behind every capped item, by content hash.
#[derive(Debug, Default)]
pub(super) struct Caps {
    /// The day `today` counts are for.
    day: Option<Date>,
    local: HashMap<String, CapCounts>,
    fleet: HashMap<String, CapCounts>,
    in_flight: HashMap<String, u64>,
}

impl Caps {
    /// Takes this appliance's counts from the log for items it has none for yet (counts it kept
    /// itself are exacter: the log's writer may not have committed the latest answers).
    pub fn learn_local(&mut self, counts: HashMap<String, CapCounts>, day: Date) {
        self.roll(day);
        for (hash, c) in counts {
            self.local.entry(hash).or_insert(c);
        }
    }

    /// Replaces the fleet's counts with what the log knows now.
    pub fn learn_fleet(&mut self, counts: HashMap<String, CapCounts>, day: Date) {
        self.roll(day);
        self.fleet = counts;
    }

    pub fn started(&mut self, hash: &str) {
        *self.in_flight.entry(hash.to_string()).or_default() += 1;
    }

    pub fn ended(&mut self, hash: &str, accepted: bool, day: Date) {
        if let Some(n) = self.in_flight.get_mut(hash) {
            *n = n.saturating_sub(1);
        }
        if accepted {
            self.roll(day);
            let c = self.local.entry(hash.to_string()).or_default();
            c.total += 1;
            c.today += 1;
        }
    }

    /// A new day starts every day count at zero.
    fn roll(&mut self, day: Date) {
        if self.day.is_some_and(|d| d >= day) {
            return;
        }
        if self.day.is_some() {
            for c in self.local.values_mut().chain(self.fleet.values_mut()) {
                c.today = 0;
            }
        }
        self.day = Some(day);
    }

    fn counts(&self, hash: &str, day: Date) -> (CapCounts, CapCounts) {
        let mut local = self.local.get(hash).copied().unwrap_or_default();
        let mut fleet = self.fleet.get(hash).copied().unwrap_or_default();
        if self.day != Some(day) {
            local.today = 0;
            fleet.today = 0;
        }
        (local, fleet)
    }

    /// Whether the item may not be offered once more (counting pushes in flight as accepted).
    pub fn hit(&self, item: &Item, day: Date) -> Option<CapHit> {
        let rules = &item.rules;
        if !rules.has_cap() {
            return None;
        }
        let (local, fleet) = self.counts(&item.sha256, day);
        let flying = self.in_flight.get(&item.sha256).copied().unwrap_or(0);
        let over = |cap: Option<u64>, n: u64| cap.is_some_and(|c| n + flying >= c);
        if over(rules.cap_total, local.total + fleet.total) {
            return Some(CapHit::Total);
        }
        over(rules.cap_per_day, local.today + fleet.today).then_some(CapHit::Day)
    }

    pub fn state(&self, item: &Item, day: Date) -> CapState {
        let (local, fleet) = self.counts(&item.sha256, day);
        CapState {
            item: item.name.clone(),
            cap_total: item.rules.cap_total,
            cap_per_day: item.rules.cap_per_day,
            accepted: CapCounts {
                total: local.total + fleet.total,
                today: local.today + fleet.today,
            },
            fleet,
            capped: self.hit(item, day).is_some(),
        }
    }
}

/// Where the capped items of `campaign` stand after the log's counts (no push in flight): what
/// `o4send status` shows with or without the daemon running.
pub fn states(
    campaign: &crate::content::Campaign,
    (local, fleet): crate::store::Accepted,
    wall_ms: i64,
    tz: &TimeZone,
) -> Vec<CapState> {
    let day = day_of(wall_ms, tz);
    let mut caps = Caps::default();
    caps.learn_local(local, day);
    caps.learn_fleet(fleet, day);
    campaign
        .items
        .iter()
        .filter(|i| i.rules.has_cap())
        .map(|i| caps.state(i, day))
        .collect()
}

/// The appliance's date at `wall_ms`.
pub fn day_of(wall_ms: i64, tz: &TimeZone) -> Date {
    Timestamp::from_millisecond(wall_ms)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .to_zoned(tz.clone())
        .date()
}

/// Unix ms at which the appliance's day of `wall_ms` began.
pub fn day_start_ms(wall_ms: i64, tz: &TimeZone) -> i64 {
    day_of(wall_ms, tz)
        .to_zoned(tz.clone())
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or(wall_ms)
}
