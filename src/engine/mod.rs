//! The wiring: scan tasks feed sightings to one core task, which asks the policy who gets what,
//! hands jobs to push slots on the pushing radios, and records every outcome through the store.
//!
//! One core task owns all decisions, so "one attempt per device at a time" and "K slots per
//! radio" are plain counters, not locks. Channels are bounded: a slow store slows the scanner,
//! it never grows memory. Shutdown lets in-flight pushes finish for a grace period, then aborts
//! them (OBEX ABORT) and still records each one. Reload swaps rules and content between pushes;
//! a push in flight keeps the item it started with.

mod core;
mod push;
mod scan;

use crate::config::Config;
use crate::content::Campaign;
use crate::model::clock::Clock;
use crate::model::outcome::Outcome;
use crate::radio::Adapter;
use crate::store::Store;
use crate::supervise::Health;
use std::sync::Arc;
use tokio::sync::{mpsc, watch};

/// Everything the engine runs with.
pub struct Parts {
    pub cfg: Config,
    pub adapters: Vec<Adapter>,
    pub campaign: Arc<Campaign>,
    pub store: Store,
    pub clock: Clock,
    /// Where scan loops and push workers show they make progress (for systemd's watchdog).
    pub health: Health,
}

/// Orders from outside: signals, the demo's end, a USB import.
pub enum Control {
    Reload {
        cfg: Box<Config>,
        campaign: Arc<Campaign>,
    },
    Shutdown,
}

/// Live counters, published after every change and returned at the end.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub sightings: u64,
    pub attempts: u64,
    /// Attempts per outcome, in the order of [`Outcome::ALL`].
    pub by_outcome: [u64; 7],
    pub in_flight: usize,
    pub peak_in_flight: usize,
    /// Devices held in memory now.
    pub tracked: usize,
    /// Devices forgotten (here and in the radio stack).
    pub forgotten: u64,
    /// Milliseconds since the start when the last attempt ended.
    pub last_end_ms: u64,
    /// Pushes in flight per radio, in the order of the adapters.
    pub busy: Vec<usize>,
    /// Wall-clock times (Unix ms) of the last sighting and of the last attempt's end.
    pub last_sighting_at: Option<i64>,
    pub last_end_at: Option<i64>,
    /// The campaign and phone lists in force.
    pub campaign: Arc<Campaign>,
    pub allow: Arc<[crate::model::device::BdAddr]>,
    pub deny: Arc<[crate::model::device::BdAddr]>,
    /// Every capped item and where it stands.
    pub caps: Vec<crate::policy::caps::CapState>,
    /// How many phones each rule kept from each item.
    pub holds: crate::policy::HoldReport,
}

impl Progress {
    pub fn count(&self, outcome: Outcome) -> u64 {
        self.by_outcome[outcome_index(outcome)]
    }
}

pub(crate) fn outcome_index(outcome: Outcome) -> usize {
    Outcome::ALL.iter().position(|o| *o == outcome).unwrap_or(0)
}

/// Runs until [`Control::Shutdown`] (or every control sender is gone); returns the final counters.
pub async fn run(
    parts: Parts,
    control: mpsc::Receiver<Control>,
    progress: watch::Sender<Progress>,
) -> Result<Progress, EngineError> {
    core::Core::start(parts, progress)?.run(control).await
}

/// The engine could not start.
#[derive(Debug)]
pub struct EngineError(pub String);

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EngineError {}

/// The single-threaded runtime the daemon, the demo and the benchmarks run on.
pub fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))
}
