//! `o4send status`: what the log says, for people or (`--json`) for scripts.

use super::{optional_config, CliError};
use crate::store::Reader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn status(
    config: Option<&Path>,
    db: Option<PathBuf>,
    json: bool,
) -> Result<ExitCode, CliError> {
    let path = match db {
        Some(p) => p,
        None => optional_config(config)?.appliance.db_path(),
    };
    let reader = Reader::open(&path).map_err(|e| CliError::Failed(e.to_string()))?;
    let now = crate::clock::Clock::system().now_ms();
    let report = reader
        .status(now)
        .map_err(|e| CliError::Failed(e.to_string()))?;
    if json {
        let text =
            serde_json::to_string_pretty(&report).map_err(|e| CliError::Failed(e.to_string()))?;
        println!("{text}");
    } else {
        print!("{report}");
    }
    Ok(ExitCode::SUCCESS)
}
