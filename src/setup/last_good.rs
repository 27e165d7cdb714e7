//! The last operator file that passed every check, kept on the data partition so that a broken
//! edit (or a card pulled out mid-save) leaves the box on settings that worked.

use crate::config::OperatorFile;
use std::path::{Path, PathBuf};

/// Under the root; root-only, since the file holds passphrases.
const DIR: &str = "var/lib/o4send-setup";
const FILE: &str = "last-good.toml";

pub struct LastGood {
    dir: PathBuf,
}

impl LastGood {
    pub fn new(root: &Path) -> LastGood {
        LastGood {
            dir: root.join(DIR),
        }
    }

    /// Keeps `text` (atomically; unchanged text is not rewritten).
    pub fn save(&self, text: &str) -> Result<(), String> {
        let path = self.dir.join(FILE);
        if std::fs::read_to_string(&path).is_ok_and(|old| old == text) {
            return Ok(());
        }
        super::files::write_atomic(&path, text.as_bytes(), 0o600, None)
    }

    /// The kept text, as if read from `shown_as`, and when it was saved.
    pub fn load(&self, shown_as: &Path) -> Option<(OperatorFile, String)> {
        let path = self.dir.join(FILE);
        let text = std::fs::read_to_string(&path).ok()?;
        let saved = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| jiff::Timestamp::try_from(t).ok())
            .map_or_else(
                || "at an unknown time".into(),
                |t| t.strftime("%Y-%m-%d %H:%M UTC").to_string(),
            );
        let op = OperatorFile {
            path: shown_as.to_path_buf(),
            text,
        };
        Some((op, saved))
    }
}
