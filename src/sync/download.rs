//! Download: the answers other appliances of the same fleet got, past the local watermark, into
//! the store's `fleet_answers`, where the policy finds them. Only answers count (accepted,
//! declined, ignored, unsupported type, no Object Push): an unreachable phone elsewhere may
//! well be reachable here.

use super::error::SyncError;
use super::Settings;
use crate::outcome::Outcome;
use crate::store::{marks, FleetAnswer, Reader, Store, SyncMark};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;

/// Rows per download query.
const PAGE: usize = 5000;

/// Downloads everything new; returns how many answers arrived.
pub(super) async fn fleet(
    settings: &Settings,
    reader: &mut Reader,
    store: &Store,
    conn: &mut Conn,
) -> Result<u64, SyncError> {
    let mut total = 0;
    loop {
        let after = reader
            .sync_state()
            .map_err(|e| SyncError::store(&e))?
            .download;
        let rows: Vec<(i64, String, String, String, i64, String)> = conn
            .exec(
                "SELECT seq, phone, item_hash, outcome, ended_ms, appliance FROM attempts
                 WHERE fleet = ? AND seq > ? AND appliance <> ?
                   AND outcome IN ('accepted', 'declined', 'ignored', 'unsupported_type', 'no_opp')
                 ORDER BY seq LIMIT ?",
                (&settings.cfg.fleet, after, &settings.appliance, PAGE as u64),
            )
            .await
            .map_err(|e| SyncError::mysql("downloading the fleet's answers", &e))?;
        let Some(last) = rows.last().map(|r| r.0) else {
            return Ok(total);
        };
        let count = rows.len();
        let answers: Vec<FleetAnswer> = rows.into_iter().filter_map(answer).collect();
        total += answers.len() as u64;
        store
            .fleet_answers(answers)
            .await
            .map_err(|e| SyncError::store(&e))?;
        store
            .sync_marks(vec![SyncMark {
                name: marks::DOWNLOAD,
                value: last,
            }])
            .await
            .map_err(|e| SyncError::store(&e))?;
        if count < PAGE {
            return Ok(total);
        }
    }
}

/// A row as an answer; a transient or unknown outcome is none.
fn answer(row: (i64, String, String, String, i64, String)) -> Option<FleetAnswer> {
    let (_, phone, item_hash, outcome, at_ms, appliance) = row;
    let outcome: Outcome = outcome.parse().ok()?;
    (!outcome.is_transient()).then_some(FleetAnswer {
        phone,
        item_hash,
        outcome,
        at_ms,
        appliance,
    })
}
