//! The one line `o4send status`, the banner and the dashboard show about the system itself: the
//! slot it booted, its release, and how the last update went.

use std::path::Path;

/// "slot B, release 1.4.0: updated to 1.4.0", read under `root` (`/` on the box). None on a
/// system that was not booted from a slot and never saw an update (a development machine).
pub fn line(root: &Path) -> Option<String> {
    let slot = super::booted_under(root);
    let release =
        std::fs::read_to_string(root.join(super::version::OS_RELEASE.trim_start_matches('/')))
            .ok()
            .and_then(|t| super::version::image_version(&t));
    let records = super::trial::Records::new(&root.join(super::trial::DIR.trim_start_matches('/')));
    let outcome = records.outcome();
    if slot.is_none() && outcome.is_none() {
        return None;
    }
    let mut line = match slot {
        Some(s) => format!("slot {s}"),
        None => "no slot".to_string(),
    };
    if let Some(r) = release {
        line.push_str(&format!(", release {r}"));
    }
    if let Some(t) = records.trial() {
        line.push_str(&format!(": {} on trial until it runs healthy", t.version));
    } else if let Some(o) = outcome {
        line.push_str(&format!(": {o}"));
    }
    Some(line)
}

/// An update was installed into the other slot and waits for a restart (read under `root`).
pub fn restart_due(root: &Path) -> bool {
    let Some(booted) = super::booted_under(root) else {
        return false;
    };
    super::trial::Records::new(&root.join(super::trial::DIR.trim_start_matches('/')))
        .waiting(Some(booted))
        .is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_release_and_outcome_in_one_line() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        assert_eq!(line(r), None);
        std::fs::create_dir_all(r.join("proc")).unwrap();
        std::fs::write(r.join("proc/cmdline"), "ro rauc.slot=B quiet\n").unwrap();
        std::fs::create_dir_all(r.join("usr/lib")).unwrap();
        std::fs::write(r.join("usr/lib/os-release"), "IMAGE_VERSION=1.4.0\n").unwrap();
        assert_eq!(line(r).as_deref(), Some("slot B, release 1.4.0"));
        let records = super::super::trial::Records::new(&r.join("var/lib/o4send/update"));
        records.set_outcome("updated to 1.4.0").unwrap();
        assert_eq!(
            line(r).as_deref(),
            Some("slot B, release 1.4.0: updated to 1.4.0")
        );
    }
}
