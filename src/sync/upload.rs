//! Upload: the log's rows past their watermark, a batch per MySQL transaction, then the mark.
//!
//! Each batch is one multi-row `INSERT` (parameterised): attempts and events never change, so
//! `INSERT IGNORE` on (appliance, local id) makes a repeated batch harmless; visits change in
//! place, so they are upserted, and a stale copy never overwrites a fresher one (`change_seq`
//! decides). The watermark is written through the store's writer only after the commit.

use super::contention;
use super::error::SyncError;
use super::Settings;
use crate::store::{
    marks, OutboxAttempt, OutboxEvent, OutboxSighting, OutboxWifi, Reader, Store, StoreError,
    SyncMark, SyncState,
};
use crate::sync::pseudonym::PhoneKey;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, TxOpts, Value};
use std::time::Duration;

/// The batch's answers (attempts `first..=last` of this appliance) that are the fleet's first
/// for their phone and item; the later ones are already known to every downloader.
const FIRST_ANSWERS: &str = "INSERT IGNORE INTO fleet_first_answers
        (fleet, phone, item_hash, appliance, local_id, outcome, ended_ms)
    SELECT fleet, phone, item_hash, appliance, local_id, outcome, ended_ms FROM attempts
    WHERE appliance = ? AND local_id BETWEEN ? AND ?
      AND outcome IN ('accepted', 'declined', 'ignored', 'unsupported_type', 'no_opp')
    ORDER BY local_id";

/// A batch that takes longer than this (a cut network) is given up and retried.
const BATCH_TIMEOUT: Duration = Duration::from_secs(60);

/// What differs between the uploads of attempts, visits and events.
struct Table<R> {
    /// The watermark's name, and where it stands in the sync state.
    mark: &'static str,
    after: fn(&SyncState) -> i64,
    fetch: fn(&Reader, i64, usize) -> Result<Vec<R>, StoreError>,
    /// The row's position for the watermark.
    key: fn(&R) -> i64,
    values: fn(&Uploader<'_>, &R) -> Vec<Value>,
    head: &'static str,
    columns: &'static str,
    tail: String,
    /// Attempts: a round's first batch names the fleet and the appliance, and every batch adds
    /// its answers to the fleet's first answers (see [`Uploader::commit`]).
    attempts: bool,
}

/// How one try of a batch failed.
enum Tried {
    Failed(mysql_async::Error),
    /// No answer within [`BATCH_TIMEOUT`].
    Silent,
}

/// What one upload step needs.
pub(super) struct Uploader<'a> {
    pub settings: &'a Settings,
    pub key: &'a PhoneKey,
    pub reader: &'a mut Reader,
    pub store: &'a Store,
    pub conn: &'a mut Conn,
}

const ATTEMPT_COLUMNS: &str = "fleet, appliance, local_id, phone, item_hash, item_md5, item_name, \
     campaign, radio, started_ms, ended_ms, outcome, raw_code, reason, bytes, boot_id, clock_synced";
const SIGHTING_COLUMNS: &str = "fleet, appliance, local_id, phone, name, class, radio, \
     first_seen_ms, last_seen_ms, count, rssi_min, rssi_max, rssi_last, boot_id, clock_synced, \
     change_seq";
const EVENT_COLUMNS: &str =
    "fleet, appliance, local_id, at_ms, boot_id, clock_synced, level, kind, message";
const WIFI_COLUMNS: &str =
    "fleet, appliance, local_id, at_ms, visitor, kind, item, bytes, boot_id, clock_synced";
/// Visit columns a fresher copy replaces (`change_seq` last: MySQL assigns left to right).
const SIGHTING_UPDATES: &[&str] = &[
    "phone",
    "name",
    "class",
    "radio",
    "first_seen_ms",
    "last_seen_ms",
    "count",
    "rssi_min",
    "rssi_max",
    "rssi_last",
    "boot_id",
    "clock_synced",
];

impl Uploader<'_> {
    /// Uploads every attempt past the mark; calls `done` with the rows sent so far.
    pub async fn attempts(&mut self, done: &mut (dyn FnMut(u64) + Send)) -> Result<(), SyncError> {
        let table = Table {
            mark: marks::ATTEMPTS,
            after: |s| s.attempts,
            fetch: Reader::outbox_attempts,
            key: |r| r.id,
            values: |u, r| u.attempt(r),
            head: "INSERT IGNORE INTO attempts",
            columns: ATTEMPT_COLUMNS,
            tail: String::new(),
            attempts: true,
        };
        self.upload(table, done).await
    }

    /// Uploads every visit changed past the mark.
    pub async fn sightings(&mut self, done: &mut (dyn FnMut(u64) + Send)) -> Result<(), SyncError> {
        let table = Table {
            mark: marks::SIGHTINGS,
            after: |s| s.sightings,
            fetch: Reader::outbox_sightings,
            key: |r| r.change_seq,
            values: |u, r| u.sighting(r),
            head: "INSERT INTO sightings",
            columns: SIGHTING_COLUMNS,
            tail: upsert_tail(),
            attempts: false,
        };
        self.upload(table, done).await
    }

    /// Uploads every event past the mark.
    pub async fn events(&mut self, done: &mut (dyn FnMut(u64) + Send)) -> Result<(), SyncError> {
        let table = Table {
            mark: marks::EVENTS,
            after: |s| s.events,
            fetch: Reader::outbox_events,
            key: |r| r.id,
            values: |u, r| u.event(r),
            head: "INSERT IGNORE INTO events",
            columns: EVENT_COLUMNS,
            tail: String::new(),
            attempts: false,
        };
        self.upload(table, done).await
    }

    /// Uploads every hotspot visit and download past the mark.
    pub async fn wifi(&mut self, done: &mut (dyn FnMut(u64) + Send)) -> Result<(), SyncError> {
        let table = Table {
            mark: marks::WIFI,
            after: |s| s.wifi,
            fetch: Reader::outbox_wifi,
            key: |r| r.id,
            values: |u, r| u.wifi_event(r),
            head: "INSERT IGNORE INTO wifi_events",
            columns: WIFI_COLUMNS,
            tail: String::new(),
            attempts: false,
        };
        self.upload(table, done).await
    }

    /// The one upload loop: read a batch past the mark, send it in one transaction, move the
    /// mark, until nothing is left.
    async fn upload<R>(
        &mut self,
        t: Table<R>,
        done: &mut (dyn FnMut(u64) + Send),
    ) -> Result<(), SyncError> {
        let batch = self.settings.cfg.batch;
        let mut register = t.attempts;
        loop {
            let state = self.reader.sync_state().map_err(|e| SyncError::store(&e))?;
            let rows = (t.fetch)(self.reader, (t.after)(&state), batch)
                .map_err(|e| SyncError::store(&e))?;
            let Some(last) = rows.last().map(t.key) else {
                return Ok(());
            };
            let values: Vec<Vec<Value>> = rows.iter().map(|r| (t.values)(self, r)).collect();
            let sql = insert(t.head, t.columns, values.len(), &t.tail);
            let first = rows.first().map(t.key).unwrap_or(last);
            let answers = t.attempts.then_some((first, last));
            self.commit(&sql, values, register, answers).await?;
            register = false;
            self.mark(t.mark, last).await?;
            done(rows.len() as u64);
        }
    }

    /// One transaction. With `register` (a round's first batch of attempts) it also names the
    /// fleet in `fleets` and this appliance in `fleet_appliances`, where the other appliances'
    /// downloads find it; nothing is locked beyond the rows written, so the appliances of a
    /// fleet upload side by side. Downloads miss nothing all the same: an appliance sends its
    /// attempts in `local_id` order and moves its mark only after the commit, so when a row is
    /// visible every lower `local_id` of that appliance is too. Contention (a deadlock, a lock wait timeout, a cluster's certification conflict) is
    /// tried again in place (`super::contention`), not surfaced.
    async fn commit(
        &mut self,
        sql: &str,
        rows: Vec<Vec<Value>>,
        register: bool,
        answers: Option<(i64, i64)>,
    ) -> Result<(), SyncError> {
        let params: Vec<Value> = rows.into_iter().flatten().collect();
        let mut attempt = 1;
        loop {
            match self
                .commit_once(sql, params.clone(), register, answers)
                .await
            {
                Err(Tried::Failed(e))
                    if contention::is_contention(&e) && attempt < contention::TRIES =>
                {
                    attempt += 1;
                    contention::wait_before(attempt, "uploading a batch", &e).await;
                }
                Err(Tried::Failed(e)) => return Err(SyncError::mysql("uploading a batch", &e)),
                Err(Tried::Silent) => {
                    return Err(SyncError::new(
                        super::SyncErrorKind::Transient,
                        format!(
                            "uploading a batch: no answer within {}s",
                            BATCH_TIMEOUT.as_secs()
                        ),
                    ))
                }
                Ok(()) => return Ok(()),
            }
        }
    }

    /// One try of a batch's transaction.
    async fn commit_once(
        &mut self,
        sql: &str,
        params: Vec<Value>,
        register: bool,
        answers: Option<(i64, i64)>,
    ) -> Result<(), Tried> {
        let (fleet, appliance) = (
            fit(&self.settings.cfg.fleet, 64),
            fit(&self.settings.appliance, 64),
        );
        let work = async {
            let mut tx = self.conn.start_transaction(TxOpts::default()).await?;
            if register {
                tx.exec_drop("INSERT IGNORE INTO fleets(fleet) VALUES (?)", (&fleet,))
                    .await?;
                tx.exec_drop(
                    "INSERT IGNORE INTO fleet_appliances(fleet, appliance) VALUES (?, ?)",
                    (&fleet, &appliance),
                )
                .await?;
            }
            tx.exec_drop(sql, params).await?;
            if let Some((first, last)) = answers {
                tx.exec_drop(FIRST_ANSWERS, (&appliance, first, last))
                    .await?;
            }
            tx.commit().await
        };
        match tokio::time::timeout(BATCH_TIMEOUT, work).await {
            Ok(result) => result.map_err(Tried::Failed),
            Err(_) => Err(Tried::Silent),
        }
    }

    async fn mark(&mut self, name: &'static str, value: i64) -> Result<(), SyncError> {
        self.store
            .sync_marks(vec![SyncMark { name, value }])
            .await
            .map_err(|e| SyncError::store(&e))
    }

    /// A hotspot event; the visitor's Wi-Fi address is pseudonymised like a Bluetooth one.
    fn wifi_event(&self, r: &OutboxWifi) -> Vec<Value> {
        let s = self.settings;
        vec![
            fit(&s.cfg.fleet, 64).into(),
            fit(&s.appliance, 64).into(),
            r.id.into(),
            r.at_ms.into(),
            fit(&self.key.phone_text(&r.visitor), 64).into(),
            fit(&r.kind, 16).into(),
            r.item.as_deref().map(|i| fit(i, 255)).into(),
            r.bytes.into(),
            fit(&r.boot_id, 64).into(),
            r.clock_synced.into(),
        ]
    }

    fn attempt(&self, r: &OutboxAttempt) -> Vec<Value> {
        let s = self.settings;
        vec![
            fit(&s.cfg.fleet, 64).into(),
            fit(&s.appliance, 64).into(),
            r.id.into(),
            self.key.phone_text(&r.addr).into(),
            fit(&r.item_hash, 64).into(),
            fit(&r.item_md5, 32).into(),
            fit(&r.item_name, 255).into(),
            fit(&r.campaign, 255).into(),
            fit(&r.radio, 64).into(),
            r.started_ms.into(),
            r.ended_ms.into(),
            fit(&r.outcome, 32).into(),
            r.raw_code.into(),
            r.reason.clone().into(),
            r.bytes.into(),
            fit(&r.boot_id, 64).into(),
            r.clock_synced.into(),
        ]
    }

    /// Device names are personal too: they leave only with raw addresses.
    fn sighting(&self, r: &OutboxSighting) -> Vec<Value> {
        let s = self.settings;
        let name = match self.key {
            PhoneKey::Raw => r.name.as_deref().map(|n| fit(n, 255)),
            PhoneKey::Hmac(_) => None,
        };
        vec![
            fit(&s.cfg.fleet, 64).into(),
            fit(&s.appliance, 64).into(),
            r.id.into(),
            self.key.phone_text(&r.addr).into(),
            name.into(),
            r.class.into(),
            fit(&r.radio, 64).into(),
            r.first_seen_ms.into(),
            r.last_seen_ms.into(),
            r.count.into(),
            r.rssi_min.into(),
            r.rssi_max.into(),
            r.rssi_last.into(),
            fit(&r.boot_id, 64).into(),
            r.clock_synced.into(),
            r.change_seq.into(),
        ]
    }

    fn event(&self, r: &OutboxEvent) -> Vec<Value> {
        let s = self.settings;
        vec![
            fit(&s.cfg.fleet, 64).into(),
            fit(&s.appliance, 64).into(),
            r.id.into(),
            r.at_ms.into(),
            fit(&r.boot_id, 64).into(),
            r.clock_synced.into(),
            fit(&r.level, 8).into(),
            fit(&r.kind, 64).into(),
            r.message.clone().into(),
        ]
    }
}

/// `head (columns) VALUES (?, …), … tail` for `rows` rows.
fn insert(head: &str, columns: &str, rows: usize, tail: &str) -> String {
    let n = columns.split(',').count();
    let one = format!("({})", vec!["?"; n].join(", "));
    let all = vec![one.as_str(); rows].join(", ");
    format!("{head} ({columns}) VALUES {all}{tail}")
}

/// A fresher copy of a visit replaces the stored one; an older one changes nothing.
fn upsert_tail() -> String {
    let fresher = "VALUES(change_seq) > change_seq";
    let mut sets: Vec<String> = SIGHTING_UPDATES
        .iter()
        .map(|c| format!("{c} = IF({fresher}, VALUES({c}), {c})"))
        .collect();
    sets.push("change_seq = GREATEST(change_seq, VALUES(change_seq))".into());
    format!(" ON DUPLICATE KEY UPDATE {}", sets.join(", "))
}

/// At most `max` characters (the column's width): a long value must not block the outbox.
fn fit(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_has_one_placeholder_per_value() {
        let sql = insert("INSERT INTO t", "a, b", 3, "");
        assert_eq!(sql, "INSERT INTO t (a, b) VALUES (?, ?), (?, ?), (?, ?)");
        assert_eq!(upsert_tail().matches("VALUES(change_seq)").count(), 13);
    }
}
