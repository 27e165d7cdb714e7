//! The few disk operations the atomic install rests on, each a thin wrapper over one Linux
//! call: fsync of a directory (a rename is durable only once its directory is synced), free
//! space (statvfs), an exclusive lock that dies with its process (flock), and an atomic swap of
//! two names (renameat2 with RENAME_EXCHANGE).

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;

/// Makes the entries of `dir` (creations, renames, removals) durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Bytes an unprivileged writer may still use on the filesystem holding `path`.
pub fn free_bytes(path: &Path) -> io::Result<u64> {
    let c = c_path(path)?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `st` a valid out-pointer.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(st.f_bavail as u64 * st.f_frsize as u64)
}

/// An exclusive lock on a file, released when dropped or when the process dies (even by
/// SIGKILL), so a crashed import never blocks the next one.
pub struct Lock(#[allow(dead_code)] File);

/// Takes the lock at `path` (created if missing); `None` when another process holds it.
pub fn try_lock(path: &Path) -> io::Result<Option<Lock>> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    // SAFETY: a valid open file descriptor.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
        return Ok(Some(Lock(file)));
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(None)
    } else {
        Err(e)
    }
}

/// Swaps the names `a` and `b` in one step: after a crash, each name is wholly the old or
/// wholly the other's.
pub fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    let (ca, cb) = (c_path(a)?, c_path(b)?);
    // SAFETY: both are valid NUL-terminated paths; renameat2 takes no other pointers.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Makes the symlink `link` point at `target` atomically: a new link beside it, renamed over it,
/// then the directory synced.
pub fn point(link: &Path, target: &Path) -> io::Result<()> {
    let mut name = link.file_name().unwrap_or_default().to_owned();
    name.push(".new-link");
    let fresh = link.with_file_name(name);
    match std::fs::remove_file(&fresh) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    std::os::unix::fs::symlink(target, &fresh)?;
    std::fs::rename(&fresh, link)?;
    sync_dir(parent(link))
}

/// The directory holding `path` (`.` for a bare name).
pub fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path holds a NUL byte"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchange_swaps_a_directory_and_a_symlink() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("content");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("a.txt"), "a").unwrap();
        let link = d.path().join("link");
        std::os::unix::fs::symlink("elsewhere", &link).unwrap();
        exchange(&link, &dir).unwrap();
        assert!(dir.symlink_metadata().unwrap().is_symlink());
        assert!(link.join("a.txt").exists());
    }

    #[test]
    fn a_second_lock_is_refused_until_the_first_is_dropped() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("lock");
        let first = try_lock(&path).unwrap();
        assert!(first.is_some());
        assert!(try_lock(&path).unwrap().is_none());
        drop(first);
        assert!(try_lock(&path).unwrap().is_some());
    }

    #[test]
    fn point_replaces_a_link_and_free_space_is_known() {
        let d = tempfile::tempdir().unwrap();
        let link = d.path().join("content");
        point(&link, Path::new("one")).unwrap();
        point(&link, Path::new("two")).unwrap();
        assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("two"));
        assert!(free_bytes(d.path()).unwrap() > 0);
    }
}
