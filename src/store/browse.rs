//! What the dashboard lists and exports from the log: the phones heard lately (to put one on a
//! list with a click), the log's own record of the operator's changes, and every attempt and
//! visit of a period as rows for a CSV file. Phone addresses leave here raw; the caller names
//! them as it must (`crate::sync::pseudonym`).

use rusqlite::{params, Connection};

/// A phone heard lately, with its last answer.
#[derive(Clone, Debug, PartialEq)]
pub struct RecentDevice {
    pub addr: String,
    pub name: Option<String>,
    pub last_seen_ms: i64,
    pub rssi: Option<i64>,
    /// The outcome of its last attempt, if it was ever offered something.
    pub last_outcome: Option<String>,
}

/// One attempt, as exported.
#[derive(Clone, Debug, PartialEq)]
pub struct AttemptRow {
    pub id: i64,
    pub addr: String,
    pub name: Option<String>,
    pub item_name: String,
    pub item_hash: String,
    pub campaign: String,
    pub radio: String,
    pub started_ms: i64,
    pub ended_ms: i64,
    pub outcome: String,
    pub reason: String,
    pub bytes: i64,
    pub clock_synced: bool,
}

/// One visit (a phone heard on one radio without a long gap), as exported.
#[derive(Clone, Debug, PartialEq)]
pub struct VisitRow {
    pub id: i64,
    pub addr: String,
    pub name: Option<String>,
    pub radio: String,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    pub count: i64,
    pub rssi_max: Option<i64>,
    pub clock_synced: bool,
}

/// One event of a kind, newest first.
#[derive(Clone, Debug, PartialEq)]
pub struct EventRow {
    pub at_ms: i64,
    pub level: String,
    pub message: String,
}

pub(super) fn recent(conn: &Connection, limit: usize) -> rusqlite::Result<Vec<RecentDevice>> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.addr, d.name, d.last_seen,
                (SELECT s.rssi_last FROM sightings s WHERE s.device_id = d.id
                 ORDER BY s.last_seen DESC LIMIT 1),
                (SELECT a.outcome FROM attempts a WHERE a.device_id = d.id
                 ORDER BY a.ended_at DESC LIMIT 1)
         FROM devices d ORDER BY d.last_seen DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map(params![limit as i64], |r| {
        Ok(RecentDevice {
            addr: r.get(0)?,
            name: r.get(1)?,
            last_seen_ms: r.get(2)?,
            rssi: r.get(3)?,
            last_outcome: r.get(4)?,
        })
    })?;
    rows.collect()
}

pub(super) fn attempts(
    conn: &Connection,
    from_ms: i64,
    to_ms: i64,
    each: &mut dyn FnMut(AttemptRow) -> Result<(), String>,
) -> Result<(), String> {
    let sql = "SELECT a.id, d.addr, d.name, a.item_name, a.item_hash, a.campaign, a.radio,
                      a.started_at, a.ended_at, a.outcome, a.reason, a.bytes, a.clock_synced
               FROM attempts a JOIN devices d ON d.id = a.device_id
               WHERE a.ended_at >= ?1 AND a.ended_at < ?2 ORDER BY a.ended_at, a.id";
    each_row(
        conn,
        sql,
        from_ms,
        to_ms,
        |r| {
            Ok(AttemptRow {
                id: r.get(0)?,
                addr: r.get(1)?,
                name: r.get(2)?,
                item_name: r.get(3)?,
                item_hash: r.get(4)?,
                campaign: r.get(5)?,
                radio: r.get(6)?,
                started_ms: r.get(7)?,
                ended_ms: r.get(8)?,
                outcome: r.get(9)?,
                reason: r.get(10)?,
                bytes: r.get(11)?,
                clock_synced: r.get(12)?,
            })
        },
        each,
    )
}

pub(super) fn visits(
    conn: &Connection,
    from_ms: i64,
    to_ms: i64,
    each: &mut dyn FnMut(VisitRow) -> Result<(), String>,
) -> Result<(), String> {
    let sql = "SELECT s.id, d.addr, d.name, s.radio, s.first_seen, s.last_seen, s.count,
                      s.rssi_max, s.clock_synced
               FROM sightings s JOIN devices d ON d.id = s.device_id
               WHERE s.last_seen >= ?1 AND s.first_seen < ?2 ORDER BY s.first_seen, s.id";
    each_row(
        conn,
        sql,
        from_ms,
        to_ms,
        |r| {
            Ok(VisitRow {
                id: r.get(0)?,
                addr: r.get(1)?,
                name: r.get(2)?,
                radio: r.get(3)?,
                first_seen_ms: r.get(4)?,
                last_seen_ms: r.get(5)?,
                count: r.get(6)?,
                rssi_max: r.get(7)?,
                clock_synced: r.get(8)?,
            })
        },
        each,
    )
}

/// The hotspot's visits and downloads in `[from_ms, to_ms)`, oldest first.
pub(super) fn wifi(
    conn: &Connection,
    from_ms: i64,
    to_ms: i64,
    each: &mut dyn FnMut(super::OutboxWifi) -> Result<(), String>,
) -> Result<(), String> {
    let sql = "SELECT id, at, visitor, kind, item, bytes, boot_id, clock_synced
               FROM wifi_events WHERE at >= ?1 AND at < ?2 ORDER BY at, id";
    each_row(conn, sql, from_ms, to_ms, super::outbox::wifi_row, each)
}

/// Runs `sql` over `[from_ms, to_ms)` and hands each row, as `read` makes it, to `each`:
/// one row in memory at a time, however long the range.
fn each_row<T>(
    conn: &Connection,
    sql: &str,
    from_ms: i64,
    to_ms: i64,
    read: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    each: &mut dyn FnMut(T) -> Result<(), String>,
) -> Result<(), String> {
    let mut stmt = conn.prepare(sql).map_err(|e| e.to_string())?;
    let mut rows = stmt
        .query(params![from_ms, to_ms])
        .map_err(|e| e.to_string())?;
    while let Some(r) = rows.next().map_err(|e| e.to_string())? {
        each(read(r).map_err(|e| e.to_string())?)?;
    }
    Ok(())
}

pub(super) fn events(
    conn: &Connection,
    kind: &str,
    limit: usize,
) -> rusqlite::Result<Vec<EventRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT at, level, message FROM events WHERE kind = ?1 ORDER BY at DESC, id DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![kind, limit as i64], |r| {
        Ok(EventRow {
            at_ms: r.get(0)?,
            level: r.get(1)?,
            message: r.get(2)?,
        })
    })?;
    rows.collect()
}
