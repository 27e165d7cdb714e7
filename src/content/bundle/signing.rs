//! minisign keys and signatures, in minisign's own file formats so an operator can use either
//! `o4send bundle` or the `minisign` tool (Debian's 0.11 included) for any step.
//!
//! Both signature algorithms verify: `ED` (Ed25519 over the BLAKE2b-512 of the file, what
//! minisign 0.11 and `o4send bundle create` make) and legacy `Ed` (Ed25519 over the file,
//! `minisign -l`). The trusted comment's own signature is checked too, so its text (which names
//! the signing time) cannot be edited either. Secret keys may be password-protected (minisign's
//! default, scrypt) or not (`minisign -W`); the password comes from `O4SEND_KEY_PASSWORD` or the
//! terminal.

use minisign::{KeyPair, PublicKey, SecretKey, SecretKeyBox, SignatureBox};
use std::io::Cursor;
use std::path::Path;

/// The environment variable that carries a secret key's password in scripts.
pub const PASSWORD_ENV: &str = "O4SEND_KEY_PASSWORD";

/// A public key the appliance trusts, with its minisign key ID.
#[derive(Clone)]
pub struct TrustedKey {
    pub id: String,
    key: PublicKey,
}

impl TrustedKey {
    /// The key from the base64 line of a minisign public key, or a whole `.pub` file's text.
    pub fn parse(text: &str) -> Result<TrustedKey, String> {
        let key = crate::config::public_key(text)?;
        Ok(TrustedKey {
            id: key_id(key.keynum()),
            key,
        })
    }

    /// The key in a minisign `.pub` file.
    pub fn read(path: &Path) -> Result<TrustedKey, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        TrustedKey::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The public half of a secret key.
    pub fn of_secret(key: &SecretKey) -> Result<TrustedKey, String> {
        let key = PublicKey::from_secret_key(key).map_err(|e| e.to_string())?;
        Ok(TrustedKey {
            id: key_id(key.keynum()),
            key,
        })
    }

    /// The base64 line that goes into `bundle.trusted_keys`.
    pub fn base64(&self) -> String {
        self.key.to_base64()
    }
}

/// A signature that verified: by which key, and its trusted comment.
#[derive(Debug)]
pub struct Signed {
    pub key_id: String,
    pub trusted_comment: String,
}

/// Checks that `sig_text` is a minisign signature of `data` by one of `keys`.
pub fn verify(data: &[u8], sig_text: &str, keys: &[TrustedKey]) -> Result<Signed, String> {
    let sig = SignatureBox::from_string(sig_text)
        .map_err(|e| format!("not a minisign signature ({e})"))?;
    if !global_signature_whole(sig_text) {
        return Err(
            "not a minisign signature (the trusted comment's signature is not 64 bytes)".into(),
        );
    }
    let id = key_id(sig.keynum());
    let Some(trusted) = keys.iter().find(|k| k.id == id) else {
        return Err(format!(
            "signed by key {id}, which this appliance does not trust (bundle.trusted_keys)"
        ));
    };
    minisign::verify(&trusted.key, &sig, Cursor::new(data), true, false, true).map_err(|e| {
        format!("the signature by key {id} does not match: changed after signing ({e})")
    })?;
    let trusted_comment = sig
        .trusted_comment()
        .map_err(|e| format!("unreadable trusted comment ({e})"))?;
    Ok(Signed {
        key_id: id,
        trusted_comment,
    })
}

/// Whether the signature's last line, the trusted comment's signature, is 64 bytes: minisign
/// 0.10 takes it as 64 without checking, and a shorter one panics inside `minisign::verify`
/// (found by fuzzing: fuzz/regressions/bundle_manifest/). Decoded as `SignatureBox` does.
fn global_signature_whole(sig_text: &str) -> bool {
    use ct_codecs::{Base64, Decoder};
    let line = sig_text.lines().nth(3).unwrap_or("").trim();
    Base64::decode_to_vec(line, None).is_ok_and(|b| b.len() == 64)
}

/// A minisign signature (prehashed, `ED`) of `data`, as the text of a `.minisig` file.
pub fn sign(data: &[u8], key: &SecretKey, trusted_comment: &str) -> Result<String, String> {
    let untrusted = "signature from o4send secret key";
    minisign::sign(
        None,
        key,
        Cursor::new(data),
        Some(trusted_comment),
        Some(untrusted),
    )
    .map(|b| b.into_string())
    .map_err(|e| format!("cannot sign: {e}"))
}

/// The secret key in a minisign `.key` file, asking for its password when it has one.
pub fn read_secret_key(path: &Path) -> Result<SecretKey, String> {
    let fail = |e: String| format!("{}: {e}", path.display());
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let key = match unencrypted(&text) {
        Some(key) => key,
        None => {
            let boxed = SecretKeyBox::from_string(&text).map_err(|e| fail(e.to_string()))?;
            let password = std::env::var(PASSWORD_ENV).ok();
            SecretKey::from_box(boxed, password)
                .map_err(|e| fail(format!("not a usable key ({e})")))?
        }
    };
    self_test(&key).map_err(fail)?;
    Ok(key)
}

/// A key stored without a password (`minisign -W`, `o4send bundle keygen --unencrypted`).
/// Read from its bytes: Debian's minisign 0.11 leaves the checksum of such keys zero, which
/// the minisign crate would call corrupt; [`self_test`] checks the key instead.
fn unencrypted(text: &str) -> Option<SecretKey> {
    use ct_codecs::{Base64, Decoder};
    let line = text.lines().nth(1)?.trim();
    let bytes = Base64::decode_to_vec(line, None).ok()?;
    let kdf_none = bytes.get(2..4) == Some(&[0, 0]);
    kdf_none.then(|| SecretKey::from_bytes(&bytes).ok())?
}

/// Signs a probe and verifies it with the public half kept inside the secret key: a damaged
/// or mis-decrypted key fails here, not on the appliance.
fn self_test(key: &SecretKey) -> Result<(), String> {
    let probe = b"o4send key self-test";
    let public = TrustedKey::of_secret(key)?;
    let sig = sign(probe, key, "self-test")?;
    verify(probe, &sig, &[public])
        .map(drop)
        .map_err(|_| "not a usable key (it does not verify its own signature)".to_string())
}

/// A new key pair. The secret key is encrypted under a password (from `O4SEND_KEY_PASSWORD`,
/// else asked twice on the terminal) unless `unencrypted`.
pub fn generate(unencrypted: bool) -> Result<KeyPair, String> {
    if unencrypted {
        KeyPair::generate_unencrypted_keypair()
    } else {
        KeyPair::generate_encrypted_keypair(std::env::var(PASSWORD_ENV).ok())
    }
    .map_err(|e| format!("cannot generate a key: {e}"))
}

/// The text of a key pair's `.pub` and `.key` files.
pub fn key_files(pair: &KeyPair) -> Result<(String, String), String> {
    let id = key_id(pair.pk.keynum());
    let comment = format!("o4send bundle signing key {id}");
    let public = pair.pk.to_box().map_err(|e| e.to_string())?.into_string();
    let secret = pair
        .sk
        .to_box(Some(&comment))
        .map_err(|e| e.to_string())?
        .into_string();
    Ok((public, secret))
}

/// The key ID of a secret key.
pub fn secret_key_id(key: &SecretKey) -> String {
    key_id(key.keynum())
}

/// minisign shows a key number as a little-endian 64-bit number in upper-case hex.
fn key_id(keynum: &[u8]) -> String {
    keynum.iter().rev().map(|b| format!("{b:02X}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trusted_comment_signature_cut_short_is_refused() {
        let pair = generate(true).unwrap();
        let key = TrustedKey::of_secret(&pair.sk).unwrap();
        let sig = sign(b"bundle", &pair.sk, "timestamp:0").unwrap();
        assert!(verify(b"bundle", &sig, std::slice::from_ref(&key)).is_ok());
        let mut lines: Vec<&str> = sig.lines().collect();
        let short = &lines[3][..48];
        lines[3] = short;
        let why = verify(b"bundle", &lines.join("\n"), &[key]).unwrap_err();
        assert!(why.contains("trusted comment's signature"), "{why}");
    }
}
