//! Keeping the database from filling the SD card.
//!
//! Two limits: an age (rows older than `max_age_days` go) and a size (when the file and its WAL
//! pass `max_size_mb`, the oldest sightings and events go first, then the oldest attempts, in
//! chunks). `answers` — the memory that a phone already answered — is never deleted, nor are
//! the devices it points to, so a phone is not asked again after its attempts were pruned.
//!
//! A day's summary (`summary.rs`) is forgotten with the first row deleted from that day.
//!
//! The Pi has no RTC: "now" for the age limit is the newest *synchronised* stamp in the
//! database, and only rows stamped with a synchronised clock are aged out. Rows written before
//! the clock was set leave only under size pressure.

use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;

const MS_PER_DAY: i64 = 24 * 60 * 60 * 1000;
/// Rows deleted per statement under size pressure.
const CHUNK: i64 = 1000;
const OLDEST_SIGHTINGS: &str = "DELETE FROM sightings WHERE id IN
     (SELECT id FROM sightings ORDER BY id LIMIT ?1) RETURNING last_seen";
const OLDEST_EVENTS: &str =
    "DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY id LIMIT ?1) RETURNING at";
const OLDEST_ATTEMPTS: &str = "DELETE FROM attempts WHERE id IN
     (SELECT id FROM attempts ORDER BY id LIMIT ?1) RETURNING ended_at";

/// How long and how much the store keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retention {
    pub max_age_days: u32,
    pub max_size_mb: u64,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            max_age_days: 90,
            max_size_mb: 256,
        }
    }
}

/// What one retention pass removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RetentionStats {
    pub sightings: u64,
    pub attempts: u64,
    pub events: u64,
    pub devices: u64,
    /// Database plus WAL, before and after.
    pub bytes_before: u64,
    pub bytes_after: u64,
}

impl RetentionStats {
    pub fn deleted_anything(&self) -> bool {
        self.sightings + self.attempts + self.events + self.devices > 0
    }
}

/// One pass: age, then size, then give freed pages back to the file system.
pub(crate) fn run(
    conn: &mut Connection,
    path: &Path,
    limits: &Retention,
) -> rusqlite::Result<RetentionStats> {
    let mut stats = RetentionStats {
        bytes_before: file_bytes(path),
        ..RetentionStats::default()
    };
    prune_by_age(conn, limits, &mut stats)?;
    let limit = limits.max_size_mb.saturating_mul(1024 * 1024);
    if stats.bytes_before > limit {
        prune_by_size(conn, limit, &mut stats)?;
    }
    if stats.deleted_anything() || stats.bytes_before > limit {
        give_back_space(conn)?;
    }
    stats.bytes_after = file_bytes(path);
    Ok(stats)
}

/// Database file plus its WAL, in bytes.
pub(crate) fn file_bytes(path: &Path) -> u64 {
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    size(path) + size(Path::new(&wal))
}

fn prune_by_age(
    conn: &mut Connection,
    limits: &Retention,
    stats: &mut RetentionStats,
) -> rusqlite::Result<()> {
    let Some(now) = newest_synced_stamp(conn)? else {
        return Ok(());
    };
    let cutoff = now.saturating_sub(i64::from(limits.max_age_days) * MS_PER_DAY);
    let tx = conn.transaction()?;
    stats.sightings += tx.execute(
        "DELETE FROM sightings WHERE last_seen < ?1 AND clock_synced = 1",
        params![cutoff],
    )? as u64;
    stats.events += tx.execute(
        "DELETE FROM events WHERE at < ?1 AND clock_synced = 1",
        params![cutoff],
    )? as u64;
    // The hotspot's visits age out with the rest (counted with the events).
    stats.events += tx.execute(
        "DELETE FROM wifi_events WHERE at < ?1 AND clock_synced = 1",
        params![cutoff],
    )? as u64;
    stats.attempts += tx.execute(
        "DELETE FROM attempts WHERE ended_at < ?1 AND clock_synced = 1",
        params![cutoff],
    )? as u64;
    stats.devices += delete_orphan_devices(&tx, Some(cutoff))? as u64;
    if stats.sightings + stats.attempts > 0 {
        super::summary::forget_through(&tx, cutoff)?;
    }
    tx.commit()
}

/// The newest stamp taken with a synchronised clock, over sightings, attempts and events.
fn newest_synced_stamp(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    let queries = [
        "SELECT last_seen FROM sightings WHERE clock_synced = 1 ORDER BY last_seen DESC LIMIT 1",
        "SELECT ended_at FROM attempts WHERE clock_synced = 1 ORDER BY ended_at DESC LIMIT 1",
        "SELECT at FROM events WHERE clock_synced = 1 ORDER BY at DESC LIMIT 1",
    ];
    let mut newest = None;
    for sql in queries {
        let found: Option<i64> = conn.query_row(sql, [], |row| row.get(0)).optional()?;
        newest = newest.max(found);
    }
    Ok(newest)
}

/// Devices nothing refers to any more (and, when given, not seen since `before`).
fn delete_orphan_devices(conn: &Connection, before: Option<i64>) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM devices
         WHERE (?1 IS NULL OR last_seen < ?1)
           AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.device_id = devices.id)
           AND NOT EXISTS (SELECT 1 FROM attempts t WHERE t.device_id = devices.id)
           AND NOT EXISTS (SELECT 1 FROM sightings s WHERE s.device_id = devices.id)",
        params![before],
    )
}

/// Deletes oldest rows in chunks until the pages in use fit in 90 % of `limit`.
fn prune_by_size(
    conn: &mut Connection,
    limit: u64,
    stats: &mut RetentionStats,
) -> rusqlite::Result<()> {
    let target = limit / 10 * 9;
    while used_bytes(conn)? > target {
        let tx = conn.transaction()?;
        let (sightings, newest_sighting) = delete_oldest(&tx, OLDEST_SIGHTINGS)?;
        let (events, _) = delete_oldest(&tx, OLDEST_EVENTS)?;
        let (attempts, newest_attempt) = if sightings + events == 0 {
            delete_oldest(&tx, OLDEST_ATTEMPTS)?
        } else {
            (0, None)
        };
        if let Some(through) = newest_sighting.max(newest_attempt) {
            super::summary::forget_through(&tx, through)?;
        }
        tx.commit()?;
        stats.sightings += sightings;
        stats.events += events;
        stats.attempts += attempts;
        if sightings + events + attempts == 0 {
            break; // only answers and their devices are left: those stay
        }
    }
    stats.devices += delete_orphan_devices(conn, None)? as u64;
    Ok(())
}

/// Bytes of pages holding data (the file minus its free list).
fn used_bytes(conn: &Connection) -> rusqlite::Result<u64> {
    let pragma = |name: &str| conn.pragma_query_value(None, name, |row| row.get::<_, i64>(0));
    let pages = pragma("page_count")? - pragma("freelist_count")?;
    Ok(pages.max(0) as u64 * pragma("page_size")?.max(0) as u64)
}

/// Deletes the `CHUNK` oldest rows of one table (oldest by id, which survives clock jumps);
/// returns how many, and the newest stamp among them.
fn delete_oldest(conn: &Connection, sql: &str) -> rusqlite::Result<(u64, Option<i64>)> {
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query(params![CHUNK])?;
    let (mut n, mut newest) = (0, None);
    while let Some(r) = rows.next()? {
        n += 1;
        newest = newest.max(Some(r.get::<_, i64>(0)?));
    }
    Ok((n, newest))
}

/// Returns free pages to the file system and truncates the WAL.
fn give_back_space(conn: &Connection) -> rusqlite::Result<()> {
    // incremental_vacuum frees one page per step: run it to the end.
    let mut stmt = conn.prepare("PRAGMA incremental_vacuum")?;
    let mut rows = stmt.query([])?;
    while rows.next()?.is_some() {}
    drop(rows);
    let mut checkpoint = conn.prepare("PRAGMA wal_checkpoint(TRUNCATE)")?;
    let mut rows = checkpoint.query([])?;
    while rows.next()?.is_some() {}
    Ok(())
}
