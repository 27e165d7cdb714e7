//! The daemon (`o4send run`, o4send.service), and everything it runs beside the engine: its
//! wiring lives here, in one room, so what the process touches is seen in one place. Loads and
//! checks the config (exit 78 when it is wrong), opens the log (asking systemd for more start-up
//! time while a migration runs), loads the campaign (a broken campaign is logged and nothing is
//! pushed until a reload fixes it: the box keeps scanning and logging rather than crash-looping),
//! attaches the radios, starts the watchdog pings (tied to the health of the scan loops, push
//! workers and store writer), announces READY and runs the engine until SIGTERM/SIGINT. SIGHUP
//! reloads config and content; a reload that fails is refused and the running config stays.
//! Beside the engine: the dashboard's orders ([`orders`]), the portal's visit spool ([`visits`]),
//! the live state for the dashboard and the LED ([`live_feed`]), the status line for systemd
//! and the console ([`status_line`]), the pid file imports signal ([`pidfile`]) and the sync.

mod live_feed;
mod orders;
pub mod pidfile;
mod status_line;
mod visits;

use crate::config::{Config, ConfigError};
use crate::content::Campaign;
use crate::engine::{self, Control, Parts, Progress};
use crate::model::clock::Clock;
use crate::radio;
use crate::supervise::{self, Health};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{mpsc, watch};

/// Why the daemon stopped other than by a signal: settings that do not load (the unit must not
/// restart: exit 78), or a failure.
#[derive(Debug)]
pub enum Stop {
    Config(String),
    Failed(String),
}

impl From<ConfigError> for Stop {
    fn from(e: ConfigError) -> Self {
        Stop::Config(e.0)
    }
}

impl From<crate::store::StoreError> for Stop {
    fn from(e: crate::store::StoreError) -> Self {
        Stop::Failed(e.to_string())
    }
}

/// Runs the daemon on the settings at `path` until SIGTERM or SIGINT.
pub fn run(path: &Path) -> Result<(), Stop> {
    let mut cfg = Config::load(path, false)?;
    crate::orders::lists::merge_into(&mut cfg);
    let clock = Clock::system();
    let health = Health::default();
    let writer_alive = health.register("store writer", cfg.watchdog.writer_stall());
    let db = cfg.appliance.db_path();
    let store = supervise::while_starting("opening the log", || {
        crate::store::open_for(&cfg, &db, &clock, writer_alive)
    })?;
    let campaign = Arc::new(campaign_or_nothing(&cfg));
    let runtime = engine::runtime().map_err(Stop::Failed)?;
    runtime.block_on(async move {
        let (adapters, _world) = radio::open(&cfg)
            .await
            .map_err(|e| Stop::Failed(e.to_string()))?;
        #[cfg(feature = "fault-injection")]
        let adapters = {
            crate::fault::watch_trigger();
            crate::fault::wrap(adapters)
        };
        let (control_tx, control_rx) = mpsc::channel(4);
        let (progress_tx, progress_rx) = watch::channel(Progress::default());
        // Installed before anything is announced: an early SIGHUP must reload, not kill.
        let handlers = install_signals()
            .map_err(|e| Stop::Failed(format!("cannot install signal handlers: {e}")))?;
        tokio::spawn(signals(handlers, path.to_path_buf(), control_tx.clone()));
        tokio::spawn(orders::serve(
            cfg.clone(),
            path.to_path_buf(),
            store.clone(),
            control_tx,
        ));
        tokio::spawn(visits::serve(
            crate::store::visit_spool::dir(&cfg.appliance.data_dir),
            store.clone(),
        ));
        tokio::spawn(live_feed::publish(live_feed::Sources::of(
            &cfg,
            &adapters,
            store.reader().ok(),
            progress_rx.clone(),
            health.clone(),
        )));
        let _pid_file = write_pid_file(&cfg);
        tokio::spawn(status_line::refresh(status_line::Sources {
            reader: store
                .reader()
                .map_err(|e| tracing::warn!("status line without the log: {e}"))
                .ok(),
            clock: clock.clone(),
            progress: progress_rx,
            health: health.clone(),
            sync_on: cfg.sync.enabled() && cfg.sync.refused.is_none(),
            banner: crate::setup::banner::Banner::open(Path::new("/"), &cfg),
        }));
        start_sync(&cfg, &store);
        let parts = Parts {
            cfg,
            adapters,
            campaign,
            store: store.clone(),
            clock,
            health: health.clone(),
        };
        supervise::spawn_watchdog(health);
        tracing::info!("ready: config {}", path.display());
        supervise::ready("started");
        let result = engine::run(parts, control_rx, progress_tx).await;
        supervise::stopping();
        let closed = store.close().await;
        let progress = result.map_err(|e| Stop::Failed(e.to_string()))?;
        closed.map_err(|e| Stop::Failed(format!("closing the log: {e}")))?;
        tracing::info!("stopped after {} attempt(s)", progress.attempts);
        Ok(())
    })
}

/// Starts the fleet sync when configured; a refused config is logged and the box goes on alone.
fn start_sync(cfg: &Config, store: &crate::store::Store) {
    if !cfg.sync.enabled() {
        return;
    }
    if let Some(why) = &cfg.sync.refused {
        tracing::error!("{why}; pushing goes on with local decisions");
        return;
    }
    if let Some(w) = cfg.sync.cleartext_warning() {
        tracing::warn!("{w}");
    }
    crate::sync::spawn(
        crate::sync::Settings {
            cfg: cfg.sync.clone(),
            appliance: cfg.appliance.name.clone(),
        },
        store.clone(),
    );
}

/// The pid file `o4send import` signals; a failure to write it is logged, not fatal.
fn write_pid_file(cfg: &Config) -> Option<pidfile::PidFile> {
    let path = pidfile::path(&cfg.appliance.data_dir);
    pidfile::write(&path)
        .map_err(|e| {
            tracing::warn!(
                "cannot write {}: {e}; imports cannot reload",
                path.display()
            )
        })
        .ok()
}

/// The campaign, or an empty one (and a logged reason) when the content cannot be used.
fn campaign_or_nothing(cfg: &Config) -> Campaign {
    match crate::content::active(cfg) {
        Ok(c) => {
            tracing::info!("campaign {:?}: {} item(s)", c.name, c.items.len());
            c
        }
        Err(e) => {
            tracing::error!("{e}; pushing nothing until the content is fixed (SIGHUP reloads)");
            Campaign::default()
        }
    }
}

/// SIGTERM, SIGINT and SIGHUP, caught from now on.
struct Handlers {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

fn install_signals() -> std::io::Result<Handlers> {
    Ok(Handlers {
        term: signal(SignalKind::terminate())?,
        int: signal(SignalKind::interrupt())?,
        hup: signal(SignalKind::hangup())?,
    })
}

async fn signals(handlers: Handlers, path: PathBuf, control: mpsc::Sender<Control>) {
    let Handlers {
        mut term,
        mut int,
        mut hup,
    } = handlers;
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = hup.recv() => {
                if let Some(order) = reload(&path) {
                    let _ = control.send(order).await;
                }
            }
        }
    }
    tracing::info!("shutting down");
    let _ = control.send(Control::Shutdown).await;
}

/// Reads config and content again; `None` (and a logged reason) when either is broken.
fn reload(path: &Path) -> Option<Control> {
    let mut cfg = match Config::load(path, false) {
        Ok(cfg) => cfg,
        Err(e) => {
            tracing::error!("reload refused, keeping the running config: {e}");
            return None;
        }
    };
    crate::orders::lists::merge_into(&mut cfg);
    match crate::content::active(&cfg) {
        Ok(campaign) => {
            tracing::info!("reloading: campaign {:?}", campaign.name);
            Some(Control::Reload {
                cfg: Box::new(cfg),
                campaign: Arc::new(campaign),
            })
        }
        Err(e) => {
            tracing::error!("reload refused, keeping the running content: {e}");
            None
        }
    }
}
