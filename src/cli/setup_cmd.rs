//! `o4send setup`: the boot partition's settings into force, as root at boot and on reload.

use super::CliError;
use crate::setup::{self, SetupPaths};
use std::process::ExitCode;

pub fn setup(paths: &SetupPaths) -> Result<ExitCode, CliError> {
    let verdict = setup::run(paths).map_err(|e| CliError::Failed(format!("setup: {e}")))?;
    if verdict.ok {
        println!("config {}", verdict.line);
    } else {
        // The one line the journal, the banner and `o4send status` all show.
        eprintln!("o4send: config: {}", verdict.line);
    }
    Ok(ExitCode::SUCCESS)
}
