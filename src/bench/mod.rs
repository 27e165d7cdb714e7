//! `o4send bench`: figures, not assertions.
//!
//! Scheduling: the same hall of phones that all accept after 2–50 s is served by our engine
//! with one and with two push radios of 7 slots, and by an o4send-style sequential sender
//! (one inquiry, then one push at a time, repeat). Each makespan is compared with a lower bound
//! no scheduler can beat. Memory: a long run of the daemon over 100 000 simulated sightings,
//! in a fresh child process, reporting resident memory as it goes and at its peak. The fleet
//! sync ([`sync`], and a whole fleet of appliances side by side: [`fleet`]) and the day's report on a crowded day ([`report`]) have their own runs.
//! The simulated link ([`link`]): one 1 MiB push over RFCOMM against L2CAP with Single Response
//! Mode, in bytes per second, OBEX packets and round trips. The captive page under a crowd of
//! visitors ([`portal`]), with the hall beside it. The captive page and the dashboard under
//! attack ([`siege`]).

mod bound;
pub mod dashboard;
pub mod fleet;
pub mod fleet_cap;
pub mod link;
mod memory;
pub mod portal;
pub mod report;
mod sequential;
pub mod siege;
pub mod sync;
pub mod update;

use crate::config::{AdapterConfig, Backend, BehaviourMix, Config, Role, SimConfig};
use crate::content::{demo_campaign, Campaign, Item};
use crate::engine::{self, Control, Parts, Progress};
use crate::model::clock::Clock;
use crate::model::device::MajorClass;
use crate::model::outcome::Outcome;
use crate::radio::sim::World;
use crate::store::open_for;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Every simulated phone accepts; decisions take 2–50 s.
pub fn scenario(phones: usize, seed: u64) -> SimConfig {
    SimConfig {
        seed,
        phones,
        arrival_window_secs: 60,
        dwell_min_secs: 36_000,
        dwell_max_secs: 36_000,
        mix: BehaviourMix {
            accept: 1,
            decline: 0,
            ignore: 0,
            prompt_expires: 0,
            no_opp: 0,
            refuse_connection: 0,
            drop_mid_transfer: 0,
            refuse_type: 0,
            slow_link: 0,
            out_of_range: 0,
        },
        inbox: None,
    }
}

/// The demo's flyer, offered to every class of device.
pub fn campaign() -> Campaign {
    let demo = demo_campaign();
    let flyer = &demo.items[0];
    let item = Item::new(&flyer.name, &flyer.mime, flyer.body.clone(), Vec::new());
    Campaign {
        items: vec![Arc::new(item)],
        ..demo
    }
}

/// No benchmark runs longer than this much virtual time.
const VIRTUAL_LIMIT: Duration = Duration::from_secs(48 * 3600);

/// Our engine on `radios` radios of 7 slots; the first one also scans.
fn engine_config(sim: SimConfig, radios: usize) -> Config {
    let mut cfg = Config::default();
    cfg.radio.backend = Backend::Sim;
    cfg.radio.sim = sim;
    cfg.radio.adapters = (0..radios)
        .map(|i| AdapterConfig {
            id: format!("sim{i}"),
            role: if i == 0 { Role::Both } else { Role::Push },
            slots: 7,
        })
        .collect();
    cfg.policy.classes = MajorClass::ALL.to_vec();
    cfg
}

/// Runs the engine in virtual time until `done` says so; returns the counters.
pub fn run_engine(
    cfg: Config,
    done: impl Fn(&Progress) -> bool + Send + Sync + 'static,
    watch_progress: impl FnOnce(watch::Receiver<Progress>, &Arc<World>) + Send + 'static,
) -> Result<(Progress, Arc<World>), String> {
    let dir = tempfile_dir()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let clock = Clock::virtual_from_now();
        let store = open_for(
            &cfg,
            &dir.join("bench.db"),
            &clock,
            crate::supervise::Heartbeat::unwatched(),
        )
        .map_err(|e| e.to_string())?;
        let (adapters, world) = crate::radio::open(&cfg).await.map_err(|e| e.to_string())?;
        let world = world.ok_or_else(|| "benchmarks need the sim backend".to_string())?;
        let (control_tx, control_rx) = mpsc::channel(1);
        let (progress_tx, mut progress_rx) = watch::channel(Progress::default());
        watch_progress(progress_rx.clone(), &world);
        tokio::spawn(async move {
            let _ = tokio::time::timeout(VIRTUAL_LIMIT, progress_rx.wait_for(|p| done(p))).await;
            let _ = control_tx.send(Control::Shutdown).await;
        });
        let parts = Parts {
            cfg,
            adapters,
            campaign: Arc::new(campaign()),
            store: store.clone(),
            clock,
            health: Default::default(),
        };
        let progress = engine::run(parts, control_rx, progress_tx)
            .await
            .map_err(|e| e.to_string())?;
        store.close().await.map_err(|e| e.to_string())?;
        let _ = std::fs::remove_dir_all(&dir);
        Ok((progress, world))
    })
}

/// The o4send whose servers (`portal`, `dashboard`) a benchmark starts: this one, or another
/// build named by `O4SEND_BENCH_SERVER` (to measure an older release the same way).
fn server_exe() -> Result<std::path::PathBuf, String> {
    match std::env::var_os("O4SEND_BENCH_SERVER") {
        Some(path) => Ok(path.into()),
        None => std::env::current_exe().map_err(|e| format!("cannot find myself: {e}")),
    }
}

fn tempfile_dir() -> Result<std::path::PathBuf, String> {
    let dir =
        std::env::temp_dir().join(format!("o4send-bench-{}-{}", std::process::id(), unique()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// Makespan of our engine with `radios` × 7 slots, in seconds.
fn ours(phones: usize, seed: u64, radios: usize) -> Result<f64, String> {
    let cfg = engine_config(scenario(phones, seed), radios);
    let (p, _) = run_engine(
        cfg,
        move |p| p.count(Outcome::Accepted) as usize >= phones,
        |_, _| {},
    )?;
    if p.count(Outcome::Accepted) as usize != phones {
        return Err(format!(
            "bench: only {} of {phones} phones accepted",
            p.count(Outcome::Accepted)
        ));
    }
    Ok(Duration::from_millis(p.last_end_ms).as_secs_f64())
}

/// `o4send bench`: prints its figures.
pub fn run(phones: usize, seed: u64, sightings: u64, rss_child: bool) -> Result<(), String> {
    if rss_child {
        return memory::measure(sightings);
    }
    let item = campaign().items[0].body.len() as u64;
    println!("scenario_phones={phones}");
    println!("scenario_seed={seed}");
    println!("decision_secs=2..50");
    for radios in [1, 2] {
        let makespan = ours(phones, seed, radios)?;
        let lb = bound::lower_bound(&scenario(phones, seed), radios * 7, item);
        println!("makespan_{radios}x7_secs={makespan:.1}");
        println!("bound_{radios}x7_secs={lb:.1}");
        println!("makespan_ratio_to_bound_{radios}x7={:.3}", makespan / lb);
        if radios == 1 {
            let seq = sequential::makespan(&scenario(phones, seed))?;
            println!("makespan_sequential_secs={seq:.1}");
            println!("speedup_vs_sequential={:.2}", seq / makespan);
        }
    }
    link::run()?;
    memory::in_child(sightings)
}
