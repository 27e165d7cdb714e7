//! `o4send report --html FILE`: the day's report as one self-contained HTML file.

use super::{optional_config, CliError};
use crate::report::{self, LocalDay};
use crate::store::Reader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn report(
    config: Option<&Path>,
    db: Option<PathBuf>,
    date: Option<&str>,
    html: &Path,
) -> Result<ExitCode, CliError> {
    let cfg = optional_config(config)?;
    let db = db.unwrap_or_else(|| cfg.appliance.db_path());
    let day = LocalDay::new(date, &cfg.appliance.time_zone).map_err(CliError::Failed)?;
    let reader = Reader::open(&db)?;
    let r = report::day(&reader, &cfg.appliance.name, &day, cfg.policy.min_rssi)?;
    std::fs::write(html, report::page(&r))
        .map_err(|e| CliError::Failed(format!("{}: {e}", html.display())))?;
    println!(
        "{}: {} — seen {}, offered {}, accepted {}",
        html.display(),
        r.date,
        r.figures.seen,
        r.figures.offered,
        r.figures.accepted
    );
    Ok(ExitCode::SUCCESS)
}
