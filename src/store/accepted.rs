//! Accepted answers per item, here and at the fleet's other appliances, in total and since the
//! start of a day: what the policy's caps count from (`crate::policy::caps`). Read when the
//! daemon starts or takes a new campaign (this appliance's) and after every sync (the fleet's).

use crate::policy::caps::CapCounts;
use rusqlite::{params, Connection};
use std::collections::HashMap;

/// Per item hash: this appliance's accepted answers and the fleet's (from `fleet_answers`).
pub type Accepted = (HashMap<String, CapCounts>, HashMap<String, CapCounts>);

pub(super) fn counts(
    conn: &Connection,
    hashes: &[String],
    day_from_ms: i64,
) -> rusqlite::Result<Accepted> {
    let mut local = HashMap::new();
    let mut fleet = HashMap::new();
    let mut here = conn.prepare_cached(
        "SELECT count(*), count(CASE WHEN at >= ?2 THEN 1 END) FROM answers
         WHERE item_hash = ?1 AND outcome = 'accepted'",
    )?;
    let mut there = conn.prepare_cached(
        "SELECT count(*), count(CASE WHEN at >= ?2 THEN 1 END) FROM fleet_answers
         WHERE item_hash = ?1 AND outcome = 'accepted'",
    )?;
    let row = |r: &rusqlite::Row| {
        Ok(CapCounts {
            total: r.get::<_, i64>(0)? as u64,
            today: r.get::<_, i64>(1)? as u64,
        })
    };
    for hash in hashes {
        local.insert(
            hash.clone(),
            here.query_row(params![hash, day_from_ms], row)?,
        );
        fleet.insert(
            hash.clone(),
            there.query_row(params![hash, day_from_ms], row)?,
        );
    }
    Ok((local, fleet))
}
