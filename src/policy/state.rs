//! What the policy remembers of one device while it is around: class, signal, whether it has
//! Object Push, the attempt in flight, and per campaign item the answer, failures and next retry.

use crate::config::PolicyConfig;
use crate::content::Item;
use crate::model::device::ClassOfDevice;
use crate::model::outcome::Outcome;
use crate::store::DeviceHistory;

use super::Now;

pub(super) struct DeviceState {
    pub class: ClassOfDevice,
    /// The Bluetooth name, once the phone told it.
    pub name: Option<String>,
    /// Already counted as kept out by the campaign's name filters.
    pub name_held: bool,
    pub rssi: Option<i16>,
    pub last_seen_ms: u64,
    /// The item hash being pushed now.
    pub in_flight: Option<String>,
    pub no_opp: bool,
    /// Answered an Object Push before (here or, per the log, earlier): it has the service.
    pub opp_proven: bool,
    /// Ever attempted (here or, per the log, before): the radio stack should not keep it.
    pub handled: bool,
    /// When the radio stack was last told to forget it (monotonic ms).
    pub forgotten_ms: Option<u64>,
    /// Per campaign item, in campaign order; `None` until learnt from the store.
    pub items: Option<Vec<ItemState>>,
    /// States of a previous campaign's items by content hash, kept across a reload: fresher
    /// than the store, whose writer may not have committed the latest outcomes yet.
    pub carried: Vec<(String, ItemState)>,
}

impl DeviceState {
    pub fn new(class: ClassOfDevice) -> DeviceState {
        DeviceState {
            class,
            name: None,
            name_held: false,
            rssi: None,
            last_seen_ms: 0,
            in_flight: None,
            no_opp: false,
            opp_proven: false,
            handled: false,
            forgotten_ms: None,
            items: None,
            carried: Vec::new(),
        }
    }

    /// The same device, to be learnt again for a new campaign, carrying what it knows by hash.
    pub fn unlearned(mut self, old_hashes: &[String]) -> DeviceState {
        if let Some(items) = self.items.take() {
            self.carried = old_hashes.iter().cloned().zip(items).collect();
        }
        self
    }

    /// Remembers an outcome for an item of a campaign no longer (or not yet) laid out.
    pub fn carry(&mut self, hash: &str, outcome: Outcome, now: Now, cfg: &PolicyConfig) {
        let index = match self.carried.iter().position(|(h, _)| h == hash) {
            Some(i) => i,
            None => {
                self.carried.push((hash.to_string(), ItemState::default()));
                self.carried.len() - 1
            }
        };
        self.carried[index].1.record(outcome, now, cfg);
    }

    /// The carried state of an item, if any.
    pub fn carried(&self, hash: &str) -> Option<ItemState> {
        self.carried
            .iter()
            .find(|(h, _)| h == hash)
            .map(|(_, s)| s.clone())
    }

    /// A transient failure's back-off has run out.
    pub fn retry_due(&self, now_ms: u64, retry_limit: u32) -> bool {
        let due = |s: &ItemState| {
            s.answer.is_none() && (1..=retry_limit).contains(&s.failures) && s.next_try_ms <= now_ms
        };
        self.items
            .as_ref()
            .is_some_and(|items| items.iter().any(due))
    }
}

#[derive(Clone, Debug, Default)]
pub(super) struct ItemState {
    pub answer: Option<Outcome>,
    /// Monotonic ms of the answer (for cool-downs).
    pub answered_ms: u64,
    /// Transient failures (and, when ignored is no answer, ignored prompts).
    pub failures: u32,
    pub next_try_ms: u64,
    /// The rules already counted as keeping this item from the phone (bits of `Hold`).
    pub held: u8,
}

impl ItemState {
    pub fn from_history(item: &Item, history: &DeviceHistory, now: Now) -> ItemState {
        let Some(h) = history.items.iter().find(|h| h.item_hash == item.sha256) else {
            return ItemState::default();
        };
        let age_ms = h
            .last_ended_ms
            .map(|t| (now.wall_ms - t).max(0) as u64)
            .unwrap_or(u64::MAX);
        ItemState {
            answer: h.answer,
            answered_ms: now.mono_ms.saturating_sub(age_ms),
            failures: h.failures,
            next_try_ms: 0,
            held: 0,
        }
    }

    pub fn record(&mut self, outcome: Outcome, now: Now, cfg: &PolicyConfig) {
        if outcome.is_transient() {
            self.failures += 1;
            self.next_try_ms = now.mono_ms + backoff_ms(self.failures, cfg);
            return;
        }
        if outcome == Outcome::Ignored && !cfg.ignored_is_answer {
            self.failures += 1;
        }
        self.answer = Some(outcome);
        self.answered_ms = now.mono_ms;
    }
}

/// `base · 2^(n-1)`, capped at the maximum.
pub(super) fn backoff_ms(failures: u32, cfg: &PolicyConfig) -> u64 {
    let exp = failures.saturating_sub(1).min(20);
    (cfg.retry_base_secs.saturating_mul(1 << exp)).min(cfg.retry_max_secs) * 1000
}
