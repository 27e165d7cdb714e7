//! `campaign.toml`: the campaign's name, sender name, dates, daily hours and items. A signed USB
//! bundle's `bundle.toml` is the same file with every item's SHA-256, size and MIME type filled
//! in and a format version; an installed bundle is its `bundle.toml` saved as `campaign.toml`, so
//! one parser serves both. Item names must be plain file names inside the content directory; a
//! declared SHA-256 or size must match the file.

use super::rules::ItemRules;
use super::{read_item, sha256_hex, Campaign, ContentError, Item};
use crate::model::device::MajorClass;
use crate::policy::names::NameFilter;
use crate::policy::schedule::Schedule;
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;

/// The bundle format this build reads and writes.
pub const FORMAT: u32 = 1;

/// Names an item may not take: the campaign's own description and signature.
const RESERVED: [&str; 4] = [
    "campaign.toml",
    "campaign.toml.minisig",
    "bundle.toml",
    "bundle.toml.minisig",
];

/// The parsed text of a `campaign.toml` or `bundle.toml` (read by `super::toml_tables`, written by
/// serde).
#[derive(Clone, Debug, Default, Serialize)]
pub struct CampaignFile {
    /// Bundle format version (required in a bundle, optional in a hand-written campaign).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<u32>,
    /// The bundle's place in time, signed with it (`o4send bundle create`: the signing time in
    /// seconds since the epoch). An import must carry a larger one than the active campaign's;
    /// none counts as 0 (see `install::import`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hours: Vec<String>,
    /// Bluetooth names offered to (globs, or `/regex/`), for every item.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub name_include: Vec<String>,
    /// Bluetooth names never offered to, for every item.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub name_exclude: Vec<String>,
    #[serde(default)]
    pub items: Vec<ItemFile>,
    /// The name and a note in other languages (`[texts.de]`), for the hotspot's page.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub texts: super::texts::Translations,
}

/// One `[[items]]` table (read by `super::toml_tables`, written by serde).
#[derive(Clone, Debug, Default, Serialize)]
pub struct ItemFile {
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<MajorClass>,
    // The item's rules (see `super::rules`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cap_total: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cap_per_day: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub name_include: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub name_exclude: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hours: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_minutes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ab_test: Option<String>,
}

impl CampaignFile {
    /// Parses the text; one line on error. A format version other than [`FORMAT`] is refused.
    pub fn parse(text: &str) -> Result<CampaignFile, String> {
        let table: toml::Table =
            toml::from_str(text).map_err(|e| crate::config::one_line(&e.to_string()))?;
        let file = CampaignFile::try_from(table)?;
        match file.format {
            Some(v) if v != FORMAT => Err(format!(
                "format = {v}: this appliance reads bundle format {FORMAT} (update its firmware)"
            )),
            _ => super::texts::check(&file.texts).map(|()| file),
        }
    }

    pub fn schedule(&self) -> Result<Schedule, String> {
        Schedule::parse(self.start.as_deref(), self.end.as_deref(), &self.hours)
    }

    /// Every rule of the campaign and its items, checked without reading a file: what a
    /// campaign form or a stick's `bundle.toml` must pass before anything is installed.
    pub fn check_rules(&self) -> Result<(NameFilter, Vec<ItemRules>), String> {
        let names = NameFilter::parse(&self.name_include, &self.name_exclude)?;
        let mut rules = Vec::with_capacity(self.items.len());
        for (i, spec) in self.items.iter().enumerate() {
            rules.push(ItemRules::parse(spec).map_err(|e| format!("items[{i}]: {e}"))?);
        }
        let files: Vec<&str> = self.items.iter().map(|i| i.file.as_str()).collect();
        super::rules::check_together(&files, &rules.iter().collect::<Vec<_>>())?;
        Ok((names, rules))
    }
}

pub(super) fn load(dir: &Path, path: &Path, max_item_bytes: u64) -> Result<Campaign, ContentError> {
    let fail = |why: String| ContentError(format!("{}: {why}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let file = CampaignFile::parse(&text).map_err(fail)?;
    let schedule = file.schedule().map_err(fail)?;
    let (names, rules) = file.check_rules().map_err(fail)?;
    let mut items = Vec::new();
    for ((i, spec), rules) in file.items.iter().enumerate().zip(rules) {
        let mut item =
            load_item(dir, spec, max_item_bytes).map_err(|e| fail(format!("items[{i}]: {e}")))?;
        item.rules = rules;
        items.push(Arc::new(item));
    }
    Ok(Campaign {
        sender_name: file.sender_name.unwrap_or_else(|| file.name.clone()),
        name: file.name,
        schedule,
        names,
        items,
        texts: file.texts,
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
        rules: ItemRules::default(),
    })
}

/// A name phones will see and that stays inside the content directory: no path, no control
/// characters, not hidden, not one of the campaign's own files.
pub fn check_plain_name(name: &str) -> Result<(), String> {
    let bad = name.is_empty()
        || name.starts_with('.')
        || name.contains(['/', '\\'])
        || name.chars().any(char::is_control)
        || name.len() > 200;
    if bad {
        return Err(format!(
            "file {name:?}: must be a plain file name (no path, no control characters, \
             not hidden)"
        ));
    }
    if RESERVED.contains(&name) {
        return Err(format!(
            "file {name:?}: the name is reserved for the campaign itself"
        ));
    }
    Ok(())
}
