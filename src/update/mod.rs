//! System updates: two root slots, chosen at boot by U-Boot's script, installed by RAUC.
//!
//! This module is the o4send side of that: the boot state the script and the running system
//! share ([`bootstate`]), the disk it lives on, and the health test a new system passes before it
//! is kept ([`health`]).

pub mod bootstate;
pub mod bundle;
pub mod health;
pub mod install;
pub mod spool;
pub mod status;
pub mod trial;
pub mod verity;
pub mod version;

use std::io;
use std::path::{Path, PathBuf};

/// The whole disk that holds the partition mounted at `mount_point` (the boot partition at
/// `/boot`): the boot state lives in that disk's raw sectors.
pub fn disk_of(mount_point: &Path) -> io::Result<PathBuf> {
    let mounts = std::fs::read_to_string("/proc/self/mounts")?;
    let source = mounts
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            Some((f.next()?, f.next()?))
        })
        .filter(|(_, target)| Path::new(target) == mount_point)
        .map(|(source, _)| source)
        .next_back()
        .ok_or_else(|| {
            io::Error::other(format!("nothing is mounted on {}", mount_point.display()))
        })?;
    let part = std::fs::canonicalize(source)?;
    let name = part
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| io::Error::other(format!("{source} is not a block device")))?;
    let parent = std::fs::canonicalize(Path::new("/sys/class/block").join(name).join(".."))?;
    let disk = parent
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| *n != "block")
        .ok_or_else(|| {
            io::Error::other(format!(
                "{source} ({name}) is a whole disk, not a partition"
            ))
        })?;
    Ok(Path::new("/dev").join(disk))
}

/// The slot the system under `root` (`/` on the box) was booted from, from its kernel command
/// line.
pub fn booted_under(root: &Path) -> Option<bootstate::Slot> {
    booted_slot(&std::fs::read_to_string(root.join("proc/cmdline")).unwrap_or_default())
}

/// The slot this system was booted from: `rauc.slot=` on the kernel's command line, which the
/// boot script sets.
pub fn booted_slot(cmdline: &str) -> Option<bootstate::Slot> {
    cmdline
        .split_whitespace()
        .find_map(|w| w.strip_prefix("rauc.slot="))
        .and_then(bootstate::Slot::parse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_booted_slot_from_the_command_line() {
        assert_eq!(
            booted_slot("ro rootwait rauc.slot=B quiet"),
            Some(bootstate::Slot::B)
        );
        assert_eq!(booted_slot("ro rootwait"), None);
        assert_eq!(booted_slot("rauc.slot=C"), None);
    }
}
