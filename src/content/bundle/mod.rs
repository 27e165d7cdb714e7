//! Signed content bundles: how the operator's USB stick changes what phones receive, without
//! letting anyone else's stick do the same.
//!
//! On the stick, `o4send/` holds `bundle.toml` (a campaign file with every item's SHA-256, size
//! and MIME type, a format version and a sequence), the files, and `bundle.toml.minisig`, a minisign
//! signature by a key listed in `bundle.trusted_keys`. [`Stick::open`] checks the signature
//! before reading anything else, then the format, names, file types and sizes; the contents are
//! hashed as they are copied. The format is documented in docs/bundles.md; installing a checked
//! stick, and refusing one older than the active campaign, is `content::install`.

pub mod create;
pub mod manifest;
pub mod signing;
mod stick;

pub use manifest::{Entry, Manifest};
pub use signing::TrustedKey;
pub use stick::Stick;

use crate::config::Config;
use std::path::Path;

/// The folder on the stick.
pub const BUNDLE_DIR: &str = "o4send";
/// The campaign description inside it.
pub const MANIFEST: &str = "bundle.toml";
/// Its minisign signature.
pub const SIGNATURE: &str = "bundle.toml.minisig";

/// Size caps a bundle must respect.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// One item (`engine.max_item_bytes`: the daemon holds items in memory).
    pub max_item_bytes: u64,
    /// All items together (`bundle.max_bundle_bytes`).
    pub max_bundle_bytes: u64,
}

impl Limits {
    pub fn of(cfg: &Config) -> Limits {
        Limits {
            max_item_bytes: cfg.engine.max_item_bytes,
            max_bundle_bytes: cfg.bundle.max_bundle_bytes,
        }
    }
}

/// The keys of `bundle.trusted_keys` (already validated with the config).
pub fn trusted_keys(cfg: &Config) -> Result<Vec<TrustedKey>, String> {
    cfg.bundle
        .trusted_keys
        .iter()
        .enumerate()
        .map(|(i, k)| TrustedKey::parse(k).map_err(|e| format!("bundle.trusted_keys[{i}]: {e}")))
        .collect()
}

/// Checks a stick completely, hashing every file, without copying anything.
pub fn verify(root: &Path, keys: &[TrustedKey], limits: &Limits) -> Result<Stick, String> {
    let stick = Stick::open(root, keys, limits)?;
    for entry in &stick.manifest.items {
        stick.copy_item(entry, &mut std::io::sink())?;
    }
    Ok(stick)
}
