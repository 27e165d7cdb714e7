//! `o4send config check FILE` and `o4send config default`.

use super::CliError;
use crate::config::{Config, DEFAULT_TOML};
use std::path::Path;
use std::process::ExitCode;

pub fn check(path: &Path) -> Result<ExitCode, CliError> {
    let cfg = Config::load(path, false)?;
    let adapters: Vec<String> = cfg
        .radio
        .adapters
        .iter()
        .map(|a| format!("{} ({:?}, {} slots)", a.id, a.role, a.slots))
        .collect();
    println!(
        "{}: ok — backend {:?}, adapters {}",
        path.display(),
        cfg.radio.backend,
        adapters.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

pub fn print_default() -> Result<ExitCode, CliError> {
    print!("{DEFAULT_TOML}");
    Ok(ExitCode::SUCCESS)
}
