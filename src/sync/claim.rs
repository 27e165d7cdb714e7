//! Who may change the fleet database's schema: one appliance at a time, across every server of
//! a cluster.
//!
//! `GET_LOCK` cannot say it: on a MariaDB Galera cluster it locks on one node only, and two
//! booths on two nodes migrating at once left one node waiting forever for a metadata lock. A
//! row can: the claim is one row of `o4send_migration`, taken by an `UPDATE` that succeeds only
//! while nobody else holds it. On one server InnoDB's row lock orders two claims; on a cluster
//! every node certifies the row's writes, so of two claims at once one commits and the other
//! fails (a certification conflict, or nothing updated once the winner is seen). A claim lasts
//! [`HOLD_SECS`] by the server's clock and is renewed before every step, so an appliance that
//! died mid-migration holds the others back for that long at most.

use super::contention;
use super::error::SyncError;
use mysql_async::prelude::Queryable;
use mysql_async::Conn;

/// How long a claim lasts without renewal.
const HOLD_SECS: u64 = 300;

/// The server's clock in milliseconds (every appliance reads the same one).
const NOW_MS: &str = "CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)";

/// Creates the claim's table and row if missing (both idempotent).
pub(super) async fn prepare(conn: &mut Conn) -> Result<(), SyncError> {
    let failed = |e: mysql_async::Error| SyncError::mysql("preparing the migration claim", &e);
    conn.query_drop(
        "CREATE TABLE IF NOT EXISTS o4send_migration (
            id TINYINT NOT NULL PRIMARY KEY,
            holder VARCHAR(64) NOT NULL,
            until_ms BIGINT NOT NULL,
            takes BIGINT NOT NULL DEFAULT 0
        ) ENGINE=InnoDB",
    )
    .await
    .map_err(failed)?;
    first_row(
        conn,
        "INSERT IGNORE INTO o4send_migration(id, holder, until_ms) VALUES (1, '', 0)",
    )
    .await
    .map_err(failed)
}

/// Runs the `INSERT IGNORE` of a table's one row. Two appliances on two nodes of a cluster may
/// insert it at the same moment; the one that loses the certification finds the other's row,
/// which is all it wanted.
pub(super) async fn first_row(conn: &mut Conn, sql: &str) -> Result<(), mysql_async::Error> {
    match conn.query_drop(sql).await {
        Err(e) if contention::is_contention(&e) => Ok(()),
        other => other,
    }
}

/// Takes the claim for `holder`, or renews it if `holder` has it; false if another holds it.
/// (`takes` changes with every take, so a renewal in the same millisecond still counts as a
/// changed row: the server reports changed rows, not matched ones.) On a cluster two takes at
/// once meet as a certification conflict, which says nothing of who holds the claim: the take
/// is tried again, as contention is everywhere in sync, and then reads the row as it is.
pub(super) async fn take(conn: &mut Conn, holder: &str) -> Result<bool, SyncError> {
    let sql = format!(
        "UPDATE o4send_migration SET holder = ?, until_ms = {NOW_MS} + ?, takes = takes + 1 \
         WHERE id = 1 AND (holder = ? OR until_ms < {NOW_MS})"
    );
    let params = (holder, HOLD_SECS * 1000, holder);
    let what = "claiming the migration";
    match update(conn, &sql, params, what).await {
        Ok(changed) => Ok(changed == 1),
        Err(e) => Err(SyncError::mysql(what, &e)),
    }
}

/// Gives the claim up, if `holder` still has it; tried again on contention like a take, since
/// a claim left behind holds every other appliance back until it expires.
pub(super) async fn release(conn: &mut Conn, holder: &str) {
    let sql = "UPDATE o4send_migration SET until_ms = 0 WHERE id = 1 AND holder = ?";
    let _ = update(conn, sql, (holder,), "giving the migration claim up").await;
}

/// Runs one `UPDATE` of the claim's row, tried again on contention (bounded, with jitter);
/// returns the rows it changed.
async fn update<P>(
    conn: &mut Conn,
    sql: &str,
    params: P,
    what: &str,
) -> Result<u64, mysql_async::Error>
where
    P: Into<mysql_async::Params> + Clone + Send,
{
    let mut attempt = 1;
    loop {
        match conn.exec_drop(sql, params.clone()).await {
            Ok(()) => return Ok(conn.affected_rows()),
            Err(e) if contention::is_contention(&e) && attempt < contention::TRIES => {
                attempt += 1;
                contention::wait_before(attempt, what, &e).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// A name for this try that no other appliance or process uses.
pub(super) fn holder() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{}-{nanos}", std::process::id())
}
