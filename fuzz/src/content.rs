//! The campaign checks: `campaign.toml` as an operator writes it, and a signed bundle's
//! `bundle.toml` with its minisign signature and the trusted key, as a USB stick brings them.

use o4send::content::bundle::manifest::check;
use o4send::content::bundle::signing::{verify, TrustedKey};
use o4send::content::bundle::Limits;
use o4send::content::CampaignFile;

/// The public key whose secret half signed the seed bundle (`corpus/bundle_manifest`): with
/// it trusted, the fuzzer starts from a signature that verifies.
pub const SEED_KEY: &str = "RWRLl3X5uKiTjdVGmunfBkiXNtDWyGBfQ7KuMtC322t7Rpn8i4e5GL2E";

/// A bundle is `bundle.toml`, a NUL, then `bundle.toml.minisig`. The signature is checked as
/// the stick's is; a manifest that passes its own check keeps its promises (unique names, within
/// the limits, its hash the hash of its bytes). The signature text is also read as a key.
pub fn bundle_manifest(data: &[u8]) {
    let (manifest, sig) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let sig = String::from_utf8_lossy(sig);
    if let Err(why) = TrustedKey::parse(&sig) {
        super::explained(&why);
    }
    let key = TrustedKey::parse(SEED_KEY).expect("the seed key parses");
    if let Err(why) = verify(manifest, &sig, &[key]) {
        super::explained(&why);
    }
    let limits = Limits {
        max_item_bytes: 1 << 20,
        max_bundle_bytes: 4 << 20,
    };
    match check(manifest.to_vec(), &limits) {
        Ok(m) => {
            assert!(!m.items.is_empty());
            assert!(m.total_bytes() <= limits.max_bundle_bytes);
            assert!(m.items.iter().all(|e| e.size <= limits.max_item_bytes));
            assert_eq!(m.sha256, o4send::content::sha256_hex(manifest));
        }
        Err(why) => super::explained(&why),
    }
}

/// A campaign file that parses and has a schedule writes out and parses back to the same text.
pub fn campaign_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = match CampaignFile::parse(text).and_then(|f| f.schedule().map(|_| f)) {
        Ok(f) => f,
        Err(why) => return super::explained(&why),
    };
    // The rules (caps, name patterns, an item's hours, follow-ups, A/B tests): refused in one
    // line, or usable on any name.
    match file.check_rules() {
        Ok((names, rules)) => {
            for filter in std::iter::once(&names).chain(rules.iter().map(|r| &r.names)) {
                filter.admits(Some(text));
                filter.admits(None);
            }
        }
        Err(why) => return super::explained(&why),
    }
    let written = toml::to_string(&file).expect("a parsed campaign writes out");
    let again = CampaignFile::parse(&written).expect("a written campaign parses");
    assert_eq!(toml::to_string(&again).expect("writes out"), written);
}
