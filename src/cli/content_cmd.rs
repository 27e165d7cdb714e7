//! `o4send content show` (the active campaign, its SHA-256 and sequence, and the previous one) and
//! `o4send content rollback` (back to the previous campaign, then a daemon reload).

use super::import_cmd::tell_daemon;
use super::{optional_config, CliError};
use crate::content::install::{self, Layout, Recorded};
use crate::content::{self, Campaign};
use std::path::Path;
use std::process::ExitCode;

pub fn show(config: Option<&Path>) -> Result<ExitCode, CliError> {
    let cfg = optional_config(config)?;
    let layout = Layout::new(&cfg.appliance.content_path());
    let max = cfg.engine.max_item_bytes;
    let active = content::load(&layout.content, max)
        .map_err(|e| CliError::Failed(format!("no usable active campaign: {e}")))?;
    print_campaign("active", &layout.content, &active)?;
    if layout.previous.symlink_metadata().is_ok() {
        match content::load(&layout.previous, max) {
            Ok(previous) => print_campaign("previous", &layout.previous, &previous)?,
            Err(e) => println!("previous: unusable ({e})"),
        }
    } else {
        println!("previous: none");
    }
    Ok(ExitCode::SUCCESS)
}

fn print_campaign(label: &str, dir: &Path, c: &Campaign) -> Result<(), CliError> {
    let sha = content::fingerprint(dir, c).map_err(|e| CliError::Failed(e.0))?;
    let folder = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    println!("{label}: campaign {:?} sha256 {sha}", c.name);
    println!("  folder: {}", folder.display());
    let sequence = match Recorded::of(dir).and_then(|r| r.sequence()) {
        Some(n) => n.to_string(),
        None => "none (any signed bundle may replace it)".into(),
    };
    println!("  sequence: {sequence}");
    println!("  sender name: {}", c.sender_name);
    for item in &c.items {
        let classes: Vec<String> = item.classes.iter().map(|k| format!("{k:?}")).collect();
        let whom = if classes.is_empty() {
            "every allowed class".to_string()
        } else {
            classes.join(", ")
        };
        println!(
            "  item: {} ({}, {} bytes, sha256 {}, for {whom})",
            item.name,
            item.mime,
            item.body.len(),
            item.sha256
        );
    }
    Ok(())
}

pub fn rollback(config: Option<&Path>) -> Result<ExitCode, CliError> {
    let cfg = optional_config(config)?;
    let layout = Layout::new(&cfg.appliance.content_path());
    let back = install::rollback(&layout, cfg.engine.max_item_bytes)
        .map_err(|e| CliError::Failed(format!("rollback refused: {e}")))?;
    println!(
        "rolled back to campaign {:?} (sha256 {}, {}); {}",
        back.name,
        back.sha256,
        super::bundle_cmd::sequence_words(back.sequence),
        tell_daemon(&cfg)
    );
    Ok(ExitCode::SUCCESS)
}
