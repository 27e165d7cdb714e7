//! Download: the answers other appliances of the same fleet got, into the store's
//! `fleet_answers`, where the policy finds them. Only answers count (accepted, declined,
//! ignored, unsupported type, no Object Push): an unreachable phone elsewhere may well be
//! reachable here.
//!
//! Each other appliance is read on its own, past the highest `local_id` of it already read (its
//! mark in the store's `fleet_marks`). That misses nothing although appliances upload side by
//! side: an appliance commits its attempts in `local_id` order, so once one of its rows is
//! visible, every lower one is too. The fleet's appliances come from `fleet_appliances`.
//!
//! What is read is `fleet_first_answers`: only the fleet's first answer to each phone and item
//! (each upload adds its batch's first answers in the same transaction). A booth that answered a
//! pair itself, or learnt it from another, has no use for the third booth's answer to it.

use super::error::SyncError;
use super::Settings;
use crate::model::outcome::Outcome;
use crate::store::{FleetAnswer, FleetMark, Reader, Store};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;

/// Rows per download query.
const PAGE: usize = 5000;

/// One row as the download reads it: local id, phone, item hash, outcome, ended ms.
type Row = (i64, String, String, String, i64);

/// Downloads everything new from every other appliance; returns how many answers arrived.
pub(super) async fn fleet(
    settings: &Settings,
    reader: &mut Reader,
    store: &Store,
    conn: &mut Conn,
) -> Result<u64, SyncError> {
    let marks = reader.fleet_marks().map_err(|e| SyncError::store(&e))?;
    let mut total = 0;
    for other in others(settings, conn).await? {
        let after = marks.get(&other).copied().unwrap_or(0);
        total += appliance(settings, store, conn, &other, after).await?;
    }
    Ok(total)
}

/// The other appliances of this fleet.
async fn others(settings: &Settings, conn: &mut Conn) -> Result<Vec<String>, SyncError> {
    conn.exec(
        "SELECT appliance FROM fleet_appliances WHERE fleet = ? AND appliance <> ?",
        (&settings.cfg.fleet, &settings.appliance),
    )
    .await
    .map_err(|e| SyncError::mysql("listing the fleet's appliances", &e))
}

/// Downloads the answers of appliance `other` past its mark `after`, a page at a time, each
/// page written with its new mark in one transaction of the store.
async fn appliance(
    settings: &Settings,
    store: &Store,
    conn: &mut Conn,
    other: &str,
    mut after: i64,
) -> Result<u64, SyncError> {
    let mut total = 0;
    loop {
        let rows: Vec<Row> = conn
            .exec(
                "SELECT local_id, phone, item_hash, outcome, ended_ms FROM fleet_first_answers
                 WHERE appliance = ? AND local_id > ? AND fleet = ?
                 ORDER BY local_id LIMIT ?",
                (other, after, &settings.cfg.fleet, PAGE as u64),
            )
            .await
            .map_err(|e| SyncError::mysql("downloading the fleet's answers", &e))?;
        let Some(last) = rows.last().map(|r| r.0) else {
            return Ok(total);
        };
        let count = rows.len();
        let answers: Vec<FleetAnswer> = rows.into_iter().filter_map(|r| answer(r, other)).collect();
        total += answers.len() as u64;
        let mark = FleetMark {
            appliance: other.to_string(),
            local_id: last,
        };
        store
            .fleet_answers(answers, vec![mark])
            .await
            .map_err(|e| SyncError::store(&e))?;
        if count < PAGE {
            return Ok(total);
        }
        after = last;
    }
}

/// A row as an answer; a transient or unknown outcome is none.
fn answer(row: Row, appliance: &str) -> Option<FleetAnswer> {
    let (_, phone, item_hash, outcome, at_ms) = row;
    let outcome: Outcome = outcome.parse().ok()?;
    (!outcome.is_transient()).then_some(FleetAnswer {
        phone,
        item_hash,
        outcome,
        at_ms,
        appliance: appliance.to_string(),
    })
}
