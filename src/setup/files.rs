//! Writing the files other programs read: each one whole or not at all (written aside, synced,
//! renamed), with the owner and mode its reader needs, all under one root directory.

use crate::config::Config;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The daemon's user and group.
const DAEMON: &str = "o4send";

/// The files `o4send setup` owns under one root.
pub struct SystemFiles {
    root: PathBuf,
}

impl SystemFiles {
    pub fn new(root: &Path) -> SystemFiles {
        SystemFiles {
            root: root.to_path_buf(),
        }
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// The settings in force (readable by the daemon's group only: they may hold secrets), the
    /// captive page's copy without secrets, and the verdict line.
    pub fn write_config(&self, cfg: &Config, line: &str) -> Result<(), String> {
        let group = self.id_of("etc/group", DAEMON);
        let header = "# Written by `o4send setup` at every boot and reload: the image's defaults with the\n\
                      # operator's o4send.toml over them. Edit the file on the boot partition, not this one.\n";
        let text = format!("{header}{}", cfg.to_toml());
        let owner = group.map(|g| (0, g));
        write_atomic(
            &self.path(super::EFFECTIVE_CONFIG),
            text.as_bytes(),
            0o640,
            owner,
        )?;
        let portal = format!(
            "{header}# The captive page's copy: every secret taken out.\n{}",
            cfg.without_secrets().to_toml()
        );
        write_atomic(
            &self.path(super::PORTAL_CONFIG),
            portal.as_bytes(),
            0o644,
            None,
        )?;
        write_atomic(
            &self.path(super::CONFIG_STATUS),
            format!("{line}\n").as_bytes(),
            0o644,
            None,
        )
    }

    /// The console banner, in a directory the daemon may rewrite it in.
    pub fn write_banner(&self, text: &str) -> Result<(), String> {
        let path = self.path(crate::setup::banner::ISSUE);
        let dir = path.parent().expect("the banner has a directory");
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        let user = self.id_of("etc/passwd", DAEMON);
        let group = self.id_of("etc/group", DAEMON);
        if let (Some(u), Some(g)) = (user, group) {
            std::os::unix::fs::chown(dir, Some(u), Some(g)).map_err(|e| io_error(dir, e))?;
        }
        set_mode(dir, 0o755)?;
        write_atomic(&path, text.as_bytes(), 0o644, user.zip(group))
    }

    /// Writes `text`, or removes the file when there is nothing to say.
    pub fn write_or_remove(
        &self,
        relative: &str,
        text: Option<&str>,
        mode: u32,
    ) -> Result<(), String> {
        let path = self.path(relative);
        match text {
            Some(t) => write_atomic(&path, t.as_bytes(), mode, None),
            None => match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_error(&path, e)),
                _ => Ok(()),
            },
        }
    }

    /// The numeric id of `name` in the root's passwd or group file.
    fn id_of(&self, table: &str, name: &str) -> Option<u32> {
        let text = std::fs::read_to_string(self.root.join(table)).ok()?;
        text.lines()
            .map(|l| l.split(':').collect::<Vec<_>>())
            .find(|f| f.first() == Some(&name))
            .and_then(|f| f.get(2)?.parse().ok())
    }
}

/// Writes `bytes` to `path` whole: a sibling temp file, synced, then renamed over it.
pub fn write_atomic(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    owner: Option<(u32, u32)>,
) -> Result<(), String> {
    let dir = path.parent().expect("a file has a directory");
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    let name = path
        .file_name()
        .expect("a file has a name")
        .to_string_lossy();
    let tmp = dir.join(format!(".{name}.new"));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .map_err(|e| io_error(&tmp, e))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| io_error(&tmp, e))?;
    set_mode(&tmp, mode)?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(&tmp, Some(uid), Some(gid)).map_err(|e| io_error(&tmp, e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| io_error(path, e))
}

fn set_mode(path: &Path, mode: u32) -> Result<(), String> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| io_error(path, e))
}

fn io_error(path: &Path, e: std::io::Error) -> String {
    format!("{}: {e}", path.display())
}
