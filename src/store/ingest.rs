//! How one record becomes rows.
//!
//! Sightings are aggregated: a phone standing by the booth answers every inquiry, and one row
//! per answer would fill the SD card with nothing. So a sighting extends the open *visit* of
//! that device on that radio (same boot, within the visit gap) or starts a new one. Attempts
//! are kept one row each, and an attempt the phone answered also lands in `answers`, the
//! small table retention never touches, so a phone is never asked twice for the same content.

use super::records::{
    AttemptRecord, EventRecord, FleetAnswer, FleetMark, Record, SightingRecord, SyncMark,
    WifiRecord,
};
use super::summary;
use super::tally::{Attempt, Visit};
use crate::model::clock::Stamp;
use crate::model::device::BdAddr;
use rusqlite::{params, Connection, OptionalExtension};
use std::sync::Arc;

/// What every row written needs besides the record itself.
#[derive(Clone, Debug)]
pub(crate) struct Context {
    pub boot_id: Arc<str>,
    pub visit_gap_ms: i64,
    /// The local days the day summaries follow.
    pub days: super::summary::Days,
}

/// Writes one record inside the caller's transaction.
pub(crate) fn apply(conn: &Connection, ctx: &Context, record: &Record) -> rusqlite::Result<()> {
    match record {
        Record::Sighting(r) => sighting(conn, ctx, r),
        Record::Attempt(r) => attempt(conn, ctx, r),
        Record::Event(r) => event(conn, ctx, r),
        Record::Marks(marks) => marks.iter().try_for_each(|m| mark(conn, m)),
        Record::FleetAnswers(answers, marks) => {
            answers.iter().try_for_each(|a| fleet_answer(conn, a))?;
            marks.iter().try_for_each(|m| fleet_mark(conn, m))
        }
        Record::Wifi(events) => events.iter().try_for_each(|e| wifi(conn, ctx, e)),
    }
}

fn sighting(conn: &Connection, ctx: &Context, r: &SightingRecord) -> rusqlite::Result<()> {
    let (device, first_seen) = upsert_seen_device(conn, ctx, r)?;
    let at = r.at.at_ms;
    let row = match open_visit(conn, ctx, device, &r.radio)? {
        Some(visit) if visit.covers(at, ctx.visit_gap_ms) => extend_visit(conn, visit.id, r)?,
        _ => start_visit(conn, ctx, device, r)?,
    };
    summary::visit(conn, &ctx.days, &row, first_seen)
}

/// Inserts or refreshes the device; a non-empty name replaces the stored one. Returns its id
/// and when it was first seen.
fn upsert_seen_device(
    conn: &Connection,
    ctx: &Context,
    r: &SightingRecord,
) -> rusqlite::Result<(i64, i64)> {
    let name = (!r.name.is_empty()).then_some(r.name.as_str());
    let mut stmt = conn.prepare_cached(
        "INSERT INTO devices(addr, name, class, first_seen, last_seen, boot_id, clock_synced)
         VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6)
         ON CONFLICT(addr) DO UPDATE SET
             name = COALESCE(excluded.name, devices.name),
             class = excluded.class,
             last_seen = excluded.last_seen,
             boot_id = excluded.boot_id,
             clock_synced = excluded.clock_synced
         RETURNING id, first_seen",
    )?;
    stmt.query_row(
        params![
            r.addr.to_string(),
            name,
            r.class,
            r.at.at_ms,
            &*ctx.boot_id,
            r.at.clock_synced
        ],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
}

/// The latest visit row of this device on this radio in this boot.
struct OpenVisit {
    id: i64,
    first_seen: i64,
    last_seen: i64,
}

impl OpenVisit {
    /// Whether a sighting at `at` belongs to this visit (also when it arrives a little late).
    fn covers(&self, at: i64, gap: i64) -> bool {
        at >= self.first_seen.saturating_sub(gap) && at <= self.last_seen.saturating_add(gap)
    }
}

fn open_visit(
    conn: &Connection,
    ctx: &Context,
    device: i64,
    radio: &str,
) -> rusqlite::Result<Option<OpenVisit>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, first_seen, last_seen FROM sightings
         WHERE device_id = ?1 AND radio = ?2 AND boot_id = ?3
         ORDER BY id DESC LIMIT 1",
    )?;
    stmt.query_row(params![device, radio, &*ctx.boot_id], |row| {
        Ok(OpenVisit {
            id: row.get(0)?,
            first_seen: row.get(1)?,
            last_seen: row.get(2)?,
        })
    })
    .optional()
}

/// Extends the visit; returns the row as it now stands.
fn extend_visit(conn: &Connection, id: i64, r: &SightingRecord) -> rusqlite::Result<Visit<i64>> {
    let mut stmt = conn.prepare_cached(
        "UPDATE sightings SET
             first_seen = min(first_seen, ?2),
             last_seen = max(last_seen, ?2),
             count = count + 1,
             rssi_min = min(COALESCE(rssi_min, ?3), COALESCE(?3, rssi_min)),
             rssi_max = max(COALESCE(rssi_max, ?3), COALESCE(?3, rssi_max)),
             rssi_last = COALESCE(?3, rssi_last),
             clock_synced = clock_synced AND ?4,
             change_seq = ?5
         WHERE id = ?1
         RETURNING device_id, first_seen, last_seen, rssi_max",
    )?;
    let seq = next_change(conn)?;
    stmt.query_row(
        params![id, r.at.at_ms, r.rssi, r.at.clock_synced, seq],
        |row| {
            Ok(Visit {
                phone: row.get(0)?,
                first_ms: row.get(1)?,
                last_ms: row.get(2)?,
                rssi_max: row.get(3)?,
                returning: false,
            })
        },
    )
}

fn start_visit(
    conn: &Connection,
    ctx: &Context,
    device: i64,
    r: &SightingRecord,
) -> rusqlite::Result<Visit<i64>> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO sightings(device_id, radio, first_seen, last_seen, count,
                               rssi_min, rssi_max, rssi_last, boot_id, clock_synced, change_seq)
         VALUES (?1, ?2, ?3, ?3, 1, ?4, ?4, ?4, ?5, ?6, ?7)",
    )?;
    let seq = next_change(conn)?;
    stmt.execute(params![
        device,
        &*r.radio,
        r.at.at_ms,
        r.rssi,
        &*ctx.boot_id,
        r.at.clock_synced,
        seq
    ])?;
    Ok(Visit {
        phone: device,
        first_ms: r.at.at_ms,
        last_ms: r.at.at_ms,
        rssi_max: r.rssi.map(i64::from),
        returning: false,
    })
}

/// The next value of the sightings' change counter (the sync re-uploads rows past its mark).
fn next_change(conn: &Connection) -> rusqlite::Result<i64> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO sync_state(name, value) VALUES ('sighting_change', 1)
         ON CONFLICT(name) DO UPDATE SET value = value + 1
         RETURNING value",
    )?;
    stmt.query_row([], |row| row.get(0))
}

fn attempt(conn: &Connection, ctx: &Context, r: &AttemptRecord) -> rusqlite::Result<()> {
    let device = known_device(conn, ctx, r.addr, r.started)?;
    let synced = r.started.clock_synced && r.ended.clock_synced;
    let mut stmt = conn.prepare_cached(
        "INSERT INTO attempts(device_id, item_hash, item_name, campaign, radio, started_at,
                              ended_at, outcome, raw_code, reason, bytes, boot_id, clock_synced,
                              item_md5)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?;
    stmt.execute(params![
        device,
        r.item_hash,
        r.item_name,
        r.campaign,
        &*r.radio,
        r.started.at_ms,
        r.ended.at_ms,
        r.outcome.as_str(),
        r.raw_code,
        r.reason,
        i64::try_from(r.bytes).unwrap_or(i64::MAX),
        &*ctx.boot_id,
        synced,
        r.item_md5
    ])?;
    let folded = Attempt {
        phone: device,
        item: &r.item_name,
        radio: &r.radio,
        outcome: r.outcome.as_str(),
        ended_ms: r.ended.at_ms,
    };
    summary::attempt(conn, &ctx.days, &folded)?;
    if r.outcome.is_transient() {
        return Ok(());
    }
    let attempt_id = conn.last_insert_rowid();
    remember_answer(conn, ctx, device, attempt_id, r)
}

/// The device's id, inserting a bare row when it was never sighted (e.g. an allow-listed address).
fn known_device(
    conn: &Connection,
    ctx: &Context,
    addr: BdAddr,
    at: Stamp,
) -> rusqlite::Result<i64> {
    let addr = addr.to_string();
    let mut insert = conn.prepare_cached(
        "INSERT INTO devices(addr, name, class, first_seen, last_seen, boot_id, clock_synced)
         VALUES (?1, NULL, NULL, ?2, ?2, ?3, ?4)
         ON CONFLICT(addr) DO NOTHING",
    )?;
    insert.execute(params![addr, at.at_ms, &*ctx.boot_id, at.clock_synced])?;
    let mut select = conn.prepare_cached("SELECT id FROM devices WHERE addr = ?1")?;
    select.query_row(params![addr], |row| row.get(0))
}

/// The latest answer for (device, content) wins: an operator may re-send on purpose.
fn remember_answer(
    conn: &Connection,
    ctx: &Context,
    device: i64,
    attempt_id: i64,
    r: &AttemptRecord,
) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO answers(device_id, item_hash, outcome, at, attempt_id, boot_id, clock_synced)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT(device_id, item_hash) DO UPDATE SET
             outcome = excluded.outcome,
             at = excluded.at,
             attempt_id = excluded.attempt_id,
             boot_id = excluded.boot_id,
             clock_synced = excluded.clock_synced",
    )?;
    stmt.execute(params![
        device,
        r.item_hash,
        r.outcome.as_str(),
        r.ended.at_ms,
        attempt_id,
        &*ctx.boot_id,
        r.ended.clock_synced
    ])?;
    Ok(())
}

fn event(conn: &Connection, ctx: &Context, r: &EventRecord) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO events(at, boot_id, clock_synced, level, kind, message)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    stmt.execute(params![
        r.at.at_ms,
        &*ctx.boot_id,
        r.at.clock_synced,
        r.level.as_str(),
        r.kind,
        r.message
    ])?;
    Ok(())
}

/// A hotspot event; one already written (the same id) is left as it is.
fn wifi(conn: &Connection, ctx: &Context, r: &WifiRecord) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT OR IGNORE INTO wifi_events(event_id, at, visitor, kind, item, bytes, boot_id, clock_synced)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    stmt.execute(params![
        r.id,
        r.at_ms,
        r.visitor,
        r.kind,
        r.item,
        r.bytes as i64,
        &*ctx.boot_id,
        r.clock_synced
    ])?;
    Ok(())
}

/// A watermark only moves forward: a late or repeated write cannot undo progress.
fn mark(conn: &Connection, m: &SyncMark) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO sync_state(name, value) VALUES (?1, ?2)
         ON CONFLICT(name) DO UPDATE SET value = max(value, excluded.value)",
    )?;
    stmt.execute(params![m.name, m.value])?;
    Ok(())
}

/// A fleet mark only moves forward, like a watermark.
fn fleet_mark(conn: &Connection, m: &FleetMark) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO fleet_marks(appliance, local_id) VALUES (?1, ?2)
         ON CONFLICT(appliance) DO UPDATE SET local_id = max(local_id, excluded.local_id)",
    )?;
    stmt.execute(params![m.appliance, m.local_id])?;
    Ok(())
}

/// The latest answer of the fleet for (phone, item) wins; the same answer written again (a
/// download repeated after a power cut, or from 0 after an upgrade) changes nothing.
fn fleet_answer(conn: &Connection, a: &FleetAnswer) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO fleet_answers(phone, item_hash, outcome, at, appliance)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(phone, item_hash) DO UPDATE SET
             outcome = excluded.outcome,
             at = excluded.at,
             appliance = excluded.appliance
         WHERE excluded.at >= fleet_answers.at",
    )?;
    stmt.execute(params![
        a.phone,
        a.item_hash,
        a.outcome.as_str(),
        a.at_ms,
        a.appliance
    ])?;
    Ok(())
}
