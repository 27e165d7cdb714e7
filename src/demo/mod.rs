//! `o4send demo`: the whole appliance — engine, policy, OBEX client, SQLite log — against a
//! hall of simulated phones, on tokio's paused clock so an expo afternoon takes seconds.
//!
//! The built-in config pushes from a dedicated push radio with 7 slots while a second radio
//! scans, filters weak signals, offers phones a flyer and computers a vCard, and puts one
//! phone on the allow list and two on the deny list so every rule shows. The demo ends when
//! the last visitor has left and nothing is in flight.

mod live;
mod rules;
mod summary;

pub use summary::render as render_summary;

use crate::config::{AdapterConfig, Backend, Config, SimConfig};
use crate::content::{demo_campaign, Campaign};
use crate::engine::{self, Control, Parts, Progress};
use crate::model::clock::Clock;
use crate::model::device::MajorClass;
use crate::radio::sim::{generate, Behaviour, Phone, World};
use crate::store::open_for;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// The weakest signal the demo offers content to.
pub const DEMO_MIN_RSSI: i16 = -85;

/// What to run.
pub struct DemoOptions {
    pub cfg: Config,
    pub db: PathBuf,
    /// Show a live progress line on stderr.
    pub live: bool,
    /// The campaign to try (`--campaign DIR`); the built-in demo campaign without one.
    pub campaign: Option<Arc<Campaign>>,
}

/// What happened.
pub struct DemoReport {
    pub cfg: Config,
    pub world: Arc<World>,
    pub progress: Progress,
    pub expo_time: Duration,
    pub real_time: Duration,
    pub db: PathBuf,
    pub campaign: Arc<Campaign>,
}

/// The built-in demo config for `phones` phones drawn from `seed`.
pub fn demo_config(phones: usize, seed: u64) -> Config {
    let mut cfg = Config::default();
    cfg.appliance.name = "o4send-demo".into();
    cfg.radio.backend = Backend::Sim;
    cfg.radio.adapters = AdapterConfig::sim_scan_and_push();
    cfg.radio.sim = SimConfig {
        seed,
        phones,
        arrival_window_secs: (phones as u64 * 3).max(600),
        dwell_min_secs: 1200,
        dwell_max_secs: 2400,
        ..SimConfig::default()
    };
    cfg.policy.classes = vec![MajorClass::Phone, MajorClass::Computer];
    cfg.policy.min_rssi = Some(DEMO_MIN_RSSI);
    cfg.policy.allow_resend_secs = 120;
    let population = generate(&cfg.radio.sim);
    let mut candidates = population.iter().filter(|p| is_demo_candidate(p));
    cfg.policy.allow = candidates.next().map(|p| p.addr).into_iter().collect();
    cfg.policy.deny = candidates.take(2).map(|p| p.addr).collect();
    cfg
}

/// A loud phone that would accept: a good stand-in for the operator's test phone and for staff.
fn is_demo_candidate(p: &Phone) -> bool {
    p.class.major() == MajorClass::Phone
        && p.rssi >= DEMO_MIN_RSSI
        && matches!(p.behaviour, Behaviour::Accept { .. })
}

/// Runs the demo to its end.
pub fn run(opts: DemoOptions) -> Result<DemoReport, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let real = Instant::now();
    let campaign = opts
        .campaign
        .clone()
        .unwrap_or_else(|| Arc::new(demo_campaign()));
    rt.block_on(async move {
        // The simulated afternoon ends at the real present, so `o4send status` right after the
        // demo shows it as the last hour.
        let hall = crate::radio::sim::generate(&opts.cfg.radio.sim);
        let closing = hall.iter().map(|p| p.leaves()).max().unwrap_or_default();
        let clock = Clock::virtual_ending_now(closing);
        let store = open_for(
            &opts.cfg,
            &opts.db,
            &clock,
            crate::supervise::Heartbeat::unwatched(),
        )
        .map_err(|e| e.to_string())?;
        let (adapters, world) = crate::radio::open(&opts.cfg)
            .await
            .map_err(|e| e.to_string())?;
        let world = world.ok_or_else(|| "the demo needs radio.backend = \"sim\"".to_string())?;
        let (control_tx, control_rx) = mpsc::channel(1);
        let (progress_tx, progress_rx) = watch::channel(Progress::default());
        tokio::spawn(end_when_hall_empty(
            world.clone(),
            progress_rx.clone(),
            control_tx,
        ));
        if opts.live {
            tokio::spawn(live::show(world.clone(), progress_rx));
        }
        let parts = Parts {
            cfg: opts.cfg.clone(),
            adapters,
            campaign: campaign.clone(),
            store: store.clone(),
            clock,
            health: Default::default(),
        };
        let progress = engine::run(parts, control_rx, progress_tx).await;
        store
            .close()
            .await
            .map_err(|e| format!("closing the log: {e}"))?;
        let progress = progress.map_err(|e| e.to_string())?;
        if opts.live {
            eprintln!();
        }
        Ok(DemoReport {
            cfg: opts.cfg,
            expo_time: world.elapsed(),
            world,
            progress,
            real_time: real.elapsed(),
            db: opts.db,
            campaign,
        })
    })
}

/// Ends the run once the last visitor has left and no push is in flight.
async fn end_when_hall_empty(
    world: Arc<World>,
    mut progress: watch::Receiver<Progress>,
    control: mpsc::Sender<Control>,
) {
    tokio::time::sleep_until(world.start() + world.closing_time()).await;
    let _ = progress.wait_for(|p| p.in_flight == 0).await;
    let _ = control.send(Control::Shutdown).await;
}
