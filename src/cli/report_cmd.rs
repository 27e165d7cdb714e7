//! `o4send report --html FILE`: the day's report as one self-contained HTML file, of this
//! appliance's log, or with `--mysql URL --fleet NAME` of a whole fleet from its database.

use super::{optional_config, runtime, CliError};
use crate::content::rules::RulesSummary;
use crate::report::{self, fleet, LocalDay};
use crate::store::Reader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn report(
    config: Option<&Path>,
    db: Option<PathBuf>,
    date: Option<&str>,
    html: &Path,
    campaign: Option<&Path>,
) -> Result<ExitCode, CliError> {
    let cfg = optional_config(config)?;
    let rules = rules(&cfg, campaign)?;
    let db = db.unwrap_or_else(|| cfg.appliance.db_path());
    let day = LocalDay::new(date, &cfg.appliance.time_zone).map_err(CliError::Failed)?;
    let reader = Reader::open(&db)?;
    let r =
        report::day(&reader, &cfg.appliance.name, &day, cfg.policy.min_rssi)?.with_rules(&rules);
    write(html, &report::page(&r))?;
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

/// The fleet's day from its MySQL/MariaDB database.
pub fn fleet(
    config: Option<&Path>,
    url: &str,
    fleet: &str,
    date: Option<&str>,
    html: &Path,
    campaign: Option<&Path>,
) -> Result<ExitCode, CliError> {
    let cfg = optional_config(config)?;
    let rules = rules(&cfg, campaign)?;
    let day = LocalDay::new(date, &cfg.appliance.time_zone).map_err(CliError::Failed)?;
    let source = fleet::Source {
        url,
        password: cfg.sync.password.as_ref().map(|p| p.expose()),
        fleet,
    };
    let mut r = runtime()?
        .block_on(fleet::day(&source, &day, cfg.policy.min_rssi))
        .map_err(CliError::Failed)?;
    r.together = r.together.with_rules(&rules);
    // Each appliance's A/B figures; the rules in words once, with the fleet together.
    let each = |a: report::DayReport| report::DayReport {
        rules: Vec::new(),
        ..a.with_rules(&rules)
    };
    r.appliances = r.appliances.into_iter().map(each).collect();
    write(html, &report::fleet_page(&r))?;
    let f = &r.together.figures;
    println!(
        "{}: {} — fleet {}, {} appliances — seen {}, offered {}, accepted {} (each phone once)",
        html.display(),
        r.together.date,
        r.fleet,
        r.appliances.len(),
        f.seen,
        f.offered,
        f.accepted
    );
    Ok(ExitCode::SUCCESS)
}

/// The rules and A/B tests to show: of the folder given, else of the box's active campaign (none
/// on a laptop without one).
fn rules(cfg: &crate::config::Config, campaign: Option<&Path>) -> Result<RulesSummary, CliError> {
    let Some(dir) = campaign else {
        let active = crate::content::active(cfg);
        return Ok(active.map(|c| RulesSummary::of(&c)).unwrap_or_default());
    };
    let c = crate::content::load(dir, cfg.engine.max_item_bytes)
        .map_err(|e| CliError::Failed(e.to_string()))?;
    Ok(RulesSummary::of(&c))
}

fn write(html: &Path, page: &str) -> Result<(), CliError> {
    std::fs::write(html, page).map_err(|e| CliError::Failed(format!("{}: {e}", html.display())))
}
