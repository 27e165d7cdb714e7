//! `o4send demo`: the built-in demo hall, or the given config's, on simulated phones.

use super::CliError;
use crate::config::{Backend, Config};
use crate::demo::{demo_config, render_summary, run, DemoOptions};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn demo(
    config: Option<&Path>,
    phones: usize,
    seed: u64,
    db: Option<PathBuf>,
    campaign: Option<&Path>,
) -> Result<ExitCode, CliError> {
    let mut cfg = demo_config(phones, seed);
    if let Some(path) = config {
        let mut own = Config::load(path, false)?;
        own.radio.backend = Backend::Sim;
        own.radio.sim.phones = phones;
        own.radio.sim.seed = seed;
        cfg = own;
    }
    let db = db.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("o4send-demo-{}.db", std::process::id()))
    });
    let campaign = campaign
        .map(|dir| crate::content::load(dir, cfg.engine.max_item_bytes))
        .transpose()
        .map_err(|e| CliError::Failed(e.to_string()))?
        .map(std::sync::Arc::new);
    let live = std::io::stderr().is_terminal();
    let report = run(DemoOptions {
        cfg,
        db,
        live,
        campaign,
    })
    .map_err(CliError::Failed)?;
    print!("{}", render_summary(&report));
    Ok(ExitCode::SUCCESS)
}
