//! Where the dashboard hands a system update to the root side, and asks for the restart: the
//! dashboard runs as the unprivileged `o4send` user and cannot install, so it writes the uploaded
//! bundle (and later a restart request) into this folder, and `o4send-update.path` starts
//! `o4send update --spool` as root, which takes them through the one install path. A file here
//! is never trusted: the bundle is checked like any other, the request is one strict line.

use std::io;
use std::path::{Path, PathBuf};

/// The folder under the data directory (`/var/lib/o4send/update-spool` on the box).
pub const SPOOL: &str = "update-spool";
const UPLOAD: &str = "upload.raucb";
const PART: &str = ".upload.part";
const RESTART: &str = "restart";
const NAME: &str = "upload.name";

/// When the box restarts into an installed update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestartAt {
    Now,
    /// The next time the box's clock shows this hour and minute.
    At(u8, u8),
}

impl RestartAt {
    /// "now" or "HH:MM".
    pub fn parse(s: &str) -> Result<RestartAt, String> {
        let s = s.trim();
        if s == "now" {
            return Ok(RestartAt::Now);
        }
        let bad = || format!("{s:?}: a restart time is \"now\" or HH:MM");
        let (h, m) = s.split_once(':').ok_or_else(bad)?;
        let (h, m): (u8, u8) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if h > 23 || m > 59 || s.len() != 5 {
            return Err(bad());
        }
        Ok(RestartAt::At(h, m))
    }

    pub fn text(self) -> String {
        match self {
            RestartAt::Now => "now".into(),
            RestartAt::At(h, m) => format!("{h:02}:{m:02}"),
        }
    }
}

pub struct Spool {
    dir: PathBuf,
}

impl Spool {
    /// The spool under a data directory (the dashboard's view).
    pub fn new(data_dir: &Path) -> Spool {
        Spool::at(&data_dir.join(SPOOL))
    }

    /// The spool folder itself (the root side's view).
    pub fn at(dir: &Path) -> Spool {
        Spool {
            dir: dir.to_path_buf(),
        }
    }

    /// Where an upload is written while it arrives (the root side never takes a partial one).
    pub fn part(&self) -> io::Result<PathBuf> {
        std::fs::create_dir_all(&self.dir)?;
        Ok(self.dir.join(PART))
    }

    /// The upload arrived whole: hand it over.
    pub fn hand_over(&self) -> io::Result<()> {
        std::fs::rename(self.dir.join(PART), self.dir.join(UPLOAD))
    }

    /// The uploaded file's own name, for the messages (one plain line, at most 100 characters).
    pub fn set_name(&self, name: &str) -> io::Result<()> {
        let clean: String = name.chars().filter(|c| !c.is_control()).take(100).collect();
        std::fs::write(self.dir.join(NAME), clean)
    }

    pub fn name(&self) -> Option<String> {
        let meta = std::fs::symlink_metadata(self.dir.join(NAME)).ok()?;
        if !meta.file_type().is_file() || meta.len() > 400 {
            return None;
        }
        let text = std::fs::read_to_string(self.dir.join(NAME)).ok()?;
        let clean: String = text.chars().filter(|c| !c.is_control()).take(100).collect();
        Some(clean).filter(|n| !n.is_empty())
    }

    /// The upload and its name, once the root side is done with them.
    pub fn clear_upload(&self) {
        let _ = std::fs::remove_file(self.dir.join(UPLOAD));
        let _ = std::fs::remove_file(self.dir.join(NAME));
    }

    pub fn discard_part(&self) {
        let _ = std::fs::remove_file(self.dir.join(PART));
    }

    /// An upload waiting for the root side: `Some` only for a plain file (never a link).
    pub fn upload(&self) -> Option<PathBuf> {
        let path = self.dir.join(UPLOAD);
        let meta = std::fs::symlink_metadata(&path).ok()?;
        meta.file_type().is_file().then_some(path)
    }

    pub fn is_busy(&self) -> bool {
        self.dir.join(UPLOAD).exists()
    }

    pub fn request_restart(&self, at: RestartAt) -> io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let tmp = self.dir.join(".restart.tmp");
        std::fs::write(&tmp, at.text() + "\n")?;
        std::fs::rename(tmp, self.dir.join(RESTART))
    }

    /// The restart asked for, taken (removed); a malformed request is removed and named.
    pub fn take_restart(&self) -> Option<Result<RestartAt, String>> {
        let path = self.dir.join(RESTART);
        let meta = std::fs::symlink_metadata(&path).ok()?;
        let text = if meta.file_type().is_file() && meta.len() < 64 {
            std::fs::read_to_string(&path).map_err(|e| e.to_string())
        } else {
            Err("not a short plain file".into())
        };
        let _ = std::fs::remove_file(&path);
        Some(text.and_then(|t| RestartAt::parse(&t)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_times() {
        assert_eq!(RestartAt::parse("now"), Ok(RestartAt::Now));
        assert_eq!(RestartAt::parse("07:05\n"), Ok(RestartAt::At(7, 5)));
        for bad in ["24:00", "7:5", "12:60", "soon", "", "12:00; reboot"] {
            assert!(RestartAt::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_upload_is_handed_over_whole_and_a_link_is_not_taken() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::new(dir.path());
        std::fs::write(spool.part().unwrap(), b"bundle").unwrap();
        assert_eq!(spool.upload(), None, "a part is not an upload");
        spool.hand_over().unwrap();
        assert_eq!(spool.upload(), Some(dir.path().join(SPOOL).join(UPLOAD)));
        std::fs::remove_file(dir.path().join(SPOOL).join(UPLOAD)).unwrap();
        std::os::unix::fs::symlink("/etc/shadow", dir.path().join(SPOOL).join(UPLOAD)).unwrap();
        assert_eq!(spool.upload(), None);
        spool.request_restart(RestartAt::At(3, 0)).unwrap();
        assert_eq!(spool.take_restart(), Some(Ok(RestartAt::At(3, 0))));
        assert_eq!(spool.take_restart(), None, "taken once");
    }
}
