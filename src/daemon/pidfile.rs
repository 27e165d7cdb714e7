//! The daemon's pid file, `<data_dir>/o4send.pid`: how `o4send import` and `o4send content
//! rollback` find the running daemon to make it reload (SIGHUP), under systemd or not.
//!
//! `o4send run` writes it once its signal handlers are installed (an earlier SIGHUP would kill
//! it) and removes it when it stops. A file left behind by a crash is harmless: a pid is only
//! signalled while `/proc/PID/comm` says `o4send`, so a reused pid is never hit.

use std::io;
use std::path::{Path, PathBuf};

/// The pid file of the daemon whose data directory is `data_dir`.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join("o4send.pid")
}

/// This process's pid file; removed when dropped.
pub struct PidFile(PathBuf);

impl Drop for PidFile {
    fn drop(&mut self) {
        if read(&self.0) == Some(std::process::id()) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

/// Writes this process's pid to `path` (via a rename, so a reader never sees half a number).
pub fn write(path: &Path) -> io::Result<PidFile> {
    let fresh = path.with_extension("pid.new");
    std::fs::write(&fresh, format!("{}\n", std::process::id()))?;
    std::fs::rename(&fresh, path)?;
    Ok(PidFile(path.to_path_buf()))
}

/// What became of a reload request.
#[derive(Debug, PartialEq, Eq)]
pub enum Reload {
    /// SIGHUP sent to this pid.
    Signalled(u32),
    /// No daemon runs: it reads the new content when it starts.
    NoDaemon,
}

/// Sends SIGHUP to the daemon named in `path`, if one runs.
pub fn reload(path: &Path) -> Result<Reload, String> {
    let Some(pid) = read(path) else {
        return Ok(Reload::NoDaemon);
    };
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    if comm.trim() != "o4send" {
        return Ok(Reload::NoDaemon);
    }
    let Ok(raw) = libc::pid_t::try_from(pid) else {
        return Ok(Reload::NoDaemon);
    };
    // SAFETY: kill takes no pointers.
    if unsafe { libc::kill(raw, libc::SIGHUP) } == 0 {
        return Ok(Reload::Signalled(pid));
    }
    match io::Error::last_os_error() {
        e if e.raw_os_error() == Some(libc::ESRCH) => Ok(Reload::NoDaemon),
        e => Err(format!("cannot signal the daemon (pid {pid}): {e}")),
    }
}

fn read(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_or_foreign_pid_is_never_signalled() {
        let d = tempfile::tempdir().unwrap();
        let p = path(d.path());
        assert_eq!(reload(&p).unwrap(), Reload::NoDaemon);
        // This test process is not called o4send: its pid must not be signalled.
        let file = write(&p).unwrap();
        assert_eq!(reload(&p).unwrap(), Reload::NoDaemon);
        std::fs::write(&p, "999999999\n").unwrap();
        assert_eq!(reload(&p).unwrap(), Reload::NoDaemon);
        std::fs::write(&p, format!("{}\n", std::process::id())).unwrap();
        drop(file);
        assert!(!p.exists(), "the pid file is removed by its owner");
    }
}
