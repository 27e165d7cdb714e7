//! Who gets what, and when: the eligibility of (device, item).
//!
//! Rules, in order: the deny list is never contacted; nothing is pushed outside the campaign's
//! dates and hours; the allow list (the operator's own test phones) passes the class and signal
//! filters and is offered again after a cool-down; other devices must be of an allowed class and
//! loud enough; a device without Object Push is left alone; a phone that answered for an item's
//! content hash (accepted, declined, ignored unless configured otherwise, type refused) is never
//! asked for it again; unreachable and failed attempts are retried with exponential back-off up
//! to a limit. One attempt per device at a time.
//!
//! Then each item's own rules ([`crate::content::rules`]): a phone is offered only the variant of
//! an A/B test its pseudonym's hash picks ([`ab`]), only items whose name filters ([`names`]) and
//! own dates and hours let it, a follow-up only after it accepted the item it follows (and its
//! delay has passed), and nothing whose cap is reached ([`caps`]). How many phones each rule
//! kept from each item is counted, for the dashboard and `o4send demo --campaign`.
//!
//! The policy is plain synchronous code over a bounded map of devices seen recently; what
//! happened before that lives in the store and is handed in through [`Policy::learn`]. It knows
//! nothing of how pushes are done. Time comes in as [`Now`]: a monotonic clock for back-off (the
//! Pi's wall clock jumps when it first syncs) and the wall clock for the schedule.

mod ab;
pub mod caps;
mod holds;
pub mod names;
pub mod schedule;
mod state;

/// A handled device seen again is forgotten again, but not more often than this.
const REFORGET_MS: u64 = 5_000;

use crate::config::PolicyConfig;
use crate::content::{Campaign, Item};
use crate::model::device::{BdAddr, ClassOfDevice};
use crate::model::outcome::Outcome;
use crate::store::DeviceHistory;
use crate::sync::pseudonym::PhoneKey;
use caps::{CapCounts, CapState, Caps};
use holds::{Hold, Holds};
pub use holds::{HoldReport, ItemHolds};
use jiff::tz::TimeZone;
use state::{DeviceState, ItemState};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

/// The moment a decision is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    /// Monotonic milliseconds (since the daemon started).
    pub mono_ms: u64,
    /// Wall-clock Unix milliseconds.
    pub wall_ms: i64,
}

/// A device as the scanner heard it.
#[derive(Clone, Copy, Debug)]
pub struct Seen<'a> {
    pub addr: BdAddr,
    pub class: ClassOfDevice,
    pub rssi: Option<i16>,
    /// The Bluetooth name, when the phone has told it (an empty one counts as none).
    pub name: Option<&'a str>,
}

/// One push to do.
#[derive(Clone, Debug)]
pub struct Job {
    pub addr: BdAddr,
    pub item: Arc<Item>,
    pub campaign: Arc<str>,
    /// The phone has answered an Object Push before (accepted, declined or ignored a file), so
    /// it has the service: a "no OPP record" now is a glitch of its stack, not a fact about it.
    pub opp_proven: bool,
}

/// Why a device gets nothing now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skip {
    Unknown,
    Busy,
    Denied,
    NoContent,
    Closed,
    Class,
    WeakSignal,
    /// The campaign's name filters keep it out.
    Name,
    NoOpp,
    /// Everything it may get, it got or answered.
    Done,
    /// A retry is due at this monotonic millisecond.
    Waiting(u64),
}

/// The eligibility rules over the devices seen recently.
pub struct Policy {
    cfg: PolicyConfig,
    allow: HashSet<BdAddr>,
    deny: HashSet<BdAddr>,
    tz: TimeZone,
    campaign: Arc<Campaign>,
    campaign_name: Arc<str>,
    forget_after_ms: u64,
    devices: HashMap<BdAddr, DeviceState>,
    /// Names phones in A/B tests: the fleet's pseudonym, so every appliance picks alike.
    phone_key: PhoneKey,
    caps: Caps,
    holds: Holds,
    /// Per item, the index of the item it follows up.
    follows: Vec<Option<usize>>,
}

impl Policy {
    pub fn new(
        cfg: &PolicyConfig,
        tz: TimeZone,
        campaign: Arc<Campaign>,
        forget_after: Duration,
    ) -> Policy {
        Policy {
            allow: cfg.allow.iter().copied().collect(),
            deny: cfg.deny.iter().copied().collect(),
            cfg: cfg.clone(),
            tz,
            campaign_name: campaign.name.as_str().into(),
            forget_after_ms: forget_after.as_millis() as u64,
            devices: HashMap::new(),
            phone_key: PhoneKey::Raw,
            caps: Caps::default(),
            holds: Holds::new(campaign.items.len()),
            follows: follow_indexes(&campaign),
            campaign,
        }
    }

    /// Picks A/B variants by this key's pseudonyms (the fleet's, with sync on).
    pub fn with_phone_key(mut self, key: PhoneKey) -> Policy {
        self.phone_key = key;
        self
    }

    /// Takes new rules and content; devices re-learn their history from the store.
    pub fn reload(&mut self, cfg: &PolicyConfig, tz: TimeZone, campaign: Arc<Campaign>) {
        let devices = std::mem::take(&mut self.devices);
        let old_hashes: Vec<String> = self
            .campaign
            .items
            .iter()
            .map(|i| i.sha256.clone())
            .collect();
        let caps = std::mem::take(&mut self.caps);
        let key = std::mem::replace(&mut self.phone_key, PhoneKey::Raw);
        *self = Policy::new(
            cfg,
            tz,
            campaign,
            Duration::from_millis(self.forget_after_ms),
        )
        .with_phone_key(key);
        self.caps = caps;
        self.devices = devices
            .into_iter()
            .map(|(a, d)| (a, d.unlearned(&old_hashes)))
            .collect();
    }

    pub fn is_denied(&self, addr: BdAddr) -> bool {
        self.deny.contains(&addr)
    }

    /// Notes a sighting. Returns true when the device's history must be learnt first.
    pub fn seen(&mut self, s: &Seen, now: Now) -> bool {
        let d = self
            .devices
            .entry(s.addr)
            .or_insert_with(|| DeviceState::new(s.class));
        d.class = s.class;
        d.rssi = s.rssi.or(d.rssi);
        if let Some(name) = s.name.filter(|n| !n.is_empty()) {
            if d.name.as_deref() != Some(name) {
                d.name = Some(name.to_string());
            }
        }
        d.last_seen_ms = now.mono_ms;
        d.items.is_none()
    }

    /// Hands in what the store knows of a device; what memory carried over a reload wins.
    pub fn learn(&mut self, addr: BdAddr, history: &DeviceHistory, now: Now) {
        let Some(d) = self.devices.get_mut(&addr) else {
            return;
        };
        let state = |item: &Arc<Item>| {
            d.carried(&item.sha256)
                .unwrap_or_else(|| ItemState::from_history(item, history, now))
        };
        d.items = Some(self.campaign.items.iter().map(state).collect());
        d.carried.clear();
        d.no_opp |= history.no_opp;
        d.opp_proven |= history
            .items
            .iter()
            .any(|h| h.answer.is_some_and(is_obex_answer));
        d.handled |= history.no_opp || history.items.iter().any(|h| h.attempts > 0);
    }

    /// Whether the device needs its history learnt before [`Policy::next_job`].
    pub fn needs_history(&self, addr: BdAddr) -> bool {
        self.devices.get(&addr).is_some_and(|d| d.items.is_none())
    }

    /// The next push for this device, marking it in flight; or why there is none.
    pub fn next_job(&mut self, addr: BdAddr, now: Now) -> Result<Job, Skip> {
        let mut held = Vec::new();
        let verdict = self.eligible_item(addr, now, Some(&mut held));
        let d = self.devices.get_mut(&addr).ok_or(Skip::Unknown)?;
        self.holds.note(d, &held, verdict == Err(Skip::Name));
        let index = verdict?;
        let item = self.campaign.items[index].clone();
        d.in_flight = Some(item.sha256.clone());
        self.caps.started(&item.sha256);
        Ok(Job {
            addr,
            item,
            campaign: self.campaign_name.clone(),
            opp_proven: d.opp_proven,
        })
    }

    fn eligible_item(
        &self,
        addr: BdAddr,
        now: Now,
        mut held: Option<&mut Vec<(usize, Hold)>>,
    ) -> Result<usize, Skip> {
        let d = self.devices.get(&addr).ok_or(Skip::Unknown)?;
        let allowed = self.allow.contains(&addr);
        self.device_gate(d, addr, allowed, now)?;
        let items = d.items.as_ref().ok_or(Skip::Unknown)?;
        let class = d.class.major();
        // A test phone on the allow list gets every item when none targets its class.
        let any_targeted = self.campaign.items.iter().any(|item| item.targets(class));
        let wanted = |item: &Arc<Item>| item.targets(class) || (allowed && !any_targeted);
        let targeted = self
            .campaign
            .items
            .iter()
            .enumerate()
            .filter(|(_, item)| wanted(item));
        // The first item that is not skipped decides, except that a phone that said no to one
        // item is offered nothing more, whatever the order of the items (an item added later may
        // sort before the one it declined).
        let mut first = None;
        let mut later: Option<u64> = None;
        for (i, _) in targeted {
            if !self.is_variant_for(i, addr) {
                continue; // the other variant of an A/B test: this phone never gets it
            }
            match self.item_gate(&items[i], allowed, now) {
                ItemGate::Stop(Skip::Done) => return Err(Skip::Done),
                ItemGate::Next => {}
                ItemGate::Offer => match self.rule_gate(i, d, items, allowed, now) {
                    RuleGate::Pass => {
                        first.get_or_insert(Ok(i));
                    }
                    RuleGate::Hold(hold) => held.as_mut().map_or((), |h| h.push((i, hold))),
                    RuleGate::Later(at) => later = Some(later.map_or(at, |l| l.min(at))),
                    RuleGate::Never => {}
                },
                ItemGate::Stop(skip) => {
                    first.get_or_insert(Err(skip));
                }
            }
        }
        first
            .or(later.map(|at| Err(Skip::Waiting(at))))
            .unwrap_or(Err(Skip::Done))
    }

    /// The item's own rules, for a phone the answers so far would offer it to.
    fn rule_gate(
        &self,
        i: usize,
        d: &DeviceState,
        items: &[ItemState],
        allowed: bool,
        now: Now,
    ) -> RuleGate {
        let rules = &self.campaign.items[i].rules;
        if let Some(first) = self.follows[i] {
            let s = &items[first];
            if s.answer != Some(Outcome::Accepted) {
                return RuleGate::Never;
            }
            let delay_ms = rules.after.as_ref().map_or(0, |f| f.delay_minutes * 60_000);
            if now.mono_ms < s.answered_ms + delay_ms {
                return RuleGate::Later(s.answered_ms + delay_ms);
            }
        }
        if !allowed && !rules.names.admits(d.name.as_deref()) {
            return RuleGate::Hold(Hold::Filtered);
        }
        if !rules.schedule.is_open(now.wall_ms, &self.tz) {
            return RuleGate::Hold(Hold::Closed);
        }
        let day = caps::day_of(now.wall_ms, &self.tz);
        if self.caps.hit(&self.campaign.items[i], day).is_some() {
            return RuleGate::Hold(Hold::Capped);
        }
        RuleGate::Pass
    }

    /// Whether item `i` is for this phone: it is no A/B variant, or the variant picked for it.
    fn is_variant_for(&self, i: usize, addr: BdAddr) -> bool {
        let Some(test) = self.campaign.items[i].rules.ab_test.as_deref() else {
            return true;
        };
        let position = self
            .campaign
            .items
            .iter()
            .filter(|it| it.rules.ab_test.as_deref() == Some(test))
            .position(|it| Arc::ptr_eq(it, &self.campaign.items[i]));
        position == Some(ab::variant(&self.phone_key.phone(addr), test))
    }

    fn device_gate(
        &self,
        d: &DeviceState,
        addr: BdAddr,
        allowed: bool,
        now: Now,
    ) -> Result<(), Skip> {
        if d.in_flight.is_some() {
            return Err(Skip::Busy);
        }
        if self.deny.contains(&addr) {
            return Err(Skip::Denied);
        }
        if self.campaign.items.is_empty() {
            return Err(Skip::NoContent);
        }
        if !self.campaign.schedule.is_open(now.wall_ms, &self.tz) {
            return Err(Skip::Closed);
        }
        if allowed {
            return Ok(());
        }
        if !self.cfg.classes.contains(&d.class.major()) {
            return Err(Skip::Class);
        }
        if !self.campaign.names.admits(d.name.as_deref()) {
            return Err(Skip::Name);
        }
        if let (Some(min), Some(rssi)) = (self.cfg.min_rssi, d.rssi) {
            if rssi < min {
                return Err(Skip::WeakSignal);
            }
        }
        if d.no_opp {
            return Err(Skip::NoOpp);
        }
        Ok(())
    }

    fn item_gate(&self, s: &ItemState, allowed: bool, now: Now) -> ItemGate {
        let p = &self.cfg;
        if let Some(answer) = s.answer {
            let since = now.mono_ms.saturating_sub(s.answered_ms);
            if allowed {
                return wait_or_offer(since, p.allow_resend_secs, s.answered_ms);
            }
            return match answer {
                Outcome::Ignored if !p.ignored_is_answer && s.failures <= p.retry_limit => {
                    wait_or_offer(since, p.ignored_retry_secs, s.answered_ms)
                }
                Outcome::Declined | Outcome::Ignored if !p.offer_next_after_decline => {
                    ItemGate::Stop(Skip::Done)
                }
                Outcome::NoOpp => ItemGate::Stop(Skip::NoOpp),
                _ => ItemGate::Next,
            };
        }
        if s.failures > p.retry_limit {
            return ItemGate::Next;
        }
        if s.next_try_ms > now.mono_ms {
            return ItemGate::Stop(Skip::Waiting(s.next_try_ms));
        }
        ItemGate::Offer
    }

    /// Whether nothing more is planned for this device now: no retry or resend is waiting, so
    /// the radio stack may forget it (it is learnt again from the log if it comes back).
    pub fn settled(&self, addr: BdAddr, now: Now) -> bool {
        !matches!(
            self.eligible_item(addr, now, None),
            Ok(_) | Err(Skip::Waiting(_)) | Err(Skip::Busy)
        )
    }

    /// Whether the radio stack should forget the device now: it was handled, nothing more is
    /// planned for it, and it was not forgotten in the last few seconds. Marks it forgotten.
    pub fn take_forget(&mut self, addr: BdAddr, now: Now) -> bool {
        if !self.settled(addr, now) {
            return false;
        }
        let Some(d) = self.devices.get_mut(&addr) else {
            return false;
        };
        let recently = d
            .forgotten_ms
            .is_some_and(|t| now.mono_ms < t + REFORGET_MS);
        if !d.handled || recently {
            return false;
        }
        d.forgotten_ms = Some(now.mono_ms);
        true
    }

    /// Records how an attempt ended.
    pub fn finished(&mut self, addr: BdAddr, item_hash: &str, outcome: Outcome, now: Now) {
        let Some(d) = self.devices.get_mut(&addr) else {
            return;
        };
        d.in_flight = None;
        d.handled = true;
        let day = caps::day_of(now.wall_ms, &self.tz);
        self.caps
            .ended(item_hash, outcome == Outcome::Accepted, day);
        d.last_seen_ms = d.last_seen_ms.max(now.mono_ms);
        if outcome == Outcome::NoOpp {
            d.no_opp = true;
        }
        d.opp_proven |= is_obex_answer(outcome);
        let position = self
            .campaign
            .items
            .iter()
            .position(|it| it.sha256 == item_hash);
        if let Some(i) = position {
            self.holds.ended(i, outcome);
        }
        match (d.items.as_mut(), position) {
            (Some(items), Some(i)) => items[i].record(outcome, now, &self.cfg),
            // Finished across a reload: keep it until the device is learnt again.
            _ => d.carry(item_hash, outcome, now, &self.cfg),
        }
    }

    /// Devices with a retry due now that are not in flight: the engine offers them a slot.
    pub fn due(&self, now: Now) -> Vec<BdAddr> {
        let mut due: Vec<BdAddr> = self
            .devices
            .iter()
            .filter(|(_, d)| {
                d.in_flight.is_none() && d.retry_due(now.mono_ms, self.cfg.retry_limit)
            })
            .map(|(a, _)| *a)
            .collect();
        due.sort();
        due
    }

    /// Forgets devices unseen for `forget_after` and not in flight; returns them.
    pub fn evict(&mut self, now: Now) -> Vec<BdAddr> {
        let horizon = now.mono_ms.saturating_sub(self.forget_after_ms);
        let gone: Vec<BdAddr> = self
            .devices
            .iter()
            .filter(|(_, d)| d.in_flight.is_none() && d.last_seen_ms < horizon)
            .map(|(a, _)| *a)
            .collect();
        for a in &gone {
            self.devices.remove(a);
        }
        gone
    }

    /// Devices held in memory now.
    pub fn tracked(&self) -> usize {
        self.devices.len()
    }

    /// The content hashes of the items with a cap: what the log is asked to count.
    pub fn capped_hashes(&self) -> Vec<String> {
        let items = self.campaign.items.iter().filter(|i| i.rules.has_cap());
        items.map(|i| i.sha256.clone()).collect()
    }

    /// The log's accepted answers per capped item, here and from the fleet, counted from
    /// [`caps::day_start_ms`] of `now` for the day counts.
    pub fn learn_counts(
        &mut self,
        local: HashMap<String, CapCounts>,
        fleet: HashMap<String, CapCounts>,
        now: Now,
    ) {
        let day = caps::day_of(now.wall_ms, &self.tz);
        self.caps.learn_local(local, day);
        self.caps.learn_fleet(fleet, day);
    }

    /// The start of today, for the log's day counts.
    pub fn day_start_ms(&self, now: Now) -> i64 {
        caps::day_start_ms(now.wall_ms, &self.tz)
    }

    /// Every capped item and where it stands.
    pub fn cap_states(&self, now: Now) -> Vec<CapState> {
        let day = caps::day_of(now.wall_ms, &self.tz);
        let items = self.campaign.items.iter().filter(|i| i.rules.has_cap());
        items.map(|i| self.caps.state(i, day)).collect()
    }

    /// How many phones each rule kept from each item, and the campaign's name filters in all.
    pub fn holds(&self) -> HoldReport {
        self.holds.report(&self.campaign)
    }
}

enum ItemGate {
    Offer,
    Next,
    Stop(Skip),
}

/// What an item's own rules say.
enum RuleGate {
    Pass,
    /// A rule keeps it from this phone now (counted).
    Hold(Hold),
    /// A follow-up whose delay runs out at this monotonic millisecond.
    Later(u64),
    /// A follow-up of an item this phone did not accept.
    Never,
}

/// Per item, the index of the item its `after` names.
fn follow_indexes(campaign: &Campaign) -> Vec<Option<usize>> {
    let index = |name: &str| campaign.items.iter().position(|i| i.name == name);
    let after = |i: &Arc<Item>| i.rules.after.as_ref().and_then(|f| index(&f.item));
    campaign.items.iter().map(after).collect()
}

fn wait_or_offer(since_ms: u64, cooldown_secs: u64, answered_ms: u64) -> ItemGate {
    if since_ms >= cooldown_secs * 1000 {
        ItemGate::Offer
    } else {
        ItemGate::Stop(Skip::Waiting(answered_ms + cooldown_secs * 1000))
    }
}

#[cfg(test)]
mod prop_tests;
#[cfg(test)]
mod rules_tests;
#[cfg(test)]
mod tests;

/// An outcome only a phone with Object Push can give.
fn is_obex_answer(outcome: Outcome) -> bool {
    matches!(
        outcome,
        Outcome::Accepted | Outcome::Declined | Outcome::Ignored
    )
}
