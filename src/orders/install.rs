//! A campaign uploaded through the dashboard, installed exactly as a USB stick is: it is made
//! into a signed bundle (with this appliance's own key, kept in its data directory and trusted
//! only for its own uploads), opened and checked as a stick, and swapped in by
//! `content::install::import` with its downgrade rule. Its sequence is the upload time, or one
//! past the active campaign's when the clock is behind it: an upload is always the newest.

use super::Context;
use crate::content::bundle::{create, signing, Stick};
use crate::content::install::{self, Recorded};
use std::path::Path;

/// Where uploads wait, inside the data directory: `uploads/<id>/files/`.
pub const UPLOADS: &str = "uploads";
const KEY: &str = "dashboard-signing.key";

pub(super) fn install(ctx: &Context, upload: &str) -> Result<String, String> {
    if upload.is_empty() || !upload.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("{upload:?} is not an upload"));
    }
    let root = ctx.data_dir.join(UPLOADS).join(upload);
    let result = install_from(ctx, &root);
    let _ = std::fs::remove_dir_all(&root);
    result
}

fn install_from(ctx: &Context, root: &Path) -> Result<String, String> {
    let key = own_key(&ctx.data_dir)?;
    let stick_root = root.join("stick");
    let _ = std::fs::remove_dir_all(&stick_root);
    std::fs::create_dir_all(&stick_root).map_err(|e| format!("{}: {e}", stick_root.display()))?;
    let created = create::create(&create::Request {
        from: &root.join("files"),
        to_root: &stick_root,
        key: &key,
        name: None,
        sender: None,
        replace: true,
        sequence: Some(next_sequence(ctx)),
    })?;
    let trusted = signing::TrustedKey::of_secret(&key)?;
    let stick = Stick::open(&stick_root, &[trusted], &ctx.limits)?;
    let installed = install::import(&ctx.layout, &stick, ctx.limits.max_item_bytes, false)?;
    let mut line = format!(
        "installed campaign {:?}: {} item(s), {} bytes; the previous campaign is kept for rollback",
        installed.name, created.items, created.bytes
    );
    for w in created.warnings {
        line.push_str("; ");
        line.push_str(&w);
    }
    Ok(line)
}

/// The upload time, or one past the active campaign's sequence when that is later.
fn next_sequence(ctx: &Context) -> u64 {
    let now = u64::try_from(jiff::Timestamp::now().as_second()).unwrap_or(0);
    let active = Recorded::of(&ctx.layout.content)
        .and_then(|r| r.sequence())
        .unwrap_or(0);
    now.max(active + 1)
}

/// This appliance's upload key, made on first use (no password: it never leaves the box).
fn own_key(data_dir: &Path) -> Result<minisign::SecretKey, String> {
    let path = data_dir.join(KEY);
    if !path.exists() {
        let pair = signing::generate(true)?;
        let (_public, secret) = signing::key_files(&pair)?;
        let tmp = data_dir.join(format!(".{KEY}.tmp"));
        std::fs::write(&tmp, secret).map_err(|e| format!("{}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, &path).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    signing::read_secret_key(&path)
}
