//! Installing a checked bundle so that, after a power cut or SIGKILL at any instant, the content
//! directory is wholly the old campaign or wholly the new one, and the one before stays for
//! `o4send content rollback`.
//!
//! Layout beside the configured content directory (default `/var/lib/o4send/content`):
//!
//! ```text
//! content          -> campaigns/<sha16>-<stamp>   symlink: the active campaign
//! content.previous -> campaigns/<sha16>-<stamp>   symlink: what a rollback restores
//! campaigns/<sha16>-<stamp>/  campaign.toml (the signed bundle.toml), campaign.toml.minisig, items
//! campaigns/.staging-<pid>/   an import in progress
//! import.lock                 flock: one import or rollback at a time
//! ```
//!
//! Why a symlink: the daemon reads `content` as before (a plain folder still works), and the
//! only step that changes what it reads is rename(2) of a fresh symlink over `content`, which
//! the kernel does atomically; before it nothing the daemon sees has changed, after it
//! everything has. Each campaign folder is complete, synced and loadable (checked with the
//! daemon's own loader) before it gets its final name, and never changes afterwards. A content
//! folder made by hand is swapped for the symlink in one step with renameat2(RENAME_EXCHANGE)
//! and then kept as the previous campaign. A rollback exchanges `content` and
//! `content.previous` the same way. Whatever a crash leaves (a staging folder, a campaign no
//! link names) is removed by the next import under the lock, so nothing accumulates.
//!
//! A signed stick cannot take the appliance back in time: the bundle's signed `sequence` must be
//! larger than the active campaign's, read from the active `campaign.toml` (the signed
//! `bundle.toml` it was installed from), so a rollback brings back the older sequence with the
//! older campaign. The same bundle again is "already active"; the same sequence with other
//! content is refused; no sequence counts as 0, and a campaign without one (made by hand, or
//! imported before sequences) is replaced by any signed bundle, an unsequenced one included.
//! Going back on purpose is `allow_older` (`o4send import --allow-older`) or [`rollback`].

use super::bundle::Stick;
use super::{disk, CampaignFile};
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// Free space an import leaves on the data partition, for the log.
pub const RESERVE_BYTES: u64 = 8 << 20;

/// Where everything lives, derived from the content directory's path.
#[derive(Clone, Debug)]
pub struct Layout {
    pub content: PathBuf,
    pub previous: PathBuf,
    pub campaigns: PathBuf,
    lock: PathBuf,
    /// A hand-made content folder swapped out and not yet adopted.
    incoming: PathBuf,
}

impl Layout {
    pub fn new(content: &Path) -> Layout {
        let parent = disk::parent(content);
        let name = content.file_name().unwrap_or_default().to_string_lossy();
        Layout {
            content: content.to_path_buf(),
            previous: parent.join(format!("{name}.previous")),
            campaigns: parent.join("campaigns"),
            lock: parent.join("import.lock"),
            incoming: parent.join(format!("{name}.incoming")),
        }
    }
}

/// The campaign that became active.
#[derive(Debug)]
pub struct Installed {
    pub name: String,
    pub sha256: String,
    pub sequence: Option<u64>,
    /// False when the bundle was already the active campaign (nothing was changed).
    pub changed: bool,
    /// True when it was not newer than the campaign it replaced (imported with `allow_older`).
    pub older: bool,
}

/// What a campaign folder's `campaign.toml` records (for an imported campaign, the signed
/// `bundle.toml`): its SHA-256 and, when it parses, its description with the sequence.
#[derive(Debug)]
pub struct Recorded {
    pub sha256: String,
    pub file: Option<CampaignFile>,
}

impl Recorded {
    /// The campaign's `campaign.toml`, or `None` without one (a plain folder made by hand).
    pub fn of(dir: &Path) -> Option<Recorded> {
        let bytes = std::fs::read(dir.join(super::CAMPAIGN_FILE)).ok()?;
        let file = std::str::from_utf8(&bytes)
            .ok()
            .and_then(|text| CampaignFile::parse(text).ok());
        Some(Recorded {
            sha256: super::sha256_hex(&bytes),
            file,
        })
    }

    pub fn sequence(&self) -> Option<u64> {
        self.file.as_ref().and_then(|f| f.sequence)
    }
}

/// Copies a checked stick into a new campaign folder and makes it the active one. A bundle not
/// newer than the active campaign is refused unless `allow_older` (see the module's comment).
pub fn import(
    layout: &Layout,
    stick: &Stick,
    max_item_bytes: u64,
    allow_older: bool,
) -> Result<Installed, String> {
    let _lock = lock(layout)?;
    tidy(layout)?;
    let active = Recorded::of(&layout.content);
    let mut installed = Installed {
        name: stick.manifest.file.name.clone(),
        sha256: stick.manifest.sha256.clone(),
        sequence: stick.manifest.file.sequence,
        changed: false,
        older: false,
    };
    if active.as_ref().map(|a| a.sha256.as_str()) == Some(stick.manifest.sha256.as_str()) {
        // Same signed description as the active campaign: nothing to install, but a stick whose
        // files were changed after signing is still refused, so the operator hears of it.
        verify_files(stick)?;
        return Ok(installed);
    }
    if let Some(refusal) = active.as_ref().and_then(|a| not_newer(a, stick)) {
        if !allow_older {
            return Err(refusal);
        }
        installed.older = true;
    }
    check_space(
        layout,
        stick.manifest.total_bytes() + stick.manifest.bytes.len() as u64,
    )?;
    std::fs::create_dir_all(&layout.campaigns).map_err(|e| at(&layout.campaigns, e))?;
    let owner = Owner::of(disk::parent(&layout.content))?;
    owner.hand_over(&layout.campaigns, 0o750)?;
    let staged = layout
        .campaigns
        .join(format!(".staging-{}", std::process::id()));
    std::fs::create_dir(&staged).map_err(|e| at(&staged, e))?;
    let checked = stage(&staged, stick, &owner).and_then(|()| {
        super::load(&staged, max_item_bytes)
            .map(drop)
            .map_err(|e| format!("the copied campaign does not load: {e}"))
    });
    if let Err(e) = checked {
        let _ = std::fs::remove_dir_all(&staged);
        return Err(e);
    }
    let name = format!("{}-{}", &stick.manifest.sha256[..16], stamp());
    let target = layout.campaigns.join(&name);
    std::fs::rename(&staged, &target).map_err(|e| at(&target, e))?;
    disk::sync_dir(&layout.campaigns).map_err(|e| at(&layout.campaigns, e))?;
    activate(layout, &Path::new("campaigns").join(&name))?;
    tidy(layout)?;
    Ok(Installed {
        changed: true,
        ..installed
    })
}

/// Why `stick` may not replace the `active` campaign, or `None` when it is newer: a larger
/// sequence, or neither has one (both made before sequences, as every import was then). An
/// active `campaign.toml` that does not parse names no order and is replaced by anything.
fn not_newer(active: &Recorded, stick: &Stick) -> Option<String> {
    let active_file = active.file.as_ref()?;
    let have = active_file.sequence.unwrap_or(0);
    let file = &stick.manifest.file;
    let got = file.sequence.unwrap_or(0);
    if got > have || (got == 0 && have == 0) {
        return None;
    }
    let bundle = match file.sequence {
        Some(n) => format!("bundle {:?} sequence {n}", file.name),
        None => format!(
            "bundle {:?} without a sequence (an older bundle format, counted as 0)",
            file.name
        ),
    };
    let active = format!(
        "the active campaign {:?} (sequence {have})",
        active_file.name
    );
    let root = stick.dir.parent().unwrap_or(&stick.dir).display();
    Some(if got == have {
        format!(
            "{bundle} is as old as {active} but differs from it; make it again with o4send \
             bundle create for a newer sequence, or to replace it on purpose: o4send import \
             --allow-older {root}"
        )
    } else {
        format!(
            "{bundle} is older than {active}; to go back on purpose: o4send import \
             --allow-older {root}, or o4send content rollback"
        )
    })
}

/// Makes the previous campaign the active one (and the active one the previous).
pub fn rollback(layout: &Layout, max_item_bytes: u64) -> Result<Installed, String> {
    let _lock = lock(layout)?;
    tidy(layout)?;
    let is_link = |p: &Path| p.symlink_metadata().is_ok_and(|m| m.is_symlink());
    if !is_link(&layout.previous) || !is_link(&layout.content) {
        return Err(format!(
            "{}: no previous campaign to roll back to",
            layout.previous.display()
        ));
    }
    let campaign = super::load(&layout.previous, max_item_bytes)
        .map_err(|e| format!("the previous campaign does not load: {e}"))?;
    let sha256 = super::fingerprint(&layout.previous, &campaign).map_err(|e| e.0)?;
    let sequence = Recorded::of(&layout.previous).and_then(|r| r.sequence());
    disk::exchange(&layout.previous, &layout.content).map_err(|e| at(&layout.content, e))?;
    let parent = disk::parent(&layout.content);
    disk::sync_dir(parent).map_err(|e| at(parent, e))?;
    Ok(Installed {
        name: campaign.name,
        sha256,
        sequence,
        changed: true,
        older: false,
    })
}

fn lock(layout: &Layout) -> Result<disk::Lock, String> {
    let parent = disk::parent(&layout.content);
    std::fs::create_dir_all(parent).map_err(|e| at(parent, e))?;
    match disk::try_lock(&layout.lock) {
        Ok(Some(lock)) => Ok(lock),
        Ok(None) => Err(format!(
            "{}: another import or rollback is running",
            layout.lock.display()
        )),
        Err(e) => Err(at(&layout.lock, e)),
    }
}

fn check_space(layout: &Layout, needed: u64) -> Result<(), String> {
    let parent = disk::parent(&layout.content);
    let free = disk::free_bytes(parent).map_err(|e| at(parent, e))?;
    if free < needed + RESERVE_BYTES {
        return Err(format!(
            "{}: not enough free space: the bundle needs {needed} bytes and {RESERVE_BYTES} \
             stay free for the log, but {free} are free",
            parent.display()
        ));
    }
    Ok(())
}

/// Copies every item (verified while copied), the description and the signature into the
/// staging folder, each synced.
/// Reads every file on the stick against its signed hash and size, keeping nothing.
fn verify_files(stick: &Stick) -> Result<(), String> {
    for entry in &stick.manifest.items {
        stick.copy_item(entry, &mut std::io::sink())?;
    }
    Ok(())
}

fn stage(staging: &Path, stick: &Stick, owner: &Owner) -> Result<(), String> {
    owner.hand_over(staging, 0o750)?;
    for entry in &stick.manifest.items {
        let path = staging.join(&entry.name);
        let mut out = File::create_new(&path).map_err(|e| at(&path, e))?;
        stick.copy_item(entry, &mut out)?;
        owner.hand_over(&path, 0o640)?;
        out.sync_all().map_err(|e| at(&path, e))?;
    }
    let description = staging.join(super::CAMPAIGN_FILE);
    write_synced(&description, &stick.manifest.bytes)?;
    owner.hand_over(&description, 0o640)?;
    let signature = staging.join(format!("{}.minisig", super::CAMPAIGN_FILE));
    write_synced(&signature, stick.signature.as_bytes())?;
    owner.hand_over(&signature, 0o640)?;
    disk::sync_dir(staging).map_err(|e| at(staging, e))
}

/// Whose a campaign's files are: the data directory's owner and group (the daemon's), also
/// when the import runs as root from a stick, so nothing is left that the daemon cannot read;
/// and readable by that group, in which the captive page runs as its own user
/// (o4send-portal.service), whatever the umask of the process that imports.
struct Owner {
    uid: u32,
    gid: u32,
}

impl Owner {
    fn of(dir: &Path) -> Result<Owner, String> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(dir).map_err(|e| at(dir, e))?;
        Ok(Owner {
            uid: m.uid(),
            gid: m.gid(),
        })
    }

    /// Gives `path` this owner (when it has another) and `mode`.
    fn hand_over(&self, path: &Path, mode: u32) -> Result<(), String> {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let m = std::fs::symlink_metadata(path).map_err(|e| at(path, e))?;
        if (m.uid(), m.gid()) != (self.uid, self.gid) {
            std::os::unix::fs::lchown(path, Some(self.uid), Some(self.gid))
                .map_err(|e| at(path, e))?;
        }
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(|e| at(path, e))
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    let mut f = File::create_new(path).map_err(|e| at(path, e))?;
    f.write_all(bytes).map_err(|e| at(path, e))?;
    f.sync_all().map_err(|e| at(path, e))
}

/// Points `content` at `target` (relative to its folder), keeping what it showed as previous.
fn activate(layout: &Layout, target: &Path) -> Result<(), String> {
    let content = &layout.content;
    match content.symlink_metadata() {
        Err(e) if e.kind() == io::ErrorKind::NotFound => point(content, target),
        Err(e) => Err(at(content, e)),
        Ok(m) if m.is_symlink() => {
            let old = std::fs::read_link(content).map_err(|e| at(content, e))?;
            point(&layout.previous, &old)?;
            point(content, target)
        }
        Ok(m) if m.is_dir() => {
            point(&layout.incoming, target)?;
            disk::exchange(&layout.incoming, content).map_err(|e| at(content, e))?;
            let parent = disk::parent(content);
            disk::sync_dir(parent).map_err(|e| at(parent, e))?;
            adopt(layout)
        }
        Ok(_) => Err(format!(
            "{}: is neither a folder nor a symlink",
            content.display()
        )),
    }
}

fn point(link: &Path, target: &Path) -> Result<(), String> {
    disk::point(link, target).map_err(|e| at(link, e))
}

/// Moves a hand-made content folder, swapped out by `activate`, into `campaigns/` as the
/// previous campaign.
fn adopt(layout: &Layout) -> Result<(), String> {
    let name = format!("by-hand-{}", stamp());
    let target = layout.campaigns.join(&name);
    std::fs::rename(&layout.incoming, &target).map_err(|e| at(&target, e))?;
    point(&layout.previous, &Path::new("campaigns").join(&name))
}

/// Finishes or removes what an interrupted import left: a swapped-out hand-made folder is
/// adopted, a stray link or staging folder and any campaign no link names are removed.
fn tidy(layout: &Layout) -> Result<(), String> {
    match layout.incoming.symlink_metadata() {
        Ok(m) if m.is_dir() => adopt(layout)?,
        Ok(_) => std::fs::remove_file(&layout.incoming).map_err(|e| at(&layout.incoming, e))?,
        Err(_) => {}
    }
    let Ok(entries) = std::fs::read_dir(&layout.campaigns) else {
        return Ok(());
    };
    let keep: Vec<PathBuf> = [&layout.content, &layout.previous]
        .iter()
        .filter_map(|l| std::fs::read_link(l).ok())
        .filter_map(|t| t.file_name().map(PathBuf::from))
        .collect();
    for entry in entries {
        let entry = entry.map_err(|e| at(&layout.campaigns, e))?;
        if keep.contains(&PathBuf::from(entry.file_name())) {
            continue;
        }
        let path = entry.path();
        let removed = match entry.file_type() {
            Ok(t) if t.is_dir() => std::fs::remove_dir_all(&path),
            _ => std::fs::remove_file(&path),
        };
        removed.map_err(|e| at(&path, e))?;
    }
    Ok(())
}

/// Nanoseconds since the epoch: unique enough for folder names made under the lock.
fn stamp() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

fn at(path: &Path, e: io::Error) -> String {
    format!("{}: {e}", path.display())
}
