//! A content stick as found: `STICK_ROOT/o4send/` checked in the order that trusts nothing
//! early. The signature is verified over the bytes of `bundle.toml` before they are parsed; then
//! the folder must hold exactly the listed files, each a regular file (no symlink, device node,
//! FIFO or folder) of the signed size. Contents are hashed only while they are copied
//! ([`Stick::copy_item`]), so what is checked is what lands on the appliance, even if the stick
//! changes under us.

use super::manifest::{self, Entry, Manifest};
use super::signing::{self, Signed, TrustedKey};
use super::{Limits, BUNDLE_DIR, MANIFEST, SIGNATURE};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::fs::{File, Metadata};
use std::io::{Read, Write};
#[cfg(unix)]
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The most a `bundle.toml` or its signature may weigh.
const MAX_MANIFEST_BYTES: u64 = 1 << 20;
const MAX_SIGNATURE_BYTES: u64 = 4096;

/// A stick whose signature, format, names, file types and sizes are checked.
pub struct Stick {
    /// `STICK_ROOT/o4send`.
    pub dir: PathBuf,
    pub manifest: Manifest,
    /// The `.minisig` text, installed beside the campaign.
    pub signature: String,
    pub signed: Signed,
}

impl Stick {
    /// Checks the stick at `root` against `keys` and `limits`; one line naming the path on error.
    pub fn open(root: &Path, keys: &[TrustedKey], limits: &Limits) -> Result<Stick, String> {
        if keys.is_empty() {
            return Err(
                "bundle.trusted_keys is empty: this appliance trusts no signing key \
                        (add the base64 line of your o4send.pub)"
                    .into(),
            );
        }
        let dir = root.join(BUNDLE_DIR);
        let meta = std::fs::symlink_metadata(&dir)
            .map_err(|e| format!("{}: no {BUNDLE_DIR}/ folder ({e})", root.display()))?;
        if !meta.is_dir() {
            return Err(format!("{}: is not a folder", dir.display()));
        }
        let sig_path = dir.join(SIGNATURE);
        if sig_path.symlink_metadata().is_err() {
            return Err(format!(
                "{}: missing: the bundle is not signed",
                sig_path.display()
            ));
        }
        let signature = read_small(&sig_path, MAX_SIGNATURE_BYTES)?;
        let signature = String::from_utf8(signature)
            .map_err(|_| format!("{}: not a minisign signature", sig_path.display()))?;
        let man_path = dir.join(MANIFEST);
        let bytes = read_small(&man_path, MAX_MANIFEST_BYTES)?;
        let signed = signing::verify(&bytes, &signature, keys)
            .map_err(|e| format!("{}: {e}", sig_path.display()))?;
        let manifest =
            manifest::check(bytes, limits).map_err(|e| format!("{}: {e}", man_path.display()))?;
        let stick = Stick {
            dir,
            manifest,
            signature,
            signed,
        };
        stick.check_listing()?;
        for entry in &stick.manifest.items {
            stick.check_item(entry)?;
        }
        Ok(stick)
    }

    /// Every entry of the folder is `bundle.toml`, its signature or a listed item.
    fn check_listing(&self) -> Result<(), String> {
        let listed: HashSet<&str> = self
            .manifest
            .items
            .iter()
            .map(|e| e.name.as_str())
            .chain([MANIFEST, SIGNATURE])
            .collect();
        let read = std::fs::read_dir(&self.dir).map_err(|e| at(&self.dir, e))?;
        let mut names = Vec::new();
        for entry in read {
            names.push(entry.map_err(|e| at(&self.dir, e))?.file_name());
        }
        names.sort();
        for name in names {
            let path = self.dir.join(&name);
            let Some(name) = name.to_str() else {
                return Err(format!("{}: file name is not UTF-8", path.display()));
            };
            if !listed.contains(name) {
                return Err(format!(
                    "{}: not listed in {MANIFEST} (an extra file)",
                    path.display()
                ));
            }
        }
        Ok(())
    }

    fn check_item(&self, entry: &Entry) -> Result<(), String> {
        let path = self.dir.join(&entry.name);
        let meta = std::fs::symlink_metadata(&path).map_err(|e| at(&path, e))?;
        regular(&path, &meta)?;
        size_matches(&path, meta.len(), entry.size)
    }

    /// Copies an item into `out`, refusing it unless its bytes are exactly the signed ones.
    pub fn copy_item(&self, entry: &Entry, out: &mut impl Write) -> Result<(), String> {
        let path = self.dir.join(&entry.name);
        let mut file = open_regular(&path)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut done = 0u64;
        loop {
            let n = file.read(&mut buf).map_err(|e| at(&path, e))?;
            if n == 0 {
                break;
            }
            done += n as u64;
            if done > entry.size {
                return size_matches(&path, done, entry.size);
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])
                .map_err(|e| format!("writing {}: {e}", entry.name))?;
        }
        size_matches(&path, done, entry.size)?;
        let got: String = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if got != entry.sha256 {
            return Err(format!(
                "{}: SHA-256 {got}, {MANIFEST} says {} (changed after signing)",
                path.display(),
                entry.sha256
            ));
        }
        Ok(())
    }
}

/// Reads a small regular file whole, refusing anything larger than `max`.
fn read_small(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    let file = open_regular(path)?;
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| at(path, e))?;
    if bytes.len() as u64 > max {
        return Err(format!("{}: larger than {max} bytes", path.display()));
    }
    Ok(bytes)
}

/// Opens `path` for reading only if it is a regular file: never through a symlink, and without
/// blocking on a FIFO.
#[cfg(unix)]
fn open_regular(path: &Path) -> Result<File, String> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => format!("{}: is a symlink, not a regular file", path.display()),
            _ => at(path, e),
        })?;
    let meta = file.metadata().map_err(|e| at(path, e))?;
    regular(path, &meta)?;
    Ok(file)
}

/// Elsewhere (the fleet tool on Windows, checking a stick it made): the name's own metadata
/// first, then the file.
#[cfg(not(unix))]
fn open_regular(path: &Path) -> Result<File, String> {
    regular(
        path,
        &std::fs::symlink_metadata(path).map_err(|e| at(path, e))?,
    )?;
    let file = File::open(path).map_err(|e| at(path, e))?;
    regular(path, &file.metadata().map_err(|e| at(path, e))?)?;
    Ok(file)
}

fn regular(path: &Path, meta: &Metadata) -> Result<(), String> {
    let t = meta.file_type();
    let what = if t.is_file() {
        return Ok(());
    } else if t.is_symlink() {
        "a symlink"
    } else if t.is_dir() {
        "a folder"
    } else {
        special(&t)
    };
    Err(format!("{}: is {what}, not a regular file", path.display()))
}

#[cfg(unix)]
fn special(t: &std::fs::FileType) -> &'static str {
    if t.is_block_device() || t.is_char_device() {
        "a device node"
    } else if t.is_fifo() {
        "a FIFO"
    } else {
        "a socket"
    }
}

#[cfg(not(unix))]
fn special(_: &std::fs::FileType) -> &'static str {
    "a special file"
}

fn size_matches(path: &Path, got: u64, want: u64) -> Result<(), String> {
    if got == want {
        return Ok(());
    }
    let change = if got < want { "truncated" } else { "grown" };
    Err(format!(
        "{}: is {got} bytes, {MANIFEST} says {want} ({change} after signing)",
        path.display()
    ))
}

fn at(path: &Path, e: std::io::Error) -> String {
    format!("{}: {e}", path.display())
}
