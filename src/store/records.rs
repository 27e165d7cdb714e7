//! What the rest of the daemon hands to the store: one value per thing that happened.
//!
//! Records are plain data with their own timestamps, so a record queued during a slow commit
//! keeps the moment it happened, not the moment it was written.

use crate::model::clock::Stamp;
use crate::model::device::{BdAddr, DeviceName};
use crate::model::outcome::Outcome;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// One inquiry result: a radio saw a device.
#[derive(Clone, Debug, PartialEq)]
pub struct SightingRecord {
    pub addr: BdAddr,
    pub name: DeviceName,
    /// The 24-bit Class of Device.
    pub class: u32,
    pub rssi: Option<i16>,
    pub radio: Arc<str>,
    pub at: Stamp,
}

/// One finished push attempt.
#[derive(Clone, Debug, PartialEq)]
pub struct AttemptRecord {
    pub addr: BdAddr,
    /// SHA-256 of the content, lower-case hex.
    pub item_hash: String,
    /// MD5 of the content, lower-case hex (reports in the fleet database use it).
    pub item_md5: String,
    pub item_name: String,
    pub campaign: String,
    pub radio: Arc<str>,
    pub started: Stamp,
    pub ended: Stamp,
    pub outcome: Outcome,
    pub raw_code: Option<u8>,
    pub reason: String,
    pub bytes: u64,
}

/// How loud an event is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Level::Info, Level::Warn, Level::Error]
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| format!("{s:?} is not an event level"))
    }
}

/// Something the daemon wants on the record: a radio vanished, content was swapped, ...
#[derive(Clone, Debug, PartialEq)]
pub struct EventRecord {
    pub at: Stamp,
    pub level: Level,
    /// A short machine-readable tag, e.g. `radio_lost`.
    pub kind: String,
    pub message: String,
}

/// An answer another appliance of the fleet got, downloaded by the sync.
#[derive(Clone, Debug, PartialEq)]
pub struct FleetAnswer {
    /// The phone as the fleet names it (see [`crate::sync::pseudonym::PhoneKey`]).
    pub phone: String,
    pub item_hash: String,
    pub outcome: Outcome,
    /// End of that attempt, unix ms.
    pub at_ms: i64,
    pub appliance: String,
}

/// How far the answers of one other appliance of the fleet have been downloaded: its highest
/// `local_id` read. Like [`SyncMark`], it only grows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FleetMark {
    pub appliance: String,
    pub local_id: i64,
}

/// A value of the sync's bookkeeping: a watermark or the time of the last success. Marks only
/// ever grow: writing a smaller value than the stored one leaves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncMark {
    pub name: &'static str,
    pub value: i64,
}

/// One thing a visitor did on the hotspot's captive page, as the portal spooled it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WifiRecord {
    /// The portal's id of this event: unique, so a spool file read twice adds nothing.
    pub id: String,
    pub at_ms: i64,
    pub clock_synced: bool,
    /// The phone's Wi-Fi address from the hotspot's DHCP lease, or `ip:ADDR`.
    pub visitor: String,
    /// `visit` (the page) or `download` (a file, opened or saved).
    pub kind: String,
    pub item: Option<String>,
    pub bytes: u64,
}

/// Any record, as the writer queues it.
#[derive(Clone, Debug)]
pub(crate) enum Record {
    Sighting(SightingRecord),
    Attempt(AttemptRecord),
    Event(EventRecord),
    Marks(Vec<SyncMark>),
    /// Answers and the marks past them, in one transaction.
    FleetAnswers(Vec<FleetAnswer>, Vec<FleetMark>),
    Wifi(Vec<WifiRecord>),
}

impl Record {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Record::Sighting(_) => "sighting",
            Record::Attempt(_) => "attempt",
            Record::Event(_) => "event",
            Record::Marks(_) => "sync mark",
            Record::FleetAnswers(..) => "fleet answer",
            Record::Wifi(_) => "wifi event",
        }
    }
}
