//! `bundle.toml` once its signature verified: a [`CampaignFile`] that must carry a format
//! version and, for every item, a plain name, SHA-256, size and MIME type, within the size caps.
//! Nothing here touches the files themselves (see `stick`).

use super::Limits;
use crate::content::{check_plain_name, sha256_hex, CampaignFile};
use std::collections::HashSet;

/// A checked `bundle.toml`.
#[derive(Debug)]
pub struct Manifest {
    /// The signed bytes, installed as the campaign's `campaign.toml`.
    pub bytes: Vec<u8>,
    /// SHA-256 of `bytes`: the campaign's identity.
    pub sha256: String,
    pub file: CampaignFile,
    pub items: Vec<Entry>,
}

/// One file the bundle promises.
#[derive(Clone, Debug)]
pub struct Entry {
    pub name: String,
    pub size: u64,
    /// Lowercase hex.
    pub sha256: String,
}

impl Manifest {
    pub fn total_bytes(&self) -> u64 {
        self.items.iter().map(|e| e.size).sum()
    }
}

/// Checks signed `bytes` against the format and `limits`; the error is one line without a path.
pub fn check(bytes: Vec<u8>, limits: &Limits) -> Result<Manifest, String> {
    let text = std::str::from_utf8(&bytes).map_err(|_| "is not UTF-8 text".to_string())?;
    let file = CampaignFile::parse(text)?;
    if file.format.is_none() {
        return Err(format!(
            "no format version (a bundle starts with format = {})",
            crate::content::FORMAT
        ));
    }
    file.schedule()?;
    if file.items.is_empty() {
        return Err("lists no items (an empty bundle)".into());
    }
    let mut seen = HashSet::new();
    let mut items = Vec::new();
    for (i, spec) in file.items.iter().enumerate() {
        let entry = entry(spec, limits).map_err(|e| format!("items[{i}]: {e}"))?;
        if !seen.insert(entry.name.to_lowercase()) {
            return Err(format!("items[{i}]: file {:?} is listed twice", entry.name));
        }
        items.push(entry);
    }
    let total: u64 = items.iter().map(|e| e.size).sum();
    if total > limits.max_bundle_bytes {
        return Err(format!(
            "the bundle is {total} bytes, over bundle.max_bundle_bytes = {}",
            limits.max_bundle_bytes
        ));
    }
    Ok(Manifest {
        sha256: sha256_hex(&bytes),
        bytes,
        file,
        items,
    })
}

fn entry(spec: &crate::content::ItemFile, limits: &Limits) -> Result<Entry, String> {
    check_plain_name(&spec.file)?;
    let name = &spec.file;
    let Some(sha256) = spec.sha256.as_deref() else {
        return Err(format!("file {name:?} has no sha256"));
    };
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("file {name:?}: sha256 is not 64 hex digits"));
    }
    let Some(size) = spec.size else {
        return Err(format!("file {name:?} has no size"));
    };
    if spec.mime.as_deref().is_none_or(str::is_empty) {
        return Err(format!("file {name:?} has no mime type"));
    }
    if size == 0 {
        return Err(format!(
            "file {name:?} is empty (phones refuse empty objects)"
        ));
    }
    if size > limits.max_item_bytes {
        return Err(format!(
            "file {name:?} is {size} bytes, over engine.max_item_bytes = {}",
            limits.max_item_bytes
        ));
    }
    Ok(Entry {
        name: name.clone(),
        size,
        sha256: sha256.to_ascii_lowercase(),
    })
}
