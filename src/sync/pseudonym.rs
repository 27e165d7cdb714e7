//! How a phone is named once its record leaves the appliance.
//!
//! A Bluetooth address is personal data: by default what goes to the fleet database is
//! HMAC-SHA256(fleet secret, "AA:BB:CC:DD:EE:FF") in lower-case hex, the same on every appliance
//! of the fleet (so a phone asked at booth A is recognised at booth B) and useless to anyone
//! without the secret. Raw addresses leave only on an explicit opt-in (`sync.raw_macs`).

use crate::model::device::BdAddr;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;

/// How phones are named outside the appliance.
#[derive(Clone, PartialEq, Eq)]
pub enum PhoneKey {
    /// The address itself, `AA:BB:CC:DD:EE:FF`.
    Raw,
    /// Hex HMAC-SHA256 of the address under the fleet secret.
    Hmac(Vec<u8>),
}

impl PhoneKey {
    /// How phones are named in the fleet database under this config; `None` when sync is off.
    pub fn for_sync(cfg: &crate::config::SyncConfig) -> Option<PhoneKey> {
        if !cfg.enabled() || cfg.refused.is_some() {
            return None;
        }
        if cfg.raw_macs {
            return Some(PhoneKey::Raw);
        }
        cfg.secret
            .as_ref()
            .map(|s| PhoneKey::Hmac(s.expose().as_bytes().to_vec()))
    }

    /// The pseudonym of `addr` (or the address, for [`PhoneKey::Raw`]).
    pub fn phone(&self, addr: BdAddr) -> String {
        self.phone_text(&addr.to_string())
    }

    /// The pseudonym of an address as the log stores it (`AA:BB:CC:DD:EE:FF`).
    pub fn phone_text(&self, addr: &str) -> String {
        match self {
            PhoneKey::Raw => addr.to_string(),
            PhoneKey::Hmac(secret) => hmac_hex(secret, addr.as_bytes()),
        }
    }
}

/// The secret never shows in logs or debug output.
impl fmt::Debug for PhoneKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PhoneKey::Raw => f.write_str("PhoneKey::Raw"),
            PhoneKey::Hmac(_) => f.write_str("PhoneKey::Hmac(***)"),
        }
    }
}

fn hmac_hex(secret: &[u8], data: &[u8]) -> String {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| {
        <Hmac<Sha256> as Mac>::new_from_slice(&[]).expect("HMAC accepts an empty key")
    });
    mac.update(data);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            hmac_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn same_secret_same_pseudonym_and_raw_is_the_address() {
        let addr: BdAddr = "00:11:22:AA:BB:CC".parse().unwrap();
        let a = PhoneKey::Hmac(b"fleet secret".to_vec());
        let b = PhoneKey::Hmac(b"fleet secret".to_vec());
        assert_eq!(a.phone(addr), b.phone(addr));
        assert_eq!(a.phone(addr).len(), 64);
        assert_ne!(a.phone(addr), PhoneKey::Hmac(b"other".to_vec()).phone(addr));
        assert_eq!(PhoneKey::Raw.phone(addr), "00:11:22:AA:BB:CC");
        assert_eq!(format!("{a:?}"), "PhoneKey::Hmac(***)");
    }
}
