//! The `[bundle]` section: which signing keys this appliance trusts for content bundles from a
//! USB stick, and how large a bundle may be. With no key, every stick is refused.

use serde::{Deserialize, Serialize};

/// Content bundles imported from USB sticks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BundleConfig {
    /// minisign public keys (the base64 line of each `.pub` file) whose signatures are accepted.
    pub trusted_keys: Vec<String>,
    /// The largest bundle accepted: all its items together (bytes).
    pub max_bundle_bytes: u64,
}

impl Default for BundleConfig {
    fn default() -> Self {
        BundleConfig {
            trusted_keys: Vec::new(),
            max_bundle_bytes: 64 << 20,
        }
    }
}

/// The minisign public key in the base64 line of a `.pub` file, or in a whole `.pub` file's text.
pub fn public_key(text: &str) -> Result<minisign::PublicKey, String> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("untrusted comment:"))
        .unwrap_or("");
    minisign::PublicKey::from_base64(line).map_err(|e| format!("not a minisign public key ({e})"))
}
