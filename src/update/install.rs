//! The one path every system update takes, from a stick, the dashboard or the console: copy the
//! file onto the data partition (a stick may be pulled, an upload is already there), check it
//! whole ([`bundle::inspect`]), judge it for this box (board, release), then let RAUC write it to
//! the other slot. The daemon keeps working throughout; the new system runs after a restart.
//! Every refusal is one line, also kept as the last update's outcome.

use super::bundle::{self, BundleInfo};
use super::trial::Records;
use super::version;
use std::cmp::Ordering;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What this box is and trusts.
pub struct System {
    pub compatible: String,
    pub keyring: PathBuf,
    pub running: String,
    pub records: Records,
}

/// RAUC's config in the image (board/debian/pi/rauc/system.conf).
pub const SYSTEM_CONF: &str = "/etc/rauc/system.conf";

impl System {
    /// This box, from RAUC's config and the image's release.
    pub fn this() -> Result<System, String> {
        let conf = std::fs::read_to_string(SYSTEM_CONF).map_err(|e| {
            format!("{SYSTEM_CONF}: {e} (this system cannot be updated: not an o4send image with two slots)")
        })?;
        let get = |key: &str| {
            conf.lines()
                .find_map(|l| l.trim().strip_prefix(key)?.trim().strip_prefix('='))
                .map(|v| v.trim().to_string())
        };
        Ok(System {
            compatible: get("compatible").ok_or(format!("{SYSTEM_CONF}: no compatible="))?,
            keyring: PathBuf::from(get("path").unwrap_or("/etc/rauc/keyring.pem".into())),
            running: version::running(),
            records: Records::new(Path::new(super::trial::DIR)),
        })
    }
}

impl System {
    /// Did this release fall back on this box? Also while the fall back is not yet settled (the
    /// old system booted again, its health not yet proved).
    pub fn has_failed(&self, version: &str) -> bool {
        let booted = super::booted_under(Path::new("/"));
        let unsettled = self
            .records
            .trial()
            .is_some_and(|t| t.version == version && booted != Some(t.slot));
        unsettled || self.records.failed().iter().any(|v| v == version)
    }
}

/// What the operator asked for.
pub struct Request<'a> {
    pub file: &'a Path,
    /// Install this release even though it is not newer than the running one: the operator typed
    /// its version.
    pub named_version: Option<&'a str>,
    /// The file is the dashboard's upload on the data partition: moved, not copied.
    pub move_in: bool,
    /// The name the operator knows the file by, when it is not the file's own (an upload).
    pub shown_name: Option<&'a str>,
}

/// What an install did.
#[derive(Debug, PartialEq, Eq)]
pub enum Done {
    /// This release is in the other slot; it runs after the next restart.
    Installed(String),
    /// This release is the running one (a stick left in): nothing to do, nothing recorded.
    AlreadyRunning(String),
}

impl<'a> Request<'a> {
    /// An update from `file` as it is: newer only, copied in, named by its own name.
    pub fn file(file: &'a Path) -> Request<'a> {
        Request {
            file,
            named_version: None,
            move_in: false,
            shown_name: None,
        }
    }
}

/// Copies, checks and installs; `progress` gets a short line at each step and RAUC's percentages.
/// The outcome is recorded, unless the release is already running.
pub fn install(
    sys: &System,
    req: &Request,
    progress: &mut dyn FnMut(&str),
) -> Result<Done, String> {
    let result = stage_check_write(sys, req, progress);
    let line = match &result {
        Ok(Done::AlreadyRunning(_)) => return result,
        Ok(Done::Installed(v)) => format!("installed {v}: it runs after the next restart"),
        Err(e) => e.clone(),
    };
    if let Err(e) = sys.records.set_outcome(&line) {
        tracing::warn!("cannot keep the update's outcome: {e}");
    }
    result
}

fn stage_check_write(
    sys: &System,
    req: &Request,
    progress: &mut dyn FnMut(&str),
) -> Result<Done, String> {
    let refused = |why: String| format!("update refused: {}: {why}", name(req));
    let first = bundle::manifest(req.file, &sys.keyring).map_err(|r| refused(r.to_string()))?;
    if first.version == sys.running && req.named_version != Some(first.version.as_str()) {
        return Ok(Done::AlreadyRunning(first.version));
    }
    judge(sys, &first, req.named_version).map_err(refused)?;
    // From here on this boot's install owns the staging area (see Records::end_interrupted).
    sys.records
        .set_pending(&first.version)
        .map_err(|e| format!("update failed: {}: {e}", sys.records.dir().display()))?;
    let result = stage_and_write(sys, req, progress);
    if result.is_err() {
        sys.records.clear_pending();
    }
    result
}

fn stage_and_write(
    sys: &System,
    req: &Request,
    progress: &mut dyn FnMut(&str),
) -> Result<Done, String> {
    let refused = |why: String| format!("update refused: {}: {why}", name(req));
    let staged = if req.move_in {
        move_in(sys.records.dir(), req.file).map_err(refused)?
    } else {
        stage(sys.records.dir(), req.file, progress).map_err(refused)?
    };
    progress("checking the signature and every byte");
    let checked = bundle::inspect(&staged, &sys.keyring)
        .map_err(|r| r.to_string())
        .and_then(|info| judge(sys, &info, req.named_version).map(|()| info));
    let info = match checked {
        Ok(info) => info,
        Err(why) => {
            let _ = std::fs::remove_file(&staged);
            return Err(refused(why));
        }
    };
    progress(&format!("installing {} into the other slot", info.version));
    let written = rauc_install(&staged, progress);
    let _ = std::fs::remove_file(&staged);
    written.map_err(|e| format!("update failed: {}: {e}", name(req)))?;
    Ok(Done::Installed(info.version))
}

/// Is this bundle for this box, and newer (or named)?
pub fn judge(sys: &System, info: &BundleInfo, named: Option<&str>) -> Result<(), String> {
    if info.compatible != sys.compatible {
        return Err(format!(
            "it is for {}, this box is {} (another board or architecture)",
            info.compatible, sys.compatible
        ));
    }
    if named == Some(info.version.as_str()) {
        return Ok(());
    }
    if sys.has_failed(&info.version) {
        return Err(format!(
            "{} did not come up healthy on this box before; to try it again, name it: o4send \
             update --version {} FILE",
            info.version, info.version
        ));
    }
    match version::compare(&info.version, &sys.running) {
        Ordering::Greater => Ok(()),
        Ordering::Equal => Err(format!("{} is already running", info.version)),
        Ordering::Less => Err(format!(
            "{} is older than the running {}; to go back, name it: o4send update --version {} FILE",
            info.version, sys.running, info.version
        )),
    }
}

/// Copies `file` to `incoming.raucb` in `dir` (unless it is that file), after checking there is
/// room for it and a margin on the data partition.
fn stage(dir: &Path, file: &Path, progress: &mut dyn FnMut(&str)) -> Result<PathBuf, String> {
    let staged = dir.join("incoming.raucb");
    if file == staged {
        return Ok(staged);
    }
    let len = std::fs::metadata(file)
        .map_err(|e| format!("cannot read it: {e}"))?
        .len();
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let _ = std::fs::remove_file(&staged);
    let free = free_bytes(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let margin = 32 << 20;
    if len + margin > free {
        return Err(format!(
            "not enough room on the data partition: it needs {} MB, {} MB are free",
            (len + margin) >> 20,
            free >> 20
        ));
    }
    progress(&format!("copying {} MB onto the data partition", len >> 20));
    let tmp = dir.join(".incoming.tmp");
    let copied = std::fs::copy(file, &tmp)
        .and_then(|_| std::fs::File::open(&tmp)?.sync_all())
        .and_then(|()| std::fs::rename(&tmp, &staged));
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("copying it failed: {e}"));
    }
    Ok(staged)
}

/// The dashboard's upload, renamed into the staging place (the same file system).
fn move_in(dir: &Path, file: &Path) -> Result<PathBuf, String> {
    let staged = dir.join("incoming.raucb");
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    std::fs::rename(file, &staged).map_err(|e| format!("cannot take the upload: {e}"))?;
    Ok(staged)
}

fn free_bytes(dir: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes())?;
    // SAFETY: statvfs fills the struct it is given from a NUL-terminated path.
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut s) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(s.f_bavail as u64 * s.f_frsize as u64)
}

/// `rauc install`, its progress lines passed on; the error is RAUC's last line.
fn rauc_install(bundle: &Path, progress: &mut dyn FnMut(&str)) -> Result<(), String> {
    let mut child = Command::new("rauc")
        .arg("install")
        .arg(bundle)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("rauc: {e}"))?;
    let mut last = String::new();
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if !line.trim().is_empty() {
                progress(line.trim());
                last = line;
            }
        }
    }
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut err);
    }
    let status = child.wait().map_err(|e| format!("rauc: {e}"))?;
    if status.success() {
        return Ok(());
    }
    let why = err
        .lines()
        .chain(last.lines())
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("rauc install failed")
        .to_string();
    Err(crate::config::one_line(&why))
}

fn name(req: &Request) -> String {
    if let Some(n) = req.shown_name {
        return n.to_string();
    }
    let file = req.file;
    file.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::update::verity::Verity;

    fn sys() -> System {
        System {
            compatible: "o4send-pi".into(),
            keyring: PathBuf::from("/nonexistent"),
            running: "1.3.2".into(),
            records: Records::new(Path::new("/nonexistent")),
        }
    }

    fn info(compatible: &str, version: &str) -> BundleInfo {
        BundleInfo {
            compatible: compatible.into(),
            version: version.into(),
            verity: Verity {
                salt: vec![],
                root: [0; 32],
                tree_bytes: 0,
            },
            payload_bytes: 0,
        }
    }

    #[test]
    fn newer_installs_older_only_by_name() {
        assert_eq!(judge(&sys(), &info("o4send-pi", "1.4.0"), None), Ok(()));
        let older = judge(&sys(), &info("o4send-pi", "1.3.1"), None).unwrap_err();
        assert!(
            older.starts_with("1.3.1 is older than the running 1.3.2"),
            "{older}"
        );
        assert_eq!(
            judge(&sys(), &info("o4send-pi", "1.3.1"), Some("1.3.1")),
            Ok(())
        );
        assert!(judge(&sys(), &info("o4send-pi", "1.3.1"), Some("1.3.0")).is_err());
        let same = judge(&sys(), &info("o4send-pi", "1.3.2"), None).unwrap_err();
        assert_eq!(same, "1.3.2 is already running");
    }

    #[test]
    fn another_board_is_named() {
        let e = judge(&sys(), &info("o4send-pc", "9.0.0"), None).unwrap_err();
        assert!(
            e.contains("it is for o4send-pc, this box is o4send-pi"),
            "{e}"
        );
    }
}
