//! The database file's shape and how it gets there.
//!
//! A box at an expo is updated by swapping its firmware, not by a person running SQL, so the
//! schema upgrades itself: `PRAGMA user_version` counts the steps of [`MIGRATIONS`] already
//! applied, each step runs in its own transaction, and a file from a newer o4send is refused
//! rather than misread. The connection settings are chosen for a Pi that loses power without
//! warning and has little memory: WAL with `synchronous=FULL`, a bounded page cache.

use super::error::{StoreError, StoreErrorKind};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::path::Path;
use std::time::Duration;

/// Page cache of the writer, in KiB (negative means KiB to SQLite): keeps RSS small.
const CACHE_KIB: i64 = -1024;
/// Page cache of a reader: point lookups by device and the occasional report.
const READER_CACHE_KIB: i64 = -256;
/// The WAL is truncated back to this after a checkpoint.
const JOURNAL_SIZE_LIMIT: i64 = 4 * 1024 * 1024;
/// How long a connection waits for a lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Version 1: the first schema. Timestamps are unix ms; each timestamped row carries the boot
/// id and whether the clock was synchronised, because the Pi has no RTC.
const V1: &str = "
CREATE TABLE devices(
    id INTEGER PRIMARY KEY,
    addr TEXT NOT NULL UNIQUE,
    name TEXT,
    class INTEGER,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    boot_id TEXT NOT NULL,
    clock_synced INTEGER NOT NULL
);

CREATE TABLE sightings(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id INTEGER NOT NULL REFERENCES devices(id),
    radio TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    count INTEGER NOT NULL,
    rssi_min INTEGER,
    rssi_max INTEGER,
    rssi_last INTEGER,
    boot_id TEXT NOT NULL,
    clock_synced INTEGER NOT NULL
);
CREATE INDEX sightings_visit ON sightings(device_id, radio);
CREATE INDEX sightings_last_seen ON sightings(last_seen);

CREATE TABLE attempts(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id INTEGER NOT NULL REFERENCES devices(id),
    item_hash TEXT NOT NULL,
    item_name TEXT NOT NULL,
    campaign TEXT NOT NULL,
    radio TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    raw_code INTEGER,
    reason TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    boot_id TEXT NOT NULL,
    clock_synced INTEGER NOT NULL
);
CREATE INDEX attempts_device ON attempts(device_id);
CREATE INDEX attempts_ended ON attempts(ended_at);

CREATE TABLE answers(
    device_id INTEGER NOT NULL REFERENCES devices(id),
    item_hash TEXT NOT NULL,
    outcome TEXT NOT NULL,
    at INTEGER NOT NULL,
    attempt_id INTEGER NOT NULL,
    boot_id TEXT NOT NULL,
    clock_synced INTEGER NOT NULL,
    PRIMARY KEY(device_id, item_hash)
) WITHOUT ROWID;

CREATE TABLE events(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    boot_id TEXT NOT NULL,
    clock_synced INTEGER NOT NULL,
    level TEXT NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX events_at ON events(at);
";

/// Version 2: what the fleet sync needs. Visits change in place, so each insert or update of a
/// sighting takes the next value of a counter (`change_seq`) and the sync re-uploads whatever
/// changed past its watermark. `sync_state` holds the counter, the upload watermarks and the
/// time of the last successful sync; `fleet_answers` the answers other appliances of the fleet
/// got, keyed by the phone's pseudonym; attempts keep the item's MD5 for the seed's reports.
const V2: &str = "
ALTER TABLE attempts ADD COLUMN item_md5 TEXT NOT NULL DEFAULT '';
ALTER TABLE sightings ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
UPDATE sightings SET change_seq = id;
CREATE INDEX sightings_change ON sightings(change_seq);

CREATE TABLE sync_state(
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO sync_state(name, value)
    SELECT 'sighting_change', COALESCE(max(id), 0) FROM sightings;

CREATE TABLE fleet_answers(
    phone TEXT NOT NULL,
    item_hash TEXT NOT NULL,
    outcome TEXT NOT NULL,
    at INTEGER NOT NULL,
    appliance TEXT NOT NULL,
    PRIMARY KEY(phone, item_hash)
) WITHOUT ROWID;
";

/// Version 3: the day's report (`o4send report`, the dashboard) reads a whole day of visits and
/// attempts; indexes that hold every column it reads answer it without touching the tables (on
/// a crowded day of 3 million rows, several times faster). They replace the indexes on
/// `last_seen` and `ended_at`, whose first column they share.
const V3: &str = "
CREATE INDEX sightings_period ON sightings(last_seen, first_seen, device_id, rssi_max);
DROP INDEX sightings_last_seen;
CREATE INDEX attempts_period ON attempts(ended_at, device_id, outcome, radio, item_name);
DROP INDEX attempts_ended;
";

/// Version 4: the day summaries the writer keeps (see `summary.rs`), so that a day's report
/// reads one row per phone. `days` lists the local days summarised (start, end, time zone);
/// `day_phones` holds each phone's day (presence: NULL `first_seen` when it was only asked;
/// `answers` bits: 1 asked, 2 accepted, 4 declined, 8 ignored); `day_counts` the attempts per
/// outcome (kind 0, in `offered`) and the questions per item (1) and radio (2). The writer
/// fills them from the existing rows the first time it opens the file.
const V4: &str = "
CREATE TABLE days(
    day INTEGER PRIMARY KEY,
    ends INTEGER NOT NULL,
    zone TEXT NOT NULL
);
CREATE TABLE day_phones(
    day INTEGER NOT NULL,
    device_id INTEGER NOT NULL,
    first_seen INTEGER,
    last_seen INTEGER,
    rssi_max INTEGER,
    hours INTEGER NOT NULL DEFAULT 0,
    returner INTEGER NOT NULL DEFAULT 0,
    asked_hours INTEGER NOT NULL DEFAULT 0,
    accepted_hours INTEGER NOT NULL DEFAULT 0,
    answers INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY(day, device_id)
) WITHOUT ROWID;
CREATE TABLE day_counts(
    day INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    name TEXT NOT NULL,
    offered INTEGER NOT NULL,
    accepted INTEGER NOT NULL,
    PRIMARY KEY(day, kind, name)
) WITHOUT ROWID;
";

/// Version 5: the visitor hotspot's log, one row per page opened or file taken (`kind`
/// `visit` or `download`). `visitor` is the phone's Wi-Fi address as the hotspot's DHCP leased
/// it (a phone uses a random one per network), or `ip:ADDR` when no lease names it; `event_id`
/// is the portal's own id of the event, so a spool file read twice adds nothing.
const V5: &str = "
CREATE TABLE wifi_events(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    at INTEGER NOT NULL,
    visitor TEXT NOT NULL,
    kind TEXT NOT NULL,
    item TEXT,
    bytes INTEGER NOT NULL,
    boot_id TEXT NOT NULL,
    clock_synced INTEGER NOT NULL
);
CREATE INDEX wifi_events_at ON wifi_events(at);
";

/// Version 6: the fleet's answers are downloaded per appliance, past the highest `local_id` of
/// that appliance already read (`fleet_marks`), because appliances now upload side by side and
/// the fleet database's `seq` no longer grows in commit order. The old single watermark over
/// `seq` (`down_fleet`) means nothing any more and goes; with no per-appliance mark yet, the
/// first round reads every answer of the fleet again, which `fleet_answers` takes as it is.
const V6: &str = "
CREATE TABLE fleet_marks(
    appliance TEXT PRIMARY KEY,
    local_id INTEGER NOT NULL
) WITHOUT ROWID;
DELETE FROM sync_state WHERE name = 'down_fleet';
";

/// Version 7: the schema floor, so that a system update can be undone (docs/updates.md). The
/// lowest schema version that can still use this file: a later step that only adds (a table, a
/// column with a default, an index) leaves it, and the release it came from keeps reading and
/// writing the file after falling back; a step an older release would misread raises it
/// (`UPDATE schema_floor SET version = N`), and that release then refuses the file by name.
const V7: &str = "
CREATE TABLE schema_floor(version INTEGER NOT NULL);
INSERT INTO schema_floor VALUES (7);
";

/// Version 8: the caps of campaign rules count, per item, the phones that accepted it here and
/// at the fleet's other appliances (`crate::store::accepted`); these indexes answer that without
/// reading every answer. Only indexes: the floor stays.
const V8: &str = "
CREATE INDEX IF NOT EXISTS answers_accepted ON answers(item_hash, outcome, at);
CREATE INDEX IF NOT EXISTS fleet_answers_accepted ON fleet_answers(item_hash, outcome, at);
";

/// The migration steps; step `i` takes the file from version `i` to `i + 1`. Append only.
const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, V7, V8];

/// The schema version this code writes and reads.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Opens (creating and migrating) the database for the one writer.
pub(crate) fn open_writer(path: &Path) -> Result<Connection, StoreError> {
    check_directory(path)?;
    let cannot_open =
        |e: rusqlite::Error| StoreError::sqlite(format_args!("cannot open {}", path.display()), &e);
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags).map_err(cannot_open)?;
    configure_writer(&conn).map_err(cannot_open)?;
    migrate(&mut conn, path)?;
    Ok(conn)
}

/// Opens a read-only connection; never creates a file.
pub(crate) fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    if !path.is_file() {
        return Err(StoreError::new(
            StoreErrorKind::NoDatabase,
            format!("no database at {}", path.display()),
        ));
    }
    let cannot_open =
        |e: rusqlite::Error| StoreError::sqlite(format_args!("cannot open {}", path.display()), &e);
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(cannot_open)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(cannot_open)?;
    conn.pragma_update(None, "cache_size", READER_CACHE_KIB)
        .map_err(cannot_open)?;
    let found = user_version(&conn).map_err(cannot_open)?;
    check_readable(&conn, path, found)?;
    Ok(conn)
}

fn check_directory(path: &Path) -> Result<(), StoreError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if dir.is_dir() {
        return Ok(());
    }
    Err(StoreError::new(
        StoreErrorKind::NoDirectory,
        format!("database directory {} does not exist", dir.display()),
    ))
}

fn configure_writer(conn: &Connection) -> rusqlite::Result<()> {
    // Must come before the first table exists; a no-op on an existing file.
    conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
            Some(format!("journal_mode stays {mode:?}, WAL is required")),
        ));
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "cache_size", CACHE_KIB)?;
    conn.pragma_update(None, "journal_size_limit", JOURNAL_SIZE_LIMIT)?;
    Ok(())
}

/// Applies the missing steps, one transaction each; refuses a newer file.
fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let failed = |e: rusqlite::Error| {
        StoreError::sqlite(format_args!("cannot migrate {}", path.display()), &e)
    };
    loop {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(failed)?;
        let found = user_version(&tx).map_err(failed)?;
        check_not_newer(&tx, path, found)?;
        let Some(step) = MIGRATIONS.get(found as usize) else {
            return Ok(());
        };
        tx.execute_batch(step).map_err(failed)?;
        tx.pragma_update(None, "user_version", found + 1)
            .map_err(failed)?;
        tx.commit().map_err(failed)?;
    }
}

pub(crate) fn user_version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}

/// A file from a newer o4send is used as it is when its schema floor says this release can
/// (the newer release only added to it), and refused otherwise.
fn check_not_newer(conn: &Connection, path: &Path, found: u32) -> Result<(), StoreError> {
    if found <= SCHEMA_VERSION {
        return Ok(());
    }
    let floor: Option<u32> = conn
        .query_row("SELECT max(version) FROM schema_floor", [], |r| r.get(0))
        .ok()
        .flatten();
    match floor {
        Some(floor) if floor <= SCHEMA_VERSION => Ok(()),
        floor => Err(StoreError::new(
            StoreErrorKind::SchemaTooNew,
            format!(
                "{}: database schema version {found} is newer than this o4send understands \
                 ({SCHEMA_VERSION}) and only schema {} or later can use it",
                path.display(),
                floor.map_or(found, |f| f)
            ),
        )),
    }
}

fn check_readable(conn: &Connection, path: &Path, found: u32) -> Result<(), StoreError> {
    check_not_newer(conn, path, found)?;
    if found >= SCHEMA_VERSION {
        return Ok(());
    }
    Err(StoreError::new(
        StoreErrorKind::SchemaMismatch,
        format!(
            "{}: database schema version {found} is older than this o4send reads ({SCHEMA_VERSION}); \
             start the daemon once to upgrade it",
            path.display()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The log of the first release (schema 1), with a phone that answered, opened by this one:
    /// every step runs, and the phone's answer is still there, so it is never asked again.
    #[test]
    fn the_first_releases_log_carries_forward() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("o4send.db");
        let old = Connection::open(&path).unwrap();
        old.execute_batch(V1).unwrap();
        old.execute_batch(
            "INSERT INTO devices VALUES (1, 'AA:BB:CC:DD:EE:FF', 'Pixel', 5898764, 1, 2, 'b', 1);
             INSERT INTO attempts VALUES (1, 1, 'h', 'flyer.pdf', 'expo', 'hci0', 1, 2,
                 'accepted', 160, 'ok', 1000, 'b', 1);
             INSERT INTO answers VALUES (1, 'h', 'accepted', 2, 1, 'b', 1);
             PRAGMA user_version = 1;",
        )
        .unwrap();
        drop(old);

        let conn = open_writer(&path).unwrap();
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
        let answer: String = conn
            .query_row(
                "SELECT outcome FROM answers JOIN devices ON devices.id = device_id \
                 WHERE addr = 'AA:BB:CC:DD:EE:FF' AND item_hash = 'h'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(answer, "accepted");
        let floor: u32 = conn
            .query_row("SELECT version FROM schema_floor", [], |r| r.get(0))
            .unwrap();
        assert_eq!(floor, 7);
    }
}
