//! The record that carries an update across its reboot: which slot is on trial and what it came
//! from (written when RAUC makes it the primary slot), and the one-line outcome `o4send status`
//! and the dashboard show ("updated to 1.4.0", "1.4.0 did not come up healthy: back on 1.3.2").
//!
//! It lives on the data partition, which both systems mount. The trial file is plain `key=value`
//! lines because a shell script reads it too: `trial-deadline` (o4send-trial.service) restarts a
//! slot on trial that has not been kept in time, and must not depend on the new o4send to do it.

use super::bootstate::Slot;
use std::io;
use std::path::{Path, PathBuf};

/// Where the update records live.
pub const DIR: &str = "/var/lib/o4send/update";

/// A slot booted for the first time after an install, not yet kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trial {
    pub slot: Slot,
    pub version: String,
    pub from: Slot,
    pub from_version: String,
    /// Seconds after its start by which it must have been kept (o4send-trial.service).
    pub deadline_secs: u64,
}

impl Trial {
    fn to_text(&self) -> String {
        format!(
            "slot={}\nversion={}\nfrom={}\nfrom_version={}\ndeadline={}\n",
            self.slot, self.version, self.from, self.from_version, self.deadline_secs
        )
    }

    fn parse(text: &str) -> Option<Trial> {
        let get = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        };
        Some(Trial {
            slot: Slot::parse(get("slot")?)?,
            version: get("version")?.to_string(),
            from: Slot::parse(get("from")?)?,
            from_version: get("from_version")?.to_string(),
            deadline_secs: get("deadline")?.parse().ok()?,
        })
    }
}

/// The update records in one directory.
pub struct Records {
    dir: PathBuf,
}

impl Records {
    pub fn new(dir: &Path) -> Records {
        Records {
            dir: dir.to_path_buf(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The version being installed (and in which boot), for the trial record RAUC's set-primary
    /// writes and to tell an install the power cut short.
    pub fn set_pending(&self, version: &str) -> io::Result<()> {
        self.write("pending", &format!("{} {}\n", one_word(version), boot_id()))
    }

    pub fn clear_pending(&self) {
        let _ = std::fs::remove_file(self.dir.join("pending"));
    }

    pub fn pending(&self) -> Option<String> {
        self.pending_and_boot().map(|(v, _)| v)
    }

    fn pending_and_boot(&self) -> Option<(String, String)> {
        let text = std::fs::read_to_string(self.dir.join("pending")).ok()?;
        let mut words = text.split_whitespace();
        let version = words.next()?.to_string();
        Some((version, words.next().unwrap_or_default().to_string()))
    }

    /// An install begun in an earlier boot that never reached its end (the power went while
    /// RAUC wrote): its outcome said, its leftovers removed. Returns the outcome line.
    pub fn end_interrupted(&self) -> io::Result<Option<String>> {
        let Some((version, boot)) = self.pending_and_boot() else {
            return Ok(None);
        };
        if boot == boot_id() || self.trial().is_some() {
            return Ok(None);
        }
        for leftover in ["pending", "incoming.raucb", ".incoming.tmp"] {
            let _ = std::fs::remove_file(self.dir.join(leftover));
        }
        let line = format!(
            "installing {version} was cut short (the power went?): this system was kept; install it again"
        );
        self.set_outcome(&line)?;
        Ok(Some(line))
    }

    /// A release that fell back on this box: a stick left in does not install it again.
    pub fn add_failed(&self, version: &str) -> io::Result<()> {
        let mut failed = self.failed();
        if !failed.iter().any(|v| v == version) {
            failed.push(one_word(version));
        }
        self.write("failed", &(failed.join("\n") + "\n"))
    }

    pub fn failed(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("failed"))
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string)
            .collect()
    }

    pub fn begin(&self, trial: &Trial) -> io::Result<()> {
        self.write("trial", &trial.to_text())?;
        let _ = std::fs::remove_file(self.dir.join("pending"));
        Ok(())
    }

    pub fn trial(&self) -> Option<Trial> {
        Trial::parse(&std::fs::read_to_string(self.dir.join("trial")).ok()?)
    }

    /// The installed update that waits for a restart: a trial of a slot other than `booted`.
    pub fn waiting(&self, booted: Option<Slot>) -> Option<Trial> {
        self.trial().filter(|t| Some(t.slot) != booted)
    }

    /// The trial is over, with this outcome.
    pub fn end(&self, outcome: &str) -> io::Result<()> {
        self.set_outcome(outcome)?;
        match std::fs::remove_file(self.dir.join("trial")) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// What an install is doing now, one line (the dashboard shows it while it runs).
    pub fn set_progress(&self, line: &str) {
        // Shown while it lasts, cleared at the end: renamed into place, not synced to the card
        // (RAUC prints a line per percent).
        let tmp = self.dir.join(".progress.tmp");
        let text = format!("{}\n", crate::config::one_line(line));
        let written = std::fs::create_dir_all(&self.dir)
            .and_then(|()| std::fs::write(&tmp, text))
            .and_then(|()| std::fs::rename(&tmp, self.dir.join("progress")));
        if let Err(e) = written {
            tracing::debug!("update progress: {e}");
        }
    }

    pub fn progress(&self) -> Option<String> {
        let text = std::fs::read_to_string(self.dir.join("progress")).ok()?;
        Some(text.trim().to_string()).filter(|l| !l.is_empty())
    }

    pub fn clear_progress(&self) {
        let _ = std::fs::remove_file(self.dir.join("progress"));
    }

    /// The last update's outcome, one line.
    pub fn set_outcome(&self, line: &str) -> io::Result<()> {
        self.write("outcome", &format!("{}\n", crate::config::one_line(line)))
    }

    pub fn outcome(&self) -> Option<String> {
        let text = std::fs::read_to_string(self.dir.join("outcome")).ok()?;
        Some(text.trim().to_string()).filter(|l| !l.is_empty())
    }

    fn write(&self, name: &str, text: &str) -> io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let tmp = self.dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, text)?;
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, self.dir.join(name))?;
        std::fs::File::open(&self.dir)?.sync_all()
    }
}

/// What the booted slot makes of a trial once it has run healthy: the outcome line, and the slot
/// that failed (to be taken out of the boot order) when this is the fall back.
pub fn verdict(trial: &Trial, booted: Slot) -> (String, Option<Slot>) {
    if booted == trial.slot {
        (format!("updated to {}", trial.version), None)
    } else {
        (
            format!(
                "{} did not come up healthy: back on {}",
                trial.version, trial.from_version
            ),
            Some(trial.slot),
        )
    }
}

/// This boot's id (the kernel makes a new one at every boot).
fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn one_word(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trial() -> Trial {
        Trial {
            slot: Slot::B,
            version: "1.4.0".into(),
            from: Slot::A,
            from_version: "1.3.2".into(),
            deadline_secs: 900,
        }
    }

    #[test]
    fn a_trial_survives_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let r = Records::new(dir.path());
        r.set_pending("1.4.0").unwrap();
        assert_eq!(r.pending().as_deref(), Some("1.4.0"));
        r.begin(&trial()).unwrap();
        assert_eq!(r.trial(), Some(trial()));
        assert_eq!(r.pending(), None);
        let text = std::fs::read_to_string(dir.path().join("trial")).unwrap();
        assert!(
            text.contains("slot=B\n") && text.contains("deadline=900\n"),
            "{text}"
        );
        r.end("updated to 1.4.0").unwrap();
        assert_eq!(r.trial(), None);
        assert_eq!(r.outcome().as_deref(), Some("updated to 1.4.0"));
    }

    #[test]
    fn an_install_cut_short_in_an_earlier_boot() {
        let dir = tempfile::tempdir().unwrap();
        let r = Records::new(dir.path());
        r.set_pending("1.4.0").unwrap();
        assert_eq!(
            r.end_interrupted().unwrap(),
            None,
            "this boot's install is not over"
        );
        std::fs::write(dir.path().join("pending"), "1.4.0 an-earlier-boot\n").unwrap();
        std::fs::write(dir.path().join("incoming.raucb"), b"half").unwrap();
        let line = r.end_interrupted().unwrap().unwrap();
        assert!(line.starts_with("installing 1.4.0 was cut short"), "{line}");
        assert_eq!(r.outcome(), Some(line));
        assert!(!dir.path().join("incoming.raucb").exists() && r.pending().is_none());
    }

    #[test]
    fn failed_releases_are_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let r = Records::new(dir.path());
        r.add_failed("1.4.0").unwrap();
        r.add_failed("1.4.0").unwrap();
        r.add_failed("1.4.1").unwrap();
        assert_eq!(r.failed(), ["1.4.0", "1.4.1"]);
    }

    #[test]
    fn the_verdicts() {
        assert_eq!(
            verdict(&trial(), Slot::B),
            ("updated to 1.4.0".into(), None)
        );
        assert_eq!(
            verdict(&trial(), Slot::A),
            (
                "1.4.0 did not come up healthy: back on 1.3.2".into(),
                Some(Slot::B)
            )
        );
    }
}
