//! How the hotspot's visits reach the log: the captive page (`o4send portal`, its own sandboxed
//! process that may not write the log) drops what visitors did into a spool directory, a small
//! file of JSON lines every few seconds; the daemon, the log's one writer, reads each file into
//! the log and removes it only after the commit.
//!
//! Nothing is lost and nothing counted twice: a file appears whole (written aside, synced, then
//! renamed into place), survives a daemon that is down or a full disk until it is read, and
//! every event carries the portal's unique id, which the log keeps once however often a file is
//! read. A line that is not an event is named in the journal and skipped, never the file.

use crate::store::{Store, WifiRecord};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The spool directory under the data directory.
pub fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("visits")
}

/// Writes `events` as one spool file; nothing when there are none.
pub fn write(dir: &Path, name: &str, events: &[WifiRecord]) -> std::io::Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    let mut text = Vec::new();
    for e in events {
        serde_json::to_writer(&mut text, e)?;
        text.push(b'\n');
    }
    let aside = dir.join(format!(".{name}.tmp"));
    let mut f = std::fs::File::create(&aside)?;
    f.write_all(&text)?;
    f.sync_all()?;
    std::fs::rename(&aside, dir.join(format!("{name}.jsonl")))?;
    std::fs::File::open(dir)?.sync_all()
}

/// What one pass over the spool did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Drained {
    pub files: usize,
    pub events: usize,
    /// Lines that were not events (named in the journal).
    pub skipped: usize,
}

/// Reads every spool file into the log, oldest first, each removed after its commit. Stops at
/// the first file the log could not take (it stays for the next pass).
pub async fn drain(dir: &Path, store: &Store) -> Result<Drained, String> {
    let mut done = Drained::default();
    for path in spooled(dir)? {
        let text = match std::fs::read(&path) {
            Ok(t) => t,
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let (events, skipped) = parse(&path, &text);
        let n = events.len();
        store
            .wifi_events(events)
            .await
            .map_err(|e| format!("{}: not written to the log, kept: {e}", path.display()))?;
        std::fs::remove_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        done.files += 1;
        done.events += n;
        done.skipped += skipped;
    }
    Ok(done)
}

/// The spool's finished files, oldest first (their names start with the time they were written).
fn spooled(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("{}: {e}", dir.display())),
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    Ok(files)
}

/// The events of one file, and how many lines were not events.
pub fn parse(path: &Path, text: &[u8]) -> (Vec<WifiRecord>, usize) {
    let mut events = Vec::new();
    let mut skipped = 0;
    for (i, line) in text.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<WifiRecord>(line) {
            Ok(e) => events.push(e),
            Err(e) => {
                skipped += 1;
                tracing::warn!(
                    "{} line {}: not a visit, skipped: {e}",
                    path.display(),
                    i + 1
                );
            }
        }
    }
    (events, skipped)
}
