//! Read-only access for the policy and for `o4send status`.
//!
//! In WAL mode readers never block the writer nor wait for it, so the policy can look up a
//! phone's history while a big batch commits. A reader never creates a file: pointing
//! `o4send status --db` at a wrong path must say so, not leave an empty database behind.

use super::error::StoreError;
use super::history::{self, DeviceHistory};
use super::outbox::{
    self, OutboxAttempt, OutboxEvent, OutboxSighting, OutboxWifi, SyncBacklog, SyncState,
};
use super::report::{self, Glance, StatusReport};
use super::schema;
use crate::model::device::BdAddr;
use crate::sync::pseudonym::PhoneKey;
use rusqlite::{params, Connection, OptionalExtension};
use std::path::{Path, PathBuf};

/// A read-only connection to the database.
pub struct Reader {
    conn: Connection,
    path: PathBuf,
    /// How the fleet names phones, to find their answers at other appliances.
    phone_key: Option<PhoneKey>,
}

/// What the store knows about one device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    pub addr: BdAddr,
    /// As the phone sent it (may hold control characters: use `device::printable` to show it).
    pub name: Option<String>,
    pub class: Option<u32>,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
}

impl Reader {
    /// Opens an existing database read-only; a missing file is an error ("no database at PATH").
    pub fn open(path: &Path) -> Result<Reader, StoreError> {
        Ok(Reader {
            conn: schema::open_reader(path)?,
            path: path.to_path_buf(),
            phone_key: None,
        })
    }

    /// Also counts the fleet's answers (downloaded by the sync) in [`Reader::device_history`].
    pub fn with_phone_key(mut self, key: Option<PhoneKey>) -> Reader {
        self.phone_key = key;
        self
    }

    /// Accepted answers per item hash, here and at the fleet's other appliances, in total and
    /// since `day_from_ms` (the policy's caps).
    pub fn accepted(
        &self,
        hashes: &[String],
        day_from_ms: i64,
    ) -> Result<super::Accepted, StoreError> {
        super::accepted::counts(&self.conn, hashes, day_from_ms).map_err(|e| self.failed(&e))
    }

    /// The sync's watermarks and last success.
    pub fn sync_state(&self) -> Result<SyncState, StoreError> {
        outbox::state(&self.conn).map_err(|e| self.failed(&e))
    }

    /// How far each other appliance's answers have been downloaded, by appliance.
    pub fn fleet_marks(&self) -> Result<std::collections::HashMap<String, i64>, StoreError> {
        outbox::fleet_marks(&self.conn).map_err(|e| self.failed(&e))
    }

    /// Rows not yet uploaded, and when the last sync succeeded.
    pub fn sync_backlog(&self) -> Result<SyncBacklog, StoreError> {
        outbox::backlog(&self.conn).map_err(|e| self.failed(&e))
    }

    /// Attempts with an id above `after`, oldest first, at most `limit`.
    pub fn outbox_attempts(
        &self,
        after: i64,
        limit: usize,
    ) -> Result<Vec<OutboxAttempt>, StoreError> {
        outbox::attempts(&self.conn, after, limit).map_err(|e| self.failed(&e))
    }

    /// Visits changed past `after` (their `change_seq`), in change order, at most `limit`.
    pub fn outbox_sightings(
        &self,
        after: i64,
        limit: usize,
    ) -> Result<Vec<OutboxSighting>, StoreError> {
        outbox::sightings(&self.conn, after, limit).map_err(|e| self.failed(&e))
    }

    /// Events with an id above `after`, oldest first, at most `limit`.
    pub fn outbox_events(&self, after: i64, limit: usize) -> Result<Vec<OutboxEvent>, StoreError> {
        outbox::events(&self.conn, after, limit).map_err(|e| self.failed(&e))
    }

    /// Hotspot events with an id above `after`, oldest first, at most `limit`.
    pub fn outbox_wifi(&self, after: i64, limit: usize) -> Result<Vec<OutboxWifi>, StoreError> {
        outbox::wifi(&self.conn, after, limit).map_err(|e| self.failed(&e))
    }

    /// What this phone was offered and how it answered, per content hash.
    pub fn device_history(&self, addr: BdAddr) -> Result<DeviceHistory, StoreError> {
        history::device_history(&self.conn, addr, self.phone_key.as_ref())
            .map_err(|e| self.failed(&e))
    }

    /// Totals for people and for the status command; `now_ms` anchors the last-hour window.
    pub fn status(&self, now_ms: i64) -> Result<StatusReport, StoreError> {
        report::status(&self.conn, &self.path, now_ms).map_err(|e| self.failed(&e))
    }

    /// The figures of one period (a day, usually): see [`super::DayFigures`].
    pub fn day(&self, period: &super::Period) -> Result<super::DayFigures, StoreError> {
        super::day::figures(&self.conn, period).map_err(|e| self.failed(&e))
    }

    /// What the hotspot's captive page did in `[from_ms, to_ms)`.
    pub fn hotspot(&self, from_ms: i64, to_ms: i64) -> Result<super::WifiStatus, StoreError> {
        super::report::hotspot(&self.conn, from_ms, to_ms).map_err(|e| self.failed(&e))
    }

    /// The figures of `period`, kept current in `running` across calls: see [`super::RunningDay`].
    pub fn day_running(
        &self,
        period: &super::Period,
        running: &mut Option<super::RunningDay>,
    ) -> Result<super::DayFigures, StoreError> {
        super::day::running(&self.conn, period, running).map_err(|e| self.failed(&e))
    }

    /// Phones seen and served in the hour before `now_ms`, and the sync backlog: the daemon's
    /// status line.
    pub fn glance(&self, now_ms: i64) -> Result<Glance, StoreError> {
        report::glance(&self.conn, now_ms).map_err(|e| self.failed(&e))
    }

    /// The device row for `addr`, if it was ever seen or offered something.
    pub fn device(&self, addr: BdAddr) -> Result<Option<DeviceInfo>, StoreError> {
        self.conn
            .query_row(
                "SELECT name, class, first_seen, last_seen FROM devices WHERE addr = ?1",
                params![addr.to_string()],
                |row| {
                    Ok(DeviceInfo {
                        addr,
                        name: row.get(0)?,
                        class: row.get(1)?,
                        first_seen_ms: row.get(2)?,
                        last_seen_ms: row.get(3)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.failed(&e))
    }

    /// The `limit` phones heard last, newest first, with their last answer.
    pub fn recent_devices(&self, limit: usize) -> Result<Vec<super::RecentDevice>, StoreError> {
        super::browse::recent(&self.conn, limit).map_err(|e| self.failed(&e))
    }

    /// The newest `limit` events of `kind`.
    pub fn events(&self, kind: &str, limit: usize) -> Result<Vec<super::EventRow>, StoreError> {
        super::browse::events(&self.conn, kind, limit).map_err(|e| self.failed(&e))
    }

    /// Every attempt that ended in `[from_ms, to_ms)`, oldest first, handed to `each`.
    pub fn each_attempt(
        &self,
        from_ms: i64,
        to_ms: i64,
        each: &mut dyn FnMut(super::AttemptRow) -> Result<(), String>,
    ) -> Result<(), String> {
        super::browse::attempts(&self.conn, from_ms, to_ms, each)
            .map_err(|e| format!("cannot read {}: {e}", self.path.display()))
    }

    /// Every visit that overlaps `[from_ms, to_ms)`, oldest first, handed to `each`.
    pub fn each_visit(
        &self,
        from_ms: i64,
        to_ms: i64,
        each: &mut dyn FnMut(super::VisitRow) -> Result<(), String>,
    ) -> Result<(), String> {
        super::browse::visits(&self.conn, from_ms, to_ms, each)
            .map_err(|e| format!("cannot read {}: {e}", self.path.display()))
    }

    /// Every hotspot visit and download in `[from_ms, to_ms)`, oldest first, handed to `each`.
    pub fn each_wifi(
        &self,
        from_ms: i64,
        to_ms: i64,
        each: &mut dyn FnMut(OutboxWifi) -> Result<(), String>,
    ) -> Result<(), String> {
        super::browse::wifi(&self.conn, from_ms, to_ms, each)
            .map_err(|e| format!("cannot read {}: {e}", self.path.display()))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn failed(&self, e: &rusqlite::Error) -> StoreError {
        StoreError::sqlite(format_args!("cannot read {}", self.path.display()), e)
    }
}
