//! How many phones each rule kept from each item: the campaign's name filters, an item's name
//! filters, its own hours and its cap. Each phone is counted once per item and rule, when the
//! rule is what stands between it and the item; `o4send demo --campaign` and the dashboard show
//! the counts, so a marketer sees what a rule did before the expo and during it.

use super::state::DeviceState;
use crate::content::Campaign;

/// A rule that kept an item from a phone that would otherwise have got it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hold {
    Filtered,
    Closed,
    Capped,
}

impl Hold {
    fn bit(self) -> u8 {
        match self {
            Hold::Filtered => 1,
            Hold::Closed => 2,
            Hold::Capped => 4,
        }
    }
}

/// Phones kept from one item, by rule; and the attempts that asked and were accepted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItemHolds {
    pub item: String,
    /// Attempts that asked the phone (accepted, declined, ignored, type refused).
    pub offered: u64,
    pub accepted: u64,
    pub filtered: u64,
    pub closed: u64,
    pub capped: u64,
}

/// Every item's counts and the phones the campaign's own name filters kept out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HoldReport {
    pub name_filtered: u64,
    pub items: Vec<ItemHolds>,
}

impl HoldReport {
    /// In words, one line per rule that kept phones back (none: nothing was kept back).
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.name_filtered > 0 {
            let n = self.name_filtered;
            out.push(format!("{n} phone(s) by the campaign's name filters"));
        }
        for h in self
            .items
            .iter()
            .filter(|h| h.filtered + h.closed + h.capped > 0)
        {
            out.push(format!(
                "{}: {} by name, {} outside its hours, {} by its cap",
                h.item, h.filtered, h.closed, h.capped
            ));
        }
        out
    }
}

/// The counters, in campaign order: filtered, closed, capped, offered, accepted.
#[derive(Debug, Default)]
pub(super) struct Holds {
    name_filtered: u64,
    items: Vec<[u64; 5]>,
}

impl Holds {
    pub fn new(items: usize) -> Holds {
        Holds {
            name_filtered: 0,
            items: vec![[0; 5]; items],
        }
    }

    /// Counts an attempt's end for item `i`.
    pub fn ended(&mut self, i: usize, outcome: crate::model::outcome::Outcome) {
        if let Some(c) = self.items.get_mut(i) {
            c[3] += u64::from(crate::store::asked(outcome));
            c[4] += u64::from(outcome == crate::model::outcome::Outcome::Accepted);
        }
    }

    /// Counts what held this phone back now, once per phone, item and rule.
    pub fn note(&mut self, d: &mut DeviceState, held: &[(usize, Hold)], by_name: bool) {
        if by_name && !d.name_held {
            d.name_held = true;
            self.name_filtered += 1;
        }
        let Some(states) = d.items.as_mut() else {
            return;
        };
        for &(i, hold) in held {
            let (Some(s), Some(counts)) = (states.get_mut(i), self.items.get_mut(i)) else {
                continue;
            };
            if s.held & hold.bit() == 0 {
                s.held |= hold.bit();
                counts[hold.bit().trailing_zeros() as usize] += 1;
            }
        }
    }

    pub fn report(&self, campaign: &Campaign) -> HoldReport {
        let items = campaign.items.iter().zip(&self.items);
        HoldReport {
            name_filtered: self.name_filtered,
            items: items
                .map(|(item, c)| ItemHolds {
                    item: item.name.clone(),
                    filtered: c[0],
                    closed: c[1],
                    capped: c[2],
                    offered: c[3],
                    accepted: c[4],
                })
                .collect(),
        }
    }
}
