//! The daemon's live state, for the processes that watch it: the dashboard and the status LED.
//!
//! Why a file: they are other processes in other sandboxes, and nothing they do may hold up the
//! pushes. The daemon writes `state.json` into the live directory (tmpfs, `/run/o4send/live`)
//! every second, by rename, so a reader sees one whole state or the one before; a reader that
//! finds it older than [`STALE_MS`] knows the daemon is stopped or hung. Nothing is read back:
//! the channel goes one way. `o4send import` leaves its verdict on a stick beside it
//! (`stick.json`), for the LED and the dashboard. The LED's process reads nothing else, so it
//! lives here too ([`led`]).

pub mod led;

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A state older than this means the daemon is not running (or hung).
pub const STALE_MS: i64 = 10_000;
const STATE: &str = "state.json";
const STICK: &str = "stick.json";

/// What the daemon is doing now.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveState {
    /// When this was written (Unix ms).
    pub at_ms: i64,
    pub started_ms: i64,
    pub pid: u32,
    pub appliance: String,
    pub radios: Vec<RadioLive>,
    pub in_flight: usize,
    /// Attempts ended since the daemon started.
    pub attempts: u64,
    pub last_sighting_ms: Option<i64>,
    pub last_push_end_ms: Option<i64>,
    /// Loops the watchdog finds silent, in words (empty: healthy).
    pub stalls: Vec<String>,
    pub clock_synced: bool,
    pub sync: SyncLive,
    pub campaign: CampaignLive,
    /// The verdict on the boot partition's settings (`o4send setup`).
    pub config_status: Option<String>,
    /// The system's slot, release and last update (`update::status`).
    #[serde(default)]
    pub system_status: Option<String>,
    /// An installed system update waits for a restart (`update::status::restart_due`).
    #[serde(default)]
    pub restart_due: bool,
    /// The phone lists in force: config and dashboard together.
    pub allow: Vec<String>,
    pub deny: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RadioLive {
    pub id: String,
    /// `scan`, `push` or `both`.
    pub role: String,
    pub slots: usize,
    pub busy: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncLive {
    pub on: bool,
    pub backlog: Option<u64>,
    pub last_success_ms: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CampaignLive {
    pub name: String,
    pub sender_name: String,
    pub items: Vec<ItemLive>,
    /// `2026-12-01`, or none: open-ended.
    pub start: Option<String>,
    pub end: Option<String>,
    /// Daily windows (`09:00-18:00`); none: all day.
    pub hours: Vec<String>,
    /// Whether pushing is allowed now (inside the dates and the hours).
    pub open_now: bool,
    /// The rules in words and the A/B tests.
    #[serde(default)]
    pub rules: crate::content::rules::RulesSummary,
    /// Every capped item and where it stands, in words (`CapState::line`: a reached cap ends
    /// in `: capped`).
    #[serde(default)]
    pub caps: Vec<String>,
    /// How many phones each rule kept from each item since the campaign started, in words.
    #[serde(default)]
    pub held: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ItemLive {
    pub name: String,
    pub mime: String,
    pub bytes: u64,
}

/// The verdict of the last stick, as `o4send import` left it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StickNote {
    pub at_ms: i64,
    pub accepted: bool,
    /// The import's one line.
    pub line: String,
}

impl LiveState {
    /// Whether the daemon wrote this recently enough to be believed at `now_ms`.
    pub fn fresh(&self, now_ms: i64) -> bool {
        now_ms - self.at_ms <= STALE_MS
    }

    /// What is wrong that the operator must fix, in words (empty: nothing).
    pub fn faults(&self) -> Vec<String> {
        let mut faults: Vec<String> = self
            .stalls
            .iter()
            .map(|s| format!("stalled: {s}"))
            .collect();
        if !self.radios.iter().any(|r| r.role != "scan") {
            faults.push("no radio can push".into());
        }
        if self.campaign.items.is_empty() {
            faults.push("no content: the campaign has no items".into());
        }
        if let Some(c) = self
            .config_status
            .as_deref()
            .filter(|c| !c.starts_with("ok"))
        {
            faults.push(format!("settings: {c}"));
        }
        faults
    }
}

/// The live directory's state file.
pub fn state_path(dir: &Path) -> PathBuf {
    dir.join(STATE)
}

/// Writes the state, whole or not at all.
pub fn write(dir: &Path, state: &LiveState) -> std::io::Result<()> {
    write_json(dir, STATE, state)
}

/// The daemon's last state; one line naming the cause when there is none to read.
pub fn read(dir: &Path) -> Result<LiveState, String> {
    read_json(dir, STATE).map_err(|e| format!("the daemon's live state: {e}"))
}

/// Leaves the verdict on a stick (for `o4send import`).
pub fn note_stick(dir: &Path, note: &StickNote) -> std::io::Result<()> {
    write_json(dir, STICK, note)
}

/// The last stick's verdict, if any.
pub fn stick(dir: &Path) -> Option<StickNote> {
    read_json(dir, STICK).ok()
}

fn write_json<T: Serialize>(dir: &Path, name: &str, value: &T) -> std::io::Result<()> {
    let bytes = serde_json::to_vec(value).map_err(std::io::Error::other)?;
    let tmp = dir.join(format!(".{name}.{}", std::process::id()));
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(&bytes)?;
    drop(file);
    std::fs::rename(&tmp, dir.join(name))
}

fn read_json<T: for<'de> Deserialize<'de>>(dir: &Path, name: &str) -> Result<T, String> {
    let path = dir.join(name);
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_survives_the_round_trip_and_goes_stale() {
        let dir = tempfile::tempdir().unwrap();
        let state = LiveState {
            at_ms: 1_000,
            appliance: "booth <7>".into(),
            radios: vec![RadioLive {
                id: "hci0".into(),
                role: "both".into(),
                slots: 2,
                busy: 1,
            }],
            ..LiveState::default()
        };
        write(dir.path(), &state).unwrap();
        let back = read(dir.path()).unwrap();
        assert_eq!(back, state);
        assert!(back.fresh(1_000 + STALE_MS));
        assert!(!back.fresh(1_001 + STALE_MS));
        assert_eq!(back.faults(), vec!["no content: the campaign has no items"]);
    }

    #[test]
    fn a_missing_state_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let e = read(dir.path()).unwrap_err();
        assert!(e.contains("state.json"), "{e}");
    }
}
