//! A phone's past, as the policy needs it to decide whether to offer it something.
//!
//! The answer to "did this phone already answer for this content?" comes from `answers`, which
//! retention never prunes; attempt counts and failures come from `attempts`, which it does.
//! Failures count only transient attempts after the last answer, so a retry budget starts
//! fresh once a phone has spoken. Answers other appliances of the fleet got (`fleet_answers`,
//! filled by the sync, keyed by the phone's pseudonym) count as answers too, unless this
//! appliance has its own.

use crate::model::device::BdAddr;
use crate::model::outcome::Outcome;
use crate::sync::pseudonym::PhoneKey;
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::BTreeMap;

/// Everything the store knows about one phone's offers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeviceHistory {
    /// One entry per content hash, sorted by hash.
    pub items: Vec<ItemHistory>,
    /// The phone has said it has no Object Push service.
    pub no_opp: bool,
}

/// One content item offered to one phone.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemHistory {
    pub item_hash: String,
    /// The latest answer (anything but unreachable/failed), from `answers`.
    pub answer: Option<Outcome>,
    /// Transient attempts (unreachable/failed) since the last answer, or ever if none.
    pub failures: u32,
    /// Attempts still on record (retention may have pruned older ones).
    pub attempts: u32,
    /// End of the latest attempt on record, else the time of the answer.
    pub last_ended_ms: Option<i64>,
}

impl ItemHistory {
    fn new(item_hash: String) -> ItemHistory {
        ItemHistory {
            item_hash,
            answer: None,
            failures: 0,
            attempts: 0,
            last_ended_ms: None,
        }
    }
}

pub(crate) fn device_history(
    conn: &Connection,
    addr: BdAddr,
    phone_key: Option<&PhoneKey>,
) -> rusqlite::Result<DeviceHistory> {
    let tx = conn.unchecked_transaction()?; // one snapshot for every query
    let mut history = local_history(&tx, addr)?;
    if let Some(key) = phone_key {
        add_fleet_answers(&tx, &key.phone(addr), &mut history)?;
    }
    Ok(history)
}

/// Fills in answers the fleet got where this appliance has none of its own.
fn add_fleet_answers(
    conn: &Connection,
    phone: &str,
    history: &mut DeviceHistory,
) -> rusqlite::Result<()> {
    let mut stmt =
        conn.prepare_cached("SELECT item_hash, outcome, at FROM fleet_answers WHERE phone = ?1")?;
    let mut rows = stmt.query(params![phone])?;
    while let Some(row) = rows.next()? {
        let hash: String = row.get(0)?;
        let outcome = outcome_at(row, 1)?;
        let at: i64 = row.get(2)?;
        history.no_opp |= outcome == Outcome::NoOpp;
        let index = match history.items.binary_search_by(|i| i.item_hash.cmp(&hash)) {
            Ok(i) => i,
            Err(i) => {
                history.items.insert(i, ItemHistory::new(hash));
                i
            }
        };
        let item = &mut history.items[index];
        if item.answer.is_none() {
            item.answer = Some(outcome);
            item.last_ended_ms = Some(item.last_ended_ms.map_or(at, |t| t.max(at)));
        }
    }
    Ok(())
}

fn local_history(conn: &Connection, addr: BdAddr) -> rusqlite::Result<DeviceHistory> {
    let tx = conn;
    let Some(device) = device_id(tx, addr)? else {
        return Ok(DeviceHistory::default());
    };
    let mut items = BTreeMap::new();
    let mut no_opp = false;
    // The attempt that gave each answer: failures count only after it.
    let mut answered_by = BTreeMap::new();
    let mut stmt = tx.prepare_cached(
        "SELECT item_hash, outcome, at, attempt_id FROM answers WHERE device_id = ?1",
    )?;
    let mut rows = stmt.query(params![device])?;
    while let Some(row) = rows.next()? {
        let hash: String = row.get(0)?;
        let outcome = outcome_at(row, 1)?;
        no_opp |= outcome == Outcome::NoOpp;
        answered_by.insert(hash.clone(), row.get::<_, i64>(3)?);
        let item = items
            .entry(hash.clone())
            .or_insert_with(|| ItemHistory::new(hash));
        item.answer = Some(outcome);
        item.last_ended_ms = Some(row.get(2)?);
    }
    let mut stmt = tx.prepare_cached(
        "SELECT id, item_hash, outcome, ended_at FROM attempts WHERE device_id = ?1 ORDER BY id",
    )?;
    let mut rows = stmt.query(params![device])?;
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let hash: String = row.get(1)?;
        let outcome = outcome_at(row, 2)?;
        no_opp |= outcome == Outcome::NoOpp;
        let after = answered_by.get(&hash).copied().unwrap_or(i64::MIN);
        let item = items
            .entry(hash.clone())
            .or_insert_with(|| ItemHistory::new(hash));
        item.attempts += 1;
        if outcome.is_transient() && id > after {
            item.failures += 1;
        }
        item.last_ended_ms = Some(row.get(3)?);
    }
    Ok(DeviceHistory {
        items: items.into_values().collect(),
        no_opp,
    })
}

fn device_id(conn: &Connection, addr: BdAddr) -> rusqlite::Result<Option<i64>> {
    conn.query_row(
        "SELECT id FROM devices WHERE addr = ?1",
        params![addr.to_string()],
        |row| row.get(0),
    )
    .optional()
}

/// Reads an outcome column, naming the bad value if the file holds one this code does not know.
pub(crate) fn outcome_at(row: &rusqlite::Row<'_>, idx: usize) -> rusqlite::Result<Outcome> {
    let text: String = row.get(idx)?;
    text.parse().map_err(|e: String| {
        rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, e.into())
    })
}
