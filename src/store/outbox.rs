//! What the sync reads: rows not yet in the fleet database, in the order they were written.
//!
//! The sync uploads a batch, and only after the fleet database committed it does it write a
//! watermark back through the writer ([`super::Store::sync_marks`]); so a power cut between the
//! two sends the batch again, and the fleet database ignores what it already holds. Attempts and
//! events never change and are read past their id; visits change in place and are read past
//! their `change_seq`. Everything here runs on a [`super::Reader`]'s own connection, never on
//! the writer's.

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Names of the marks in `sync_state`.
pub mod marks {
    /// Highest attempt id uploaded.
    pub const ATTEMPTS: &str = "up_attempts";
    /// Highest sighting `change_seq` uploaded.
    pub const SIGHTINGS: &str = "up_sightings";
    /// Highest event id uploaded.
    pub const EVENTS: &str = "up_events";
    /// Highest hotspot event id uploaded.
    pub const WIFI: &str = "up_wifi";
    /// Unix ms of the end of the last sync round that uploaded and downloaded everything.
    pub const LAST_SUCCESS: &str = "last_success_ms";
}

/// One attempt as it leaves the appliance.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboxAttempt {
    pub id: i64,
    pub addr: String,
    pub item_hash: String,
    pub item_md5: String,
    pub item_name: String,
    pub campaign: String,
    pub radio: String,
    pub started_ms: i64,
    pub ended_ms: i64,
    pub outcome: String,
    pub raw_code: Option<i64>,
    pub reason: String,
    pub bytes: i64,
    pub boot_id: String,
    pub clock_synced: bool,
}

/// One visit (aggregated sightings) in its current state.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboxSighting {
    pub id: i64,
    pub change_seq: i64,
    pub addr: String,
    pub name: Option<String>,
    pub class: Option<i64>,
    pub radio: String,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    pub count: i64,
    pub rssi_min: Option<i64>,
    pub rssi_max: Option<i64>,
    pub rssi_last: Option<i64>,
    pub boot_id: String,
    pub clock_synced: bool,
}

/// One event.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboxEvent {
    pub id: i64,
    pub at_ms: i64,
    pub boot_id: String,
    pub clock_synced: bool,
    pub level: String,
    pub kind: String,
    pub message: String,
}

/// One thing a visitor did on the hotspot's captive page.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboxWifi {
    pub id: i64,
    pub at_ms: i64,
    /// The phone's Wi-Fi address (or `ip:ADDR`), as the log stores it.
    pub visitor: String,
    pub kind: String,
    pub item: Option<String>,
    pub bytes: i64,
    pub boot_id: String,
    pub clock_synced: bool,
}

/// The sync's bookkeeping as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncState {
    pub attempts: i64,
    pub sightings: i64,
    pub events: i64,
    pub wifi: i64,
    pub last_success_ms: Option<i64>,
}

/// Rows not yet uploaded, and when the last sync succeeded.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncBacklog {
    pub attempts: u64,
    pub sightings: u64,
    pub events: u64,
    /// Hotspot visits and downloads.
    #[serde(default)]
    pub wifi: u64,
    pub last_success_ms: Option<i64>,
    /// Answers of other appliances of the fleet known here.
    pub fleet_answers: u64,
}

impl SyncBacklog {
    pub fn total(&self) -> u64 {
        self.attempts + self.sightings + self.events + self.wifi
    }
}

pub(crate) fn state(conn: &Connection) -> rusqlite::Result<SyncState> {
    let get = |name: &str| -> rusqlite::Result<Option<i64>> {
        conn.query_row(
            "SELECT value FROM sync_state WHERE name = ?1",
            params![name],
            |row| row.get(0),
        )
        .optional()
    };
    Ok(SyncState {
        attempts: get(marks::ATTEMPTS)?.unwrap_or(0),
        sightings: get(marks::SIGHTINGS)?.unwrap_or(0),
        events: get(marks::EVENTS)?.unwrap_or(0),
        wifi: get(marks::WIFI)?.unwrap_or(0),
        last_success_ms: get(marks::LAST_SUCCESS)?,
    })
}

/// How far each other appliance's answers have been downloaded (absent: not at all).
pub(crate) fn fleet_marks(conn: &Connection) -> rusqlite::Result<HashMap<String, i64>> {
    let mut stmt = conn.prepare_cached("SELECT appliance, local_id FROM fleet_marks")?;
    let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    rows.collect()
}

pub(crate) fn backlog(conn: &Connection) -> rusqlite::Result<SyncBacklog> {
    let tx = conn.unchecked_transaction()?; // one snapshot
    backlog_in(&tx)
}

/// [`backlog`] inside the caller's transaction.
pub(crate) fn backlog_in(tx: &Connection) -> rusqlite::Result<SyncBacklog> {
    let s = state(tx)?;
    let count = |sql: &str, after: i64| -> rusqlite::Result<u64> {
        tx.query_row(sql, params![after], |row| row.get::<_, i64>(0))
            .map(|n| n.max(0) as u64)
    };
    Ok(SyncBacklog {
        attempts: count("SELECT count(*) FROM attempts WHERE id > ?1", s.attempts)?,
        sightings: count(
            "SELECT count(*) FROM sightings WHERE change_seq > ?1",
            s.sightings,
        )?,
        events: count("SELECT count(*) FROM events WHERE id > ?1", s.events)?,
        wifi: count("SELECT count(*) FROM wifi_events WHERE id > ?1", s.wifi)?,
        last_success_ms: s.last_success_ms,
        fleet_answers: tx.query_row("SELECT count(*) FROM fleet_answers", [], |row| {
            row.get::<_, i64>(0).map(|n| n.max(0) as u64)
        })?,
    })
}

pub(crate) fn attempts(
    conn: &Connection,
    after: i64,
    limit: usize,
) -> rusqlite::Result<Vec<OutboxAttempt>> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.id, d.addr, a.item_hash, a.item_md5, a.item_name, a.campaign, a.radio,
                a.started_at, a.ended_at, a.outcome, a.raw_code, a.reason, a.bytes, a.boot_id,
                a.clock_synced
         FROM attempts a JOIN devices d ON d.id = a.device_id
         WHERE a.id > ?1 ORDER BY a.id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![after, limit as i64], |r| {
        Ok(OutboxAttempt {
            id: r.get(0)?,
            addr: r.get(1)?,
            item_hash: r.get(2)?,
            item_md5: r.get(3)?,
            item_name: r.get(4)?,
            campaign: r.get(5)?,
            radio: r.get(6)?,
            started_ms: r.get(7)?,
            ended_ms: r.get(8)?,
            outcome: r.get(9)?,
            raw_code: r.get(10)?,
            reason: r.get(11)?,
            bytes: r.get(12)?,
            boot_id: r.get(13)?,
            clock_synced: r.get(14)?,
        })
    })?;
    rows.collect()
}

pub(crate) fn sightings(
    conn: &Connection,
    after: i64,
    limit: usize,
) -> rusqlite::Result<Vec<OutboxSighting>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.id, s.change_seq, d.addr, d.name, d.class, s.radio, s.first_seen, s.last_seen,
                s.count, s.rssi_min, s.rssi_max, s.rssi_last, s.boot_id, s.clock_synced
         FROM sightings s JOIN devices d ON d.id = s.device_id
         WHERE s.change_seq > ?1 ORDER BY s.change_seq LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![after, limit as i64], |r| {
        Ok(OutboxSighting {
            id: r.get(0)?,
            change_seq: r.get(1)?,
            addr: r.get(2)?,
            name: r.get(3)?,
            class: r.get(4)?,
            radio: r.get(5)?,
            first_seen_ms: r.get(6)?,
            last_seen_ms: r.get(7)?,
            count: r.get(8)?,
            rssi_min: r.get(9)?,
            rssi_max: r.get(10)?,
            rssi_last: r.get(11)?,
            boot_id: r.get(12)?,
            clock_synced: r.get(13)?,
        })
    })?;
    rows.collect()
}

pub(crate) fn events(
    conn: &Connection,
    after: i64,
    limit: usize,
) -> rusqlite::Result<Vec<OutboxEvent>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, at, boot_id, clock_synced, level, kind, message
         FROM events WHERE id > ?1 ORDER BY id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![after, limit as i64], |r| {
        Ok(OutboxEvent {
            id: r.get(0)?,
            at_ms: r.get(1)?,
            boot_id: r.get(2)?,
            clock_synced: r.get(3)?,
            level: r.get(4)?,
            kind: r.get(5)?,
            message: r.get(6)?,
        })
    })?;
    rows.collect()
}

pub(crate) fn wifi(
    conn: &Connection,
    after: i64,
    limit: usize,
) -> rusqlite::Result<Vec<OutboxWifi>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, at, visitor, kind, item, bytes, boot_id, clock_synced
         FROM wifi_events WHERE id > ?1 ORDER BY id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![after, limit as i64], wifi_row)?;
    rows.collect()
}

/// A `wifi_events` row selected as `id, at, visitor, kind, item, bytes, boot_id, clock_synced`.
pub(crate) fn wifi_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxWifi> {
    Ok(OutboxWifi {
        id: r.get(0)?,
        at_ms: r.get(1)?,
        visitor: r.get(2)?,
        kind: r.get(3)?,
        item: r.get(4)?,
        bytes: r.get(5)?,
        boot_id: r.get(6)?,
        clock_synced: r.get(7)?,
    })
}
