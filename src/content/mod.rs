//! The active campaign: what is offered, to which device classes, when.
//!
//! It lives in the content directory as `campaign.toml` plus its files (the same fields a signed
//! USB bundle carries), or, without a `campaign.toml`, as every plain file in the directory.
//! Items are hashed (SHA-256: the identity the policy dedupes on) and held in memory so a push
//! never waits on the SD card. Content knows nothing of Bluetooth or SQL.
//!
//! A signed USB bundle ([`bundle`]) is verified and installed beside the content directory
//! ([`install`]), which then becomes a symlink swapped atomically to the new campaign.

pub mod bundle;
mod campaign_file;
mod demo;
#[cfg(target_os = "linux")]
mod disk;
#[cfg(target_os = "linux")]
pub mod install;
mod mime;
pub mod rules;
pub mod texts;
mod toml_tables;

use crate::model::device::MajorClass;
use crate::policy::schedule::Schedule;
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use campaign_file::{check_plain_name, CampaignFile, ItemFile, FORMAT};
pub use demo::demo_campaign;
pub use mime::{android_accepts, mime_for};

/// One file offered to phones.
#[derive(Debug, PartialEq, Eq)]
pub struct Item {
    /// The name phones see (a plain file name).
    pub name: String,
    pub mime: String,
    /// SHA-256 of the body, lowercase hex: the item's identity.
    pub sha256: String,
    /// MD5 of the body, lowercase hex: what the seed's reports called `transfer_filemd5sum`.
    pub md5: String,
    pub body: Vec<u8>,
    /// Device classes this item is for; empty means every class the policy allows.
    pub classes: Vec<MajorClass>,
    /// Caps, name filters, own hours, follow-up, A/B test.
    pub rules: rules::ItemRules,
}

impl Item {
    pub fn new(name: &str, mime: &str, body: Vec<u8>, classes: Vec<MajorClass>) -> Item {
        Item {
            name: name.into(),
            mime: mime.into(),
            sha256: sha256_hex(&body),
            md5: md5_hex(&body),
            body,
            classes,
            rules: rules::ItemRules::default(),
        }
    }

    /// Whether this item targets a device of `class`.
    pub fn targets(&self, class: MajorClass) -> bool {
        self.classes.is_empty() || self.classes.contains(&class)
    }
}

/// A campaign: its items and when it runs.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Campaign {
    pub name: String,
    /// The Bluetooth name phones show as the sender.
    pub sender_name: String,
    pub schedule: Schedule,
    /// Name filters for every item.
    pub names: crate::policy::names::NameFilter,
    pub items: Vec<Arc<Item>>,
    /// The name and a note in other languages, for the hotspot's page.
    pub texts: texts::Translations,
}

impl Campaign {
    /// The items the visitors' Wi-Fi page may offer now: those for everybody. Not an item with
    /// a cap (the Bluetooth answers count against it; a page anyone can reload cannot), a
    /// follow-up (the page does not know who accepted what), or an include list of names (Wi-Fi
    /// has no Bluetooth name); not outside the item's own hours; of an A/B test the first variant
    /// only (the test is measured over Bluetooth).
    pub fn wifi_items(&self, wall_ms: i64, tz: &jiff::tz::TimeZone) -> Vec<Arc<Item>> {
        let first_variant = |i: usize, test: &str| {
            let position = self
                .items
                .iter()
                .position(|it| it.rules.ab_test.as_deref() == Some(test));
            position == Some(i)
        };
        let for_all = |(i, item): &(usize, &Arc<Item>)| {
            let r = &item.rules;
            r.cap_total.is_none()
                && r.cap_per_day.is_none()
                && r.after.is_none()
                && r.names.include.is_empty()
                && r.schedule.is_open(wall_ms, tz)
                && r.ab_test.as_deref().is_none_or(|t| first_variant(*i, t))
        };
        let items = self.items.iter().enumerate().filter(for_all);
        items.map(|(_, item)| item.clone()).collect()
    }
}

/// Content that could not be loaded; one line naming the path and the cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentError(pub String);

impl fmt::Display for ContentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ContentError {}

/// The name of the campaign description inside a content directory.
pub const CAMPAIGN_FILE: &str = "campaign.toml";

/// Loads the campaign in `dir`; no item may exceed `max_item_bytes`.
///
/// A symlinked `dir` (an installed bundle) is resolved once first, so a swap during the load
/// cannot mix the description of one campaign with the files of another.
pub fn load(dir: &Path, max_item_bytes: u64) -> Result<Campaign, ContentError> {
    let given = dir;
    let dir = &std::fs::canonicalize(dir).map_err(|e| io_error(dir, e))?;
    let meta = std::fs::metadata(dir).map_err(|e| io_error(dir, e))?;
    if !meta.is_dir() {
        return Err(ContentError(format!(
            "content dir {} is not a directory",
            dir.display()
        )));
    }
    let described = dir.join(CAMPAIGN_FILE);
    let campaign = if described.exists() {
        campaign_file::load(dir, &described, max_item_bytes)?
    } else {
        load_plain_dir(dir, given, max_item_bytes)?
    };
    if campaign.items.is_empty() {
        return Err(ContentError(format!(
            "content dir {} holds no files to offer",
            dir.display()
        )));
    }
    Ok(campaign)
}

/// The active campaign of `cfg`, with the boot partition's `appliance.sender_name` over the
/// campaign's own when the operator set one: what the daemon pushes, the poster names and the
/// captive page offers.
pub fn active(cfg: &crate::config::Config) -> Result<Campaign, ContentError> {
    let mut campaign = load(&cfg.appliance.content_path(), cfg.engine.max_item_bytes)?;
    if let Some(name) = &cfg.appliance.sender_name {
        campaign.sender_name = name.clone();
    }
    Ok(campaign)
}

/// The name [`load`] would give the campaign in `dir`, without reading (or hashing) its files:
/// `campaign.toml`'s `name`, else the directory's own name.
pub fn name(dir: &Path) -> Result<String, ContentError> {
    let described = dir.join(CAMPAIGN_FILE);
    if !described.exists() {
        return Ok(plain_name(dir));
    }
    let text = std::fs::read_to_string(&described).map_err(|e| io_error(&described, e))?;
    CampaignFile::parse(&text)
        .map(|f| f.name)
        .map_err(|e| ContentError(format!("{}: {e}", described.display())))
}

/// A campaign without `campaign.toml` is named after its directory as configured.
fn plain_name(given: &Path) -> String {
    given
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("content")
        .to_string()
}

/// Every visible regular file, in name order, for every class; named after `given`, the
/// directory as configured.
fn load_plain_dir(dir: &Path, given: &Path, max_item_bytes: u64) -> Result<Campaign, ContentError> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io_error(dir, e))? {
        let entry = entry.map_err(|e| io_error(dir, e))?;
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            return Err(ContentError(format!(
                "content file {} has a name that is not UTF-8",
                path.display()
            )));
        };
        if !name.starts_with('.') && entry.file_type().map_err(|e| io_error(&path, e))?.is_file() {
            names.push(name);
        }
    }
    names.sort();
    let mut items = Vec::new();
    for name in names {
        let body = read_item(&dir.join(&name), max_item_bytes)?;
        items.push(Arc::new(Item::new(
            &name,
            mime_for(&name),
            body,
            Vec::new(),
        )));
    }
    Ok(Campaign {
        sender_name: "o4send".into(),
        name: plain_name(given),
        schedule: Schedule::default(),
        items,
        names: Default::default(),
        texts: Default::default(),
    })
}

/// Reads one item, refusing what is too big before reading it.
fn read_item(path: &Path, max_item_bytes: u64) -> Result<Vec<u8>, ContentError> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| io_error(path, e))?;
    if !meta.is_file() {
        return Err(ContentError(format!(
            "content file {} is not a regular file",
            path.display()
        )));
    }
    if meta.len() > max_item_bytes {
        let why = format!(
            "is {} bytes, over engine.max_item_bytes = {max_item_bytes}",
            meta.len()
        );
        return Err(ContentError(format!(
            "content file {} {why}",
            path.display()
        )));
    }
    if meta.len() == 0 {
        return Err(ContentError(format!(
            "content file {} is empty (phones refuse empty objects)",
            path.display()
        )));
    }
    std::fs::read(path).map_err(|e| io_error(path, e))
}

fn io_error(path: &Path, e: std::io::Error) -> ContentError {
    ContentError(format!(
        "cannot read content {}: {e}",
        PathBuf::from(path).display()
    ))
}

/// The campaign's identity for operators: the SHA-256 of its `campaign.toml` (for an installed
/// bundle, of its signed `bundle.toml`), or of the item names and hashes of a plain directory.
pub fn fingerprint(dir: &Path, campaign: &Campaign) -> Result<String, ContentError> {
    let described = dir.join(CAMPAIGN_FILE);
    if described.exists() {
        let bytes = std::fs::read(&described).map_err(|e| io_error(&described, e))?;
        return Ok(sha256_hex(&bytes));
    }
    let listing: String = campaign
        .items
        .iter()
        .map(|i| format!("{}\t{}\n", i.name, i.sha256))
        .collect();
    Ok(sha256_hex(listing.as_bytes()))
}

/// Lowercase hex MD5 (for the fleet database's reports only, never for identity).
pub fn md5_hex(bytes: &[u8]) -> String {
    use md5::Md5;
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests;
