//! The fleet database's shape, created and upgraded by the appliances themselves.
//!
//! `o4send_schema` holds one row with the version; [`MIGRATIONS`] are the steps, each made of
//! idempotent DDL (MySQL commits DDL at once, so a step cut short is simply run again) followed
//! by the version bump, under a claim (`super::claim`) so two appliances, even on two servers of
//! a cluster, do not migrate at once. A server whose schema is newer than this o4send knows is
//! refused before anything is written: rows written by an old appliance into a newer shape could
//! be wrong in ways nobody notices.
//! docs/mysql.md describes the tables and shows report queries.

use super::error::SyncError;
use mysql_async::prelude::Queryable;
use mysql_async::Conn;

/// Version 1: attempts, visits and events of every appliance, the fleets (whose rows serialised
/// attempt uploads, until version 3, so `seq` grew in commit order within a fleet), and the
/// seed's view.
const V1: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS fleets (
        fleet VARCHAR(64) NOT NULL PRIMARY KEY
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    "CREATE TABLE IF NOT EXISTS attempts (
        seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        fleet VARCHAR(64) NOT NULL,
        appliance VARCHAR(64) NOT NULL,
        local_id BIGINT NOT NULL,
        phone VARCHAR(64) NOT NULL,
        item_hash CHAR(64) NOT NULL,
        item_md5 VARCHAR(32) NOT NULL,
        item_name VARCHAR(255) NOT NULL,
        campaign VARCHAR(255) NOT NULL,
        radio VARCHAR(64) NOT NULL,
        started_ms BIGINT NOT NULL,
        ended_ms BIGINT NOT NULL,
        outcome VARCHAR(32) NOT NULL,
        raw_code SMALLINT NULL,
        reason TEXT NOT NULL,
        bytes BIGINT NOT NULL,
        boot_id VARCHAR(64) NOT NULL,
        clock_synced BOOLEAN NOT NULL,
        uploaded_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        UNIQUE KEY attempts_row (appliance, local_id),
        KEY attempts_fleet (fleet, seq),
        KEY attempts_phone (phone, item_hash),
        KEY attempts_ended (ended_ms)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    "CREATE TABLE IF NOT EXISTS sightings (
        fleet VARCHAR(64) NOT NULL,
        appliance VARCHAR(64) NOT NULL,
        local_id BIGINT NOT NULL,
        phone VARCHAR(64) NOT NULL,
        name VARCHAR(255) NULL,
        class INT NULL,
        radio VARCHAR(64) NOT NULL,
        first_seen_ms BIGINT NOT NULL,
        last_seen_ms BIGINT NOT NULL,
        count BIGINT NOT NULL,
        rssi_min SMALLINT NULL,
        rssi_max SMALLINT NULL,
        rssi_last SMALLINT NULL,
        boot_id VARCHAR(64) NOT NULL,
        clock_synced BOOLEAN NOT NULL,
        change_seq BIGINT NOT NULL,
        uploaded_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
            ON UPDATE CURRENT_TIMESTAMP(3),
        PRIMARY KEY (appliance, local_id),
        KEY sightings_phone (phone),
        KEY sightings_last_seen (last_seen_ms)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    "CREATE TABLE IF NOT EXISTS events (
        fleet VARCHAR(64) NOT NULL,
        appliance VARCHAR(64) NOT NULL,
        local_id BIGINT NOT NULL,
        at_ms BIGINT NOT NULL,
        boot_id VARCHAR(64) NOT NULL,
        clock_synced BOOLEAN NOT NULL,
        level VARCHAR(8) NOT NULL,
        kind VARCHAR(64) NOT NULL,
        message TEXT NOT NULL,
        uploaded_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (appliance, local_id),
        KEY events_at (at_ms)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    "CREATE OR REPLACE VIEW phones_seen AS
        SELECT FROM_UNIXTIME(ended_ms / 1000) AS `timestamp`,
               phone AS bt_phone_mac,
               item_md5 AS transfer_filemd5sum,
               outcome AS transfer_status,
               appliance,
               fleet
        FROM attempts",
];

/// Version 2: what visitors did on each appliance's hotspot captive page (`visit` or
/// `download`), the phone named by the fleet's pseudonym of its Wi-Fi address (phones choose a
/// random one per network, so this counts addresses, and never matches a Bluetooth phone).
const V2: &[&str] = &["CREATE TABLE IF NOT EXISTS wifi_events (
        fleet VARCHAR(64) NOT NULL,
        appliance VARCHAR(64) NOT NULL,
        local_id BIGINT NOT NULL,
        at_ms BIGINT NOT NULL,
        visitor VARCHAR(64) NOT NULL,
        kind VARCHAR(16) NOT NULL,
        item VARCHAR(255) NULL,
        bytes BIGINT NOT NULL,
        boot_id VARCHAR(64) NOT NULL,
        clock_synced BOOLEAN NOT NULL,
        uploaded_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (appliance, local_id),
        KEY wifi_events_at (at_ms)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"];

/// Version 3: appliances upload side by side. `fleet_appliances` names the appliances of each
/// fleet (an upload adds its own row); a download reads each other appliance's answers past the
/// highest `local_id` it has of that appliance, on the unique key (`appliance`, `local_id`), so
/// `seq` need no longer grow in commit order and the `fleets` row is no longer locked. The
/// appliances already known are copied from `attempts`; no row changes. A version 2 appliance
/// refuses a version 3 server, so no appliance still downloads by `seq`.
const V3: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS fleet_appliances (
        fleet VARCHAR(64) NOT NULL,
        appliance VARCHAR(64) NOT NULL,
        PRIMARY KEY (fleet, appliance)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    "INSERT IGNORE INTO fleet_appliances(fleet, appliance)
        SELECT DISTINCT fleet, appliance FROM attempts",
];

/// Version 4: the fleet's first answer to each (phone, item), which each attempt upload adds to
/// (`INSERT IGNORE`, in the same transaction). Downloads read it instead of `attempts`: a phone
/// answered at many booths is learnt once, not once per booth, so what a booth downloads grows
/// with the fleet's phones, not with the fleet's size squared. Filled from `attempts` (in `seq`
/// order, the first answer wins); no row elsewhere changes.
const V4: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS fleet_first_answers (
        fleet VARCHAR(64) NOT NULL,
        phone VARCHAR(64) NOT NULL,
        item_hash CHAR(64) NOT NULL,
        appliance VARCHAR(64) NOT NULL,
        local_id BIGINT NOT NULL,
        outcome VARCHAR(32) NOT NULL,
        ended_ms BIGINT NOT NULL,
        PRIMARY KEY (fleet, phone, item_hash),
        KEY first_answers_by_appliance (appliance, local_id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    "INSERT IGNORE INTO fleet_first_answers
        (fleet, phone, item_hash, appliance, local_id, outcome, ended_ms)
        SELECT fleet, phone, item_hash, appliance, local_id, outcome, ended_ms FROM attempts
        WHERE outcome IN ('accepted', 'declined', 'ignored', 'unsupported_type', 'no_opp')
        ORDER BY seq",
];

/// The steps; step `i` takes the server from version `i` to `i + 1`. Append only.
const MIGRATIONS: &[&[&str]] = &[V1, V2, V3, V4];

/// The fleet database schema version this code writes and reads.
pub const MYSQL_SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// How long to wait for another appliance's migration.
const WAIT_SECS: u64 = 60;

/// Creates or upgrades the schema; refuses a server newer than this code. A database already at
/// this version costs one `SELECT`: no statement that changes the schema runs (on a Galera
/// cluster every such statement, even `CREATE TABLE IF NOT EXISTS`, stops the whole cluster for a
/// moment to apply it in order).
pub(super) async fn prepare(conn: &mut Conn) -> Result<(), SyncError> {
    let failed = |e: mysql_async::Error| SyncError::mysql("preparing the fleet database", &e);
    if let Some(found) = current(conn).await? {
        check_not_newer(found)?;
        if found == MYSQL_SCHEMA_VERSION {
            return Ok(());
        }
    }
    conn.query_drop(
        "CREATE TABLE IF NOT EXISTS o4send_schema (
            id TINYINT NOT NULL PRIMARY KEY,
            version INT NOT NULL,
            updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP
        ) ENGINE=InnoDB",
    )
    .await
    .map_err(failed)?;
    super::claim::first_row(
        conn,
        "INSERT IGNORE INTO o4send_schema(id, version) VALUES (1, 0)",
    )
    .await
    .map_err(failed)?;
    let found = version(conn).await?;
    check_not_newer(found)?;
    if found == MYSQL_SCHEMA_VERSION {
        return Ok(());
    }
    super::claim::prepare(conn).await?;
    let holder = super::claim::holder();
    if !wait_for_claim(conn, &holder).await? {
        return Ok(());
    }
    let result = migrate(conn, &holder).await;
    super::claim::release(conn, &holder).await;
    result
}

/// Waits up to [`WAIT_SECS`] for the migration claim: true once this appliance holds it, false
/// when another appliance finished the migration meanwhile.
async fn wait_for_claim(conn: &mut Conn, holder: &str) -> Result<bool, SyncError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(WAIT_SECS);
    loop {
        if super::claim::take(conn, holder).await? {
            tracing::debug!("took the migration claim as {holder}");
            return Ok(true);
        }
        let found = version(conn).await?;
        tracing::debug!("another appliance holds the migration claim; the schema is at {found}");
        check_not_newer(found)?;
        if found == MYSQL_SCHEMA_VERSION {
            return Ok(false);
        }
        if std::time::Instant::now() > deadline {
            return Err(SyncError::new(
                super::SyncErrorKind::Transient,
                "another appliance is migrating the fleet database; trying later",
            ));
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

/// Runs the steps from the server's version on, renewing the claim before each one; gives up
/// (to try later) if the claim was lost, so two appliances never change the schema at once.
async fn migrate(conn: &mut Conn, holder: &str) -> Result<(), SyncError> {
    let failed = |e: mysql_async::Error| SyncError::mysql("migrating the fleet database", &e);
    loop {
        if !super::claim::take(conn, holder).await? {
            return Err(SyncError::new(
                super::SyncErrorKind::Transient,
                "the migration claim was lost to another appliance; trying later",
            ));
        }
        let found = version(conn).await?;
        check_not_newer(found)?;
        let Some(step) = MIGRATIONS.get(found as usize) else {
            return Ok(());
        };
        tracing::debug!("migrating the fleet database from version {found}");
        for ddl in *step {
            conn.query_drop(*ddl).await.map_err(failed)?;
        }
        conn.exec_drop(
            "UPDATE o4send_schema SET version = ? WHERE id = 1 AND version = ?",
            (found + 1, found),
        )
        .await
        .map_err(failed)?;
    }
}

/// The version, or None when the database has no `o4send_schema` yet (error 1146).
async fn current(conn: &mut Conn) -> Result<Option<u32>, SyncError> {
    let read: Result<Option<u32>, _> = conn
        .query_first("SELECT version FROM o4send_schema WHERE id = 1")
        .await;
    match read {
        Ok(v) => Ok(v),
        Err(mysql_async::Error::Server(e)) if e.code == 1146 => Ok(None),
        Err(e) => Err(SyncError::mysql("reading the fleet database version", &e)),
    }
}

async fn version(conn: &mut Conn) -> Result<u32, SyncError> {
    let v: Option<u32> = conn
        .query_first("SELECT version FROM o4send_schema WHERE id = 1")
        .await
        .map_err(|e| SyncError::mysql("reading the fleet database version", &e))?;
    Ok(v.unwrap_or(0))
}

fn check_not_newer(found: u32) -> Result<(), SyncError> {
    if found <= MYSQL_SCHEMA_VERSION {
        return Ok(());
    }
    Err(SyncError::fatal(format!(
        "fleet database schema version {found} is newer than this o4send understands \
         ({MYSQL_SCHEMA_VERSION}); upgrade o4send — nothing was written"
    )))
}
