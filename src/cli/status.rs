//! `o4send status`: what the log says, for people or (`--json`) for scripts.

use super::{optional_config, CliError};
use crate::store::Reader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn status(
    config: Option<&Path>,
    db: Option<PathBuf>,
    json: bool,
    root: &Path,
) -> Result<ExitCode, CliError> {
    let system = System::now(root, optional_config(config).ok().as_ref());
    if !json {
        // Before the log: a box whose settings were refused may have no log yet.
        system.print();
    }
    let path = match db {
        Some(p) => p,
        None => optional_config(config)?.appliance.db_path(),
    };
    let reader = Reader::open(&path).map_err(|e| CliError::Failed(e.to_string()))?;
    let now = crate::model::clock::Clock::system().now_ms();
    let report = reader
        .status(now)
        .map_err(|e| CliError::Failed(e.to_string()))?;
    let rules = optional_config(config)
        .ok()
        .map(|cfg| rules_lines(&cfg, &reader, now))
        .unwrap_or_default();
    if json {
        let mut value =
            serde_json::to_value(&report).map_err(|e| CliError::Failed(e.to_string()))?;
        value["config"] = system.config.into();
        value["wifi"] = system.wifi.into();
        value["hotspot_radio"] = system.hotspot.into();
        value["system"] = system.update.into();
        value["dashboard"] = system.dashboard.into();
        value["rules"] = rules.into();
        let text =
            serde_json::to_string_pretty(&value).map_err(|e| CliError::Failed(e.to_string()))?;
        println!("{text}");
    } else {
        print!("{report}");
        for line in &rules {
            println!("{line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The active campaign's rules and where each capped item stands, as far as the log knows.
fn rules_lines(cfg: &crate::config::Config, reader: &Reader, now: i64) -> Vec<String> {
    let Ok(campaign) = crate::content::active(cfg) else {
        return Vec::new();
    };
    let summary = crate::content::rules::RulesSummary::of(&campaign);
    let mut lines: Vec<String> = summary.lines.iter().map(|l| format!("rule: {l}")).collect();
    let tz = jiff::tz::TimeZone::get(&cfg.appliance.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let hashes: Vec<String> = campaign.items.iter().map(|i| i.sha256.clone()).collect();
    let day_start = crate::policy::caps::day_start_ms(now, &tz);
    match reader.accepted(&hashes, day_start) {
        Ok(counts) => lines.extend(
            crate::policy::caps::states(&campaign, counts, now, &tz)
                .iter()
                .map(|c| format!("cap: {}", c.line())),
        ),
        Err(e) => lines.push(format!("cap: cannot count accepted answers: {e}")),
    }
    lines
}

/// What the box says beside the log: the verdict on the boot partition's settings, the Wi-Fi
/// client's state, where the hotspot runs beside it, the system's slot, release and last update, and the dashboard's certificate.
struct System {
    config: Option<String>,
    wifi: Option<String>,
    hotspot: Option<String>,
    update: Option<String>,
    dashboard: Option<String>,
    first_visit: Option<String>,
    addresses: Option<String>,
}

impl System {
    fn print(&self) {
        if let Some(c) = &self.config {
            println!("config: {c}");
        }
        if let Some(w) = &self.wifi {
            println!("{w}");
        }
        if let Some(h) = &self.hotspot {
            println!("{h}");
        }
        if let Some(u) = &self.update {
            println!("system: {u}");
        }
        if let Some(d) = &self.dashboard {
            println!("{d}");
        }
        if let Some(f) = &self.first_visit {
            println!("{f}");
        }
        if let Some(a) = &self.addresses {
            println!("{a}");
        }
    }

    fn now(root: &Path, cfg: Option<&crate::config::Config>) -> System {
        System {
            config: crate::setup::config_status(root),
            wifi: crate::setup::wifi_state::line(
                &root.join(crate::setup::wifi_state::CONTROL.trim_start_matches('/')),
            ),
            hotspot: crate::hotspot::share::line(root),
            update: crate::update::status::line(root),
            dashboard: cfg.and_then(crate::web::tls::line),
            first_visit: cfg.and_then(crate::web::tls::first_visit_line),
            addresses: cfg
                .filter(|_| root == Path::new("/"))
                .map(|c| crate::setup::addresses::now(c.hotspot.address)),
        }
    }
}
