//! `campaign.toml`: the campaign's name, sender name, dates, daily hours and items, the same
//! fields a USB bundle's `bundle.toml` carries. Item names must be plain file names inside the
//! content directory; a declared SHA-256 or size must match the file.

use super::{read_item, sha256_hex, Campaign, ContentError, Item};
use crate::device::MajorClass;
use crate::policy::schedule::Schedule;
use serde::Deserialize;
use std::path::Path;
use std::sync::Arc;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CampaignFile {
    name: String,
    sender_name: Option<String>,
    start: Option<String>,
    end: Option<String>,
    #[serde(default)]
    hours: Vec<String>,
    items: Vec<ItemFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemFile {
    file: String,
    mime: Option<String>,
    #[serde(default)]
    classes: Vec<MajorClass>,
    sha256: Option<String>,
    size: Option<u64>,
}

pub(super) fn load(dir: &Path, path: &Path, max_item_bytes: u64) -> Result<Campaign, ContentError> {
    let fail = |why: String| ContentError(format!("{}: {why}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let file: CampaignFile =
        toml::from_str(&text).map_err(|e| fail(crate::config::one_line(&e.to_string())))?;
    let schedule =
        Schedule::parse(file.start.as_deref(), file.end.as_deref(), &file.hours).map_err(fail)?;
    let mut items = Vec::new();
    for (i, spec) in file.items.iter().enumerate() {
        items.push(Arc::new(
            load_item(dir, spec, max_item_bytes).map_err(|e| fail(format!("items[{i}]: {e}")))?,
        ));
    }
    Ok(Campaign {
        sender_name: file.sender_name.unwrap_or_else(|| file.name.clone()),
        name: file.name,
        schedule,
        items,
    })
}

fn load_item(dir: &Path, spec: &ItemFile, max_item_bytes: u64) -> Result<Item, String> {
    check_plain_name(&spec.file)?;
    let body = read_item(&dir.join(&spec.file), max_item_bytes).map_err(|e| e.0)?;
    let hash = sha256_hex(&body);
    if let Some(want) = &spec.sha256 {
        if !want.eq_ignore_ascii_case(&hash) {
            return Err(format!(
                "file {:?} has SHA-256 {hash}, campaign says {want}",
                spec.file
            ));
        }
    }
    if let Some(size) = spec.size {
        if size != body.len() as u64 {
            return Err(format!(
                "file {:?} is {} bytes, campaign says {size}",
                spec.file,
                body.len()
            ));
        }
    }
    let mime = spec
        .mime
        .clone()
        .unwrap_or_else(|| super::mime_for(&spec.file).to_string());
    Ok(Item {
        name: spec.file.clone(),
        mime,
        sha256: hash,
        md5: super::md5_hex(&body),
        body,
        classes: spec.classes.clone(),
    })
}

/// A name phones will see and that stays inside the content directory.
fn check_plain_name(name: &str) -> Result<(), String> {
    let bad = name.is_empty()
        || name == "."
        || name == ".."
        || name.contains(['/', '\\'])
        || name.chars().any(char::is_control)
        || name.len() > 200;
    if bad {
        return Err(format!(
            "file {name:?}: must be a plain file name (no path, no control characters)"
        ));
    }
    Ok(())
}
