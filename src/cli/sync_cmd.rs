//! `o4send sync`: copy the log to the fleet database now (`--once`: one round, with a progress
//! line on a terminal), or keep syncing like the daemon's task until interrupted.

use super::{optional_config, runtime, CliError};
use crate::config::Config;
use crate::model::clock::Clock;
use crate::sync::{self, Progress, Settings, SyncErrorKind};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

pub fn sync(config: Option<&Path>, db: Option<PathBuf>, once: bool) -> Result<ExitCode, CliError> {
    let cfg = optional_config(config)?;
    let settings = settings(&cfg)?;
    let path = db.unwrap_or_else(|| cfg.appliance.db_path());
    let clock = Clock::system();
    let store = crate::store::open_for(
        &cfg,
        &path,
        &clock,
        crate::supervise::Heartbeat::unwatched(),
    )?;
    runtime()?.block_on(async move {
        let result = if once {
            round(&settings, &store).await
        } else {
            forever(settings, &store).await
        };
        let closed = store.close().await;
        result?;
        closed.map_err(|e| CliError::Failed(format!("closing the log: {e}")))?;
        Ok(ExitCode::SUCCESS)
    })
}

/// The sync settings, or why this config cannot sync (exit 78).
fn settings(cfg: &Config) -> Result<Settings, CliError> {
    if let Some(why) = &cfg.sync.refused {
        return Err(CliError::Config(why.clone()));
    }
    if !cfg.sync.enabled() {
        return Err(CliError::Config(
            "sync.mysql_url is not set: there is no fleet database to sync with".into(),
        ));
    }
    Ok(Settings {
        cfg: cfg.sync.clone(),
        appliance: cfg.appliance.name.clone(),
    })
}

async fn round(settings: &Settings, store: &crate::store::Store) -> Result<(), CliError> {
    let started = Instant::now();
    let live = std::io::stderr().is_terminal();
    let mut show = |p: Progress| {
        if live {
            let pct = (p.done * 100).checked_div(p.total).unwrap_or(100);
            eprint!("\rsync: {}/{} rows uploaded ({pct}%)   ", p.done, p.total);
            let _ = std::io::stderr().flush();
        }
    };
    let result = sync::once(settings, store, &mut show).await;
    if live {
        eprintln!();
    }
    let stats = result.map_err(|e| match e.kind() {
        SyncErrorKind::Fatal | SyncErrorKind::Transient => CliError::Failed(e.to_string()),
    })?;
    println!(
        "sync: {} rows uploaded, {} fleet answers downloaded in {:.2} s",
        stats.uploaded,
        stats.downloaded,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn forever(settings: Settings, store: &crate::store::Store) -> Result<(), CliError> {
    let task = sync::spawn(settings, store.clone());
    let _ = tokio::signal::ctrl_c().await;
    task.abort();
    Ok(())
}
