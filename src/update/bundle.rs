//! Reads a system bundle (RAUC's verity format) before anything is installed, and refuses it with
//! one line naming why: not a bundle, unsigned, cut short, signed by a key this box does not
//! trust, changed after it was signed. What it is for (board, release) is for `install` to judge.
//!
//! The file: a SquashFS payload, its dm-verity hash tree, a CMS signature over the manifest (which
//! holds the tree's root hash), and the signature's size as 8 big-endian bytes. `rauc info` checks
//! the signature against the keyring; [`verity`] checks every payload byte against the root hash.

use super::verity::{self, Verity};
use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::process::Command;

/// What the signed manifest says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleInfo {
    pub compatible: String,
    pub version: String,
    pub verity: Verity,
    /// Bytes of SquashFS payload (before the hash tree).
    pub payload_bytes: u64,
}

/// Why a bundle is refused, as the one line the operator reads.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    NotABundle(String),
    Unsigned,
    Truncated { have: u64, need: u64 },
    Untrusted(String),
    Tampered(String),
    Unreadable(String),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NotABundle(why) => write!(f, "not an o4send system update: {why}"),
            Refusal::Unsigned => write!(
                f,
                "unsigned: no signature at the end of the file (or the end was cut off)"
            ),
            Refusal::Truncated { have, need } => write!(
                f,
                "truncated: the file has {have} bytes, its contents alone need {need} (an \
                 unfinished download or copy?)"
            ),
            Refusal::Untrusted(why) => {
                write!(f, "not signed by a key this box trusts: {why}")
            }
            Refusal::Tampered(why) => write!(f, "changed after it was signed: {why}"),
            Refusal::Unreadable(why) => write!(f, "cannot read it: {why}"),
        }
    }
}

/// Checks the bundle at `path` completely (signature against `keyring`, every payload byte).
pub fn inspect(path: &Path, keyring: &Path) -> Result<BundleInfo, Refusal> {
    let info = manifest(path, keyring)?;
    let unreadable = |e: io::Error| Refusal::Unreadable(format!("{}: {e}", path.display()));
    let file = File::open(path).map_err(unreadable)?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    verity::check(&mut reader, info.payload_bytes, &info.verity)
        .map_err(|e| Refusal::Tampered(e.to_string()))?;
    Ok(info)
}

/// Checks the bundle's shape and signature and reads its manifest, without the payload: what
/// it is, quickly (the payload check reads every byte).
pub fn manifest(path: &Path, keyring: &Path) -> Result<BundleInfo, Refusal> {
    let unreadable = |e: io::Error| Refusal::Unreadable(format!("{}: {e}", path.display()));
    let mut file = File::open(path).map_err(unreadable)?;
    let len = file.metadata().map_err(unreadable)?.len();
    let squashfs = squashfs_bytes(&mut file, len)?;
    let signature = signature_bytes(&mut file, len, squashfs)?;
    let mut info = signed_manifest(path, keyring)?;
    let need = squashfs + info.verity.tree_bytes + signature + 8;
    if len < need {
        return Err(Refusal::Truncated { have: len, need });
    }
    info.payload_bytes = len - 8 - signature - info.verity.tree_bytes;
    Ok(info)
}

/// The SquashFS's size from its superblock (`bytes_used`), rounded up to whole blocks.
fn squashfs_bytes(file: &mut File, len: u64) -> Result<u64, Refusal> {
    let mut head = [0u8; 48];
    file.read_exact(&mut head)
        .map_err(|_| Refusal::NotABundle(format!("only {len} bytes")))?;
    if &head[..4] != b"hsqs" {
        return Err(Refusal::NotABundle(
            "it does not start with a SquashFS (a .raucb made by the release)".into(),
        ));
    }
    let used = u64::from_le_bytes(head[40..48].try_into().expect("8 bytes"));
    let need = used.div_ceil(verity::BLOCK as u64) * verity::BLOCK as u64;
    if len < need {
        return Err(Refusal::Truncated { have: len, need });
    }
    Ok(need)
}

/// The signature's size from the last 8 bytes; none there means unsigned (or cut short).
fn signature_bytes(file: &mut File, len: u64, squashfs: u64) -> Result<u64, Refusal> {
    let mut tail = [0u8; 8];
    file.seek(SeekFrom::Start(len - 8))
        .and_then(|_| file.read_exact(&mut tail))
        .map_err(|e| Refusal::Unreadable(e.to_string()))?;
    let size = u64::from_be_bytes(tail);
    if size == 0 || size > len - 8 - squashfs {
        return Err(Refusal::Unsigned);
    }
    Ok(size)
}

/// `rauc info`: the signature checked against `keyring`, and the manifest it covers.
fn signed_manifest(path: &Path, keyring: &Path) -> Result<BundleInfo, Refusal> {
    let out = Command::new("rauc")
        .arg("info")
        .arg("--keyring")
        .arg(keyring)
        .arg(path)
        .output()
        .map_err(|e| Refusal::Unreadable(format!("rauc: {e}")))?;
    if !out.status.success() {
        return Err(rauc_refusal(&String::from_utf8_lossy(&out.stderr)));
    }
    parse_info(&String::from_utf8_lossy(&out.stdout))
}

/// Names what `rauc info` refused, from its last error line.
fn rauc_refusal(stderr: &str) -> Refusal {
    let last = stderr
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("rauc info failed")
        .trim_start_matches("rauc-CRITICAL **: ")
        .to_string();
    let lower = last.to_lowercase();
    if lower.contains("signature") || lower.contains("certificate") || lower.contains("verif") {
        Refusal::Untrusted(crate::config::one_line(&last))
    } else {
        Refusal::NotABundle(crate::config::one_line(&last))
    }
}

/// The fields of `rauc info`'s readable output this needs.
pub fn parse_info(text: &str) -> Result<BundleInfo, Refusal> {
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(key)?.trim().strip_prefix(':'))
            .map(|v| v.trim().trim_matches('\'').to_string())
    };
    let missing = |key: &str| Refusal::NotABundle(format!("rauc info shows no {key}"));
    if field("Bundle Format").as_deref() != Some("verity") {
        return Err(Refusal::NotABundle(
            "not in RAUC's verity format (the only one this box installs)".into(),
        ));
    }
    let salt = field("Verity Salt").ok_or_else(|| missing("Verity Salt"))?;
    let root = field("Verity Hash").ok_or_else(|| missing("Verity Hash"))?;
    let tree = field("Verity Size").ok_or_else(|| missing("Verity Size"))?;
    let verity = Verity {
        salt: hex(&salt).ok_or_else(|| missing("hex Verity Salt"))?,
        root: hex(&root)
            .and_then(|r| r.try_into().ok())
            .ok_or_else(|| missing("32-byte Verity Hash"))?,
        tree_bytes: tree.parse().map_err(|_| missing("number Verity Size"))?,
    };
    Ok(BundleInfo {
        compatible: field("Compatible").ok_or_else(|| missing("Compatible"))?,
        version: field("Version").ok_or_else(|| missing("Version"))?,
        verity,
        payload_bytes: 0,
    })
}

fn hex(s: &str) -> Option<Vec<u8>> {
    use ct_codecs::Decoder;
    ct_codecs::Hex::decode_to_vec(s, None).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: &str = "Compatible: \t'o4send-pi'\nVersion:    \t'0.1.2'\nBundle Format: \tverity\n  \
        Verity Salt: \t'ae27'\n  Verity Hash: \t'6c6fbfda6985df9be3dfdcc6344f05dd8a615b534e3724ed2b61efb32a129c62'\n  \
        Verity Size: \t1601536\n";

    #[test]
    fn rauc_info_read() {
        let info = parse_info(INFO).unwrap();
        assert_eq!(
            (info.compatible.as_str(), info.version.as_str()),
            ("o4send-pi", "0.1.2")
        );
        assert_eq!(info.verity.salt, vec![0xae, 0x27]);
        assert_eq!(info.verity.tree_bytes, 1601536);
        let plain = INFO.replace("verity\n", "plain\n");
        assert!(parse_info(&plain)
            .unwrap_err()
            .to_string()
            .contains("verity format"));
    }

    #[test]
    fn rauc_errors_named() {
        let e = rauc_refusal("rauc-Message: Reading bundle\nrauc-CRITICAL **: signature verification failed: certificate verify error\n");
        assert!(
            matches!(e, Refusal::Untrusted(ref w) if w.starts_with("signature verification failed")),
            "{e:?}"
        );
    }
}
