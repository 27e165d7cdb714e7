//! `o4send bundle create`, on the operator's laptop: describes a folder of files as a bundle
//! (hashes, sizes, MIME types by extension), warns about types Android refuses, signs it and
//! writes `o4send/` onto the stick. The folder may hold a `campaign.toml` (name, sender, dates,
//! hours, targeting); without one every visible file is an item for every class. Every bundle
//! carries a signed `sequence`, the signing time unless the operator chooses one, so a bundle
//! made later replaces one made earlier and never the other way round.

use super::{signing, BUNDLE_DIR, MANIFEST, SIGNATURE};
use crate::content::{
    android_accepts, check_plain_name, mime_for, CampaignFile, ItemFile, CAMPAIGN_FILE, FORMAT,
};
use minisign::SecretKey;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// What to build.
pub struct Request<'a> {
    pub from: &'a Path,
    pub to_root: &'a Path,
    pub key: &'a SecretKey,
    /// Overrides the campaign name (default: campaign.toml's, else the folder's name).
    pub name: Option<String>,
    /// Overrides the sender name phones show.
    pub sender: Option<String>,
    /// Replace an `o4send/` folder already on the stick.
    pub replace: bool,
    /// The bundle's sequence (default: the signing time, seconds since the epoch).
    pub sequence: Option<u64>,
}

/// What was written.
#[derive(Debug)]
pub struct Created {
    pub dir: PathBuf,
    pub name: String,
    pub sha256: String,
    pub sequence: u64,
    pub items: usize,
    pub bytes: u64,
    pub key_id: String,
    /// One line per item Android will refuse.
    pub warnings: Vec<String>,
}

pub fn create(req: &Request) -> Result<Created, String> {
    let mut file = describe(req)?;
    let mut warnings = Vec::new();
    let signed_at = jiff::Timestamp::now().as_second();
    let sequence = match req.sequence {
        Some(n) => n,
        None => u64::try_from(signed_at)
            .ok()
            .filter(|&t| t > 0)
            .ok_or_else(|| {
                format!("this computer's clock says {signed_at} s since 1970: pass --sequence N")
            })?,
    };
    if let Some(old) = file.sequence.filter(|&old| old != sequence) {
        warnings.push(format!(
            "{}: sequence = {old} is replaced by {sequence} (bundle create sets it; \
             --sequence N chooses it)",
            req.from.join(CAMPAIGN_FILE).display()
        ));
    }
    file.sequence = Some(sequence);
    let mut bytes = 0;
    for item in &mut file.items {
        fill_in(req.from, item)?;
        bytes += item.size.unwrap_or(0);
        let mime = item.mime.as_deref().unwrap_or_default();
        if !android_accepts(mime) {
            warnings.push(format!(
                "{} is {mime}, a type Android refuses (phones will answer unsupported_type)",
                item.file
            ));
        }
    }
    file.schedule()
        .map_err(|e| format!("{}: {e}", req.from.display()))?;
    file.check_rules()
        .map_err(|e| format!("{}: {e}", req.from.join(CAMPAIGN_FILE).display()))?;
    let text = format!(
        "# An o4send content bundle, written by `o4send bundle create` and signed: edit nothing.\n{}",
        toml::to_string(&file).map_err(|e| e.to_string())?
    );
    let key_id = signing::secret_key_id(req.key);
    let comment = format!(
        "timestamp:{signed_at}\tfile:{MANIFEST}\tcampaign:{}",
        file.name.replace(['\t', '\n', '\r'], " ")
    );
    let signature = signing::sign(text.as_bytes(), req.key, &comment)?;
    let dir = write_stick(req, &file, &text, &signature)?;
    Ok(Created {
        dir,
        name: file.name,
        sha256: crate::content::sha256_hex(text.as_bytes()),
        sequence,
        items: file.items.len(),
        bytes,
        key_id,
        warnings,
    })
}

/// The folder's campaign.toml, or every visible regular file in name order.
fn describe(req: &Request) -> Result<CampaignFile, String> {
    let at = |e: std::io::Error| format!("{}: {e}", req.from.display());
    let described = req.from.join(CAMPAIGN_FILE);
    let mut file = if described.exists() {
        let text = std::fs::read_to_string(&described).map_err(at)?;
        CampaignFile::parse(&text).map_err(|e| format!("{}: {e}", described.display()))?
    } else {
        plain_folder(req.from)?
    };
    if let Some(name) = &req.name {
        file.name = name.clone();
    }
    if req.sender.is_some() {
        file.sender_name = req.sender.clone();
    }
    file.format = Some(FORMAT);
    if file.items.is_empty() {
        return Err(format!(
            "{}: no files to put in the bundle",
            req.from.display()
        ));
    }
    Ok(file)
}

fn plain_folder(from: &Path) -> Result<CampaignFile, String> {
    let at = |e: std::io::Error| format!("{}: {e}", from.display());
    let mut names = Vec::new();
    for entry in std::fs::read_dir(from).map_err(at)? {
        let entry = entry.map_err(at)?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            let path = entry.path();
            return Err(format!("{}: file name is not UTF-8", path.display()));
        };
        if !name.starts_with('.') && entry.file_type().map_err(at)?.is_file() {
            names.push(name);
        }
    }
    names.sort();
    let folder = from.canonicalize().map_err(at)?;
    let name = folder
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("campaign");
    Ok(CampaignFile {
        name: name.to_string(),
        items: names
            .into_iter()
            .map(|file| ItemFile {
                file,
                ..ItemFile::default()
            })
            .collect(),
        ..CampaignFile::default()
    })
}

/// Hashes and measures one file; guesses its MIME type unless given.
fn fill_in(from: &Path, item: &mut ItemFile) -> Result<(), String> {
    check_plain_name(&item.file).map_err(|e| format!("{}: {e}", from.display()))?;
    let path = from.join(&item.file);
    let body = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    if body.is_empty() {
        return Err(format!(
            "{}: is empty (phones refuse empty objects)",
            path.display()
        ));
    }
    let hash = Sha256::digest(&body);
    item.sha256 = Some(hash.iter().map(|b| format!("{b:02x}")).collect());
    item.size = Some(body.len() as u64);
    if item.mime.is_none() {
        item.mime = Some(mime_for(&item.file).to_string());
    }
    Ok(())
}

/// Writes `o4send/` beside itself first, then renames it into place.
fn write_stick(
    req: &Request,
    file: &CampaignFile,
    text: &str,
    signature: &str,
) -> Result<PathBuf, String> {
    let root = req.to_root;
    if !root.is_dir() {
        return Err(format!("{}: is not a folder", root.display()));
    }
    let dir = root.join(BUNDLE_DIR);
    if dir.symlink_metadata().is_ok() && !req.replace {
        return Err(format!(
            "{}: already exists (pass --replace to overwrite it)",
            dir.display()
        ));
    }
    let partial = root.join(format!(".{BUNDLE_DIR}.partial"));
    let at = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
    if partial.exists() {
        std::fs::remove_dir_all(&partial).map_err(|e| at(&partial, e))?;
    }
    std::fs::create_dir(&partial).map_err(|e| at(&partial, e))?;
    for item in &file.items {
        let dest = partial.join(&item.file);
        std::fs::copy(req.from.join(&item.file), &dest).map_err(|e| at(&dest, e))?;
    }
    std::fs::write(partial.join(MANIFEST), text).map_err(|e| at(&partial, e))?;
    std::fs::write(partial.join(SIGNATURE), signature).map_err(|e| at(&partial, e))?;
    if dir.symlink_metadata().is_ok() {
        std::fs::remove_dir_all(&dir).map_err(|e| at(&dir, e))?;
    }
    std::fs::rename(&partial, &dir).map_err(|e| at(&dir, e))?;
    // Best effort: not every stick's filesystem syncs a folder; ejecting the stick flushes it.
    let _ = std::fs::File::open(root).and_then(|d| d.sync_all());
    Ok(dir)
}
