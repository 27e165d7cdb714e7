//! The week at a glance: how many phones came by, what was offered, how they answered.
//!
//! `o4send status` prints it for people (Display) or as JSON for scripts (serde). Every
//! outcome name is always present, zeros included, so a script never has to guess whether a
//! missing key means zero.

use super::history::outcome_at;
use super::outbox::SyncBacklog;
use super::schema::user_version;
use crate::model::device::printable;
use crate::model::outcome::Outcome;
use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

const HOUR_MS: i64 = 60 * 60 * 1000;
/// The most devices listed in the last-hour window (most recently seen first).
pub const RECENT_DEVICES_MAX: usize = 200;
/// How many of them the text report prints.
const RECENT_DEVICES_SHOWN: usize = 20;

/// Counts per outcome name; always holds all seven names.
pub type OutcomeCounts = BTreeMap<String, u64>;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    pub db: String,
    pub schema_version: u32,
    pub devices_seen: u64,
    /// Sightings, summed over the aggregated visit rows.
    pub sightings: u64,
    pub attempts: u64,
    pub attempts_by_outcome: OutcomeCounts,
    pub last_hour: Window,
    pub per_item: Vec<ItemStatus>,
    pub per_radio: Vec<RadioStatus>,
    /// The earliest and latest timestamps on record.
    pub first_at_ms: Option<i64>,
    pub last_at_ms: Option<i64>,
    /// Rows the fleet sync has not uploaded yet and its last success.
    #[serde(default)]
    pub sync: SyncBacklog,
    /// The visitor hotspot's captive page: phones, page visits and files taken, all time.
    #[serde(default)]
    pub hotspot: WifiStatus,
}

/// What the hotspot's captive page did (`wifi_events`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WifiStatus {
    /// Distinct Wi-Fi addresses; phones use a random one per network, so a phone that forgot
    /// the network and joined again counts twice.
    pub visitors: u64,
    pub visits: u64,
    pub downloads: u64,
}

/// The hour before the `now_ms` given to [`super::Reader::status`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// Devices sighted or offered something in the window.
    pub devices_seen: u64,
    /// Attempts that ended in the window.
    pub attempts: u64,
    pub attempts_by_outcome: OutcomeCounts,
    /// The devices of the window, most recently seen first, at most [`RECENT_DEVICES_MAX`]:
    /// the live list of phones around the booth.
    #[serde(default)]
    pub devices: Vec<DeviceStatus>,
}

/// One device and how its latest attempt ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceStatus {
    pub addr: String,
    /// As the device sent it (may hold anything; print with `device::printable`).
    pub name: Option<String>,
    pub last_seen_ms: Option<i64>,
    /// Attempts on this device, all time.
    pub attempts: u64,
    /// The outcome of its latest attempt, if any.
    pub outcome: Option<String>,
    pub item_name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ItemStatus {
    pub item_hash: String,
    pub item_name: String,
    pub campaign: String,
    pub attempts_by_outcome: OutcomeCounts,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RadioStatus {
    pub radio: String,
    pub attempts_by_outcome: OutcomeCounts,
}

/// All seven outcome names at zero.
pub fn zero_counts() -> OutcomeCounts {
    Outcome::ALL
        .iter()
        .map(|o| (o.as_str().to_string(), 0))
        .collect()
}

pub(crate) fn status(
    conn: &Connection,
    path: &Path,
    now_ms: i64,
) -> rusqlite::Result<StatusReport> {
    let tx = conn.unchecked_transaction()?; // one consistent snapshot
    let count = |sql: &str| tx.query_row(sql, [], |row| row.get::<_, i64>(0).map(|n| n as u64));
    let (first_at_ms, last_at_ms) = span(&tx)?;
    Ok(StatusReport {
        db: path.display().to_string(),
        schema_version: user_version(&tx)?,
        devices_seen: count("SELECT count(*) FROM devices")?,
        sightings: count("SELECT COALESCE(sum(count), 0) FROM sightings")?,
        attempts: count("SELECT count(*) FROM attempts")?,
        attempts_by_outcome: by_outcome(&tx, None)?,
        last_hour: last_hour(&tx, now_ms)?,
        per_item: per_item(&tx)?,
        per_radio: per_radio(&tx)?,
        first_at_ms,
        last_at_ms,
        sync: super::outbox::backlog_in(&tx)?,
        hotspot: hotspot(&tx, i64::MIN, i64::MAX)?,
    })
}

/// What the hotspot's captive page did in `[from_ms, to_ms)`.
pub(crate) fn hotspot(conn: &Connection, from_ms: i64, to_ms: i64) -> rusqlite::Result<WifiStatus> {
    conn.query_row(
        "SELECT count(DISTINCT visitor), count(*) FILTER (WHERE kind = 'visit'),
                count(*) FILTER (WHERE kind = 'download')
         FROM wifi_events WHERE at >= ?1 AND at < ?2",
        params![from_ms, to_ms],
        |r| {
            Ok(WifiStatus {
                visitors: r.get::<_, i64>(0)? as u64,
                visits: r.get::<_, i64>(1)? as u64,
                downloads: r.get::<_, i64>(2)? as u64,
            })
        },
    )
}

/// Attempt counts per outcome, over all time or over `[since, until]` by end time.
fn by_outcome(conn: &Connection, window: Option<(i64, i64)>) -> rusqlite::Result<OutcomeCounts> {
    let (since, until) = window.unwrap_or((i64::MIN, i64::MAX));
    let mut stmt = conn.prepare_cached(
        "SELECT outcome, count(*) FROM attempts WHERE ended_at BETWEEN ?1 AND ?2 GROUP BY outcome",
    )?;
    let mut counts = zero_counts();
    let mut rows = stmt.query(params![since, until])?;
    while let Some(row) = rows.next()? {
        *counts.entry(row.get(0)?).or_default() += row.get::<_, i64>(1)? as u64;
    }
    Ok(counts)
}

fn last_hour(conn: &Connection, now_ms: i64) -> rusqlite::Result<Window> {
    let window = (now_ms.saturating_sub(HOUR_MS), now_ms);
    let attempts_by_outcome = by_outcome(conn, Some(window))?;
    Ok(Window {
        devices_seen: devices_in(conn, window)?,
        attempts: attempts_by_outcome.values().sum(),
        attempts_by_outcome,
        devices: recent_devices(conn, window)?,
    })
}

/// Devices sighted or offered something in `[since, until]`.
fn devices_in(conn: &Connection, window: (i64, i64)) -> rusqlite::Result<u64> {
    conn.query_row(
        "SELECT count(*) FROM (
             SELECT device_id FROM sightings WHERE last_seen BETWEEN ?1 AND ?2
             UNION
             SELECT device_id FROM attempts WHERE ended_at BETWEEN ?1 AND ?2)",
        params![window.0, window.1],
        |row| row.get::<_, i64>(0).map(|n| n.max(0) as u64),
    )
}

/// The last hour in three numbers, cheap enough to ask every few seconds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Glance {
    /// Devices sighted or offered something in the last hour.
    pub seen: u64,
    /// Devices that accepted an item in the last hour.
    pub served: u64,
    /// Rows the fleet sync has not uploaded yet.
    pub sync_backlog: u64,
}

pub(crate) fn glance(conn: &Connection, now_ms: i64) -> rusqlite::Result<Glance> {
    let tx = conn.unchecked_transaction()?; // one snapshot
    let window = (now_ms.saturating_sub(HOUR_MS), now_ms);
    let served: i64 = tx.query_row(
        "SELECT count(DISTINCT device_id) FROM attempts
         WHERE ended_at BETWEEN ?1 AND ?2 AND outcome = ?3",
        params![window.0, window.1, Outcome::Accepted.as_str()],
        |row| row.get(0),
    )?;
    Ok(Glance {
        seen: devices_in(&tx, window)?,
        served: served.max(0) as u64,
        sync_backlog: super::outbox::backlog_in(&tx)?.total(),
    })
}

fn recent_devices(conn: &Connection, window: (i64, i64)) -> rusqlite::Result<Vec<DeviceStatus>> {
    let mut stmt = conn.prepare(
        "SELECT d.addr, d.name, d.last_seen,
                (SELECT count(*) FROM attempts a WHERE a.device_id = d.id),
                (SELECT outcome FROM attempts a WHERE a.device_id = d.id ORDER BY a.id DESC LIMIT 1),
                (SELECT item_name FROM attempts a WHERE a.device_id = d.id ORDER BY a.id DESC LIMIT 1)
         FROM devices d
         WHERE d.id IN (SELECT device_id FROM sightings WHERE last_seen BETWEEN ?1 AND ?2
                        UNION SELECT device_id FROM attempts WHERE ended_at BETWEEN ?1 AND ?2)
         ORDER BY d.last_seen DESC, d.id DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(
        params![window.0, window.1, RECENT_DEVICES_MAX as i64],
        |r| {
            Ok(DeviceStatus {
                addr: r.get(0)?,
                name: r.get(1)?,
                last_seen_ms: r.get(2)?,
                attempts: r.get::<_, i64>(3)? as u64,
                outcome: r.get(4)?,
                item_name: r.get(5)?,
            })
        },
    )?;
    rows.collect()
}

fn per_item(conn: &Connection) -> rusqlite::Result<Vec<ItemStatus>> {
    let mut stmt = conn.prepare(
        "SELECT item_hash, item_name, campaign, outcome, count(*) FROM attempts
         GROUP BY campaign, item_name, item_hash, outcome
         ORDER BY campaign, item_name, item_hash",
    )?;
    let mut items: Vec<ItemStatus> = Vec::new();
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let (hash, name, campaign): (String, String, String) =
            (row.get(0)?, row.get(1)?, row.get(2)?);
        let outcome = outcome_at(row, 3)?;
        let n = row.get::<_, i64>(4)? as u64;
        let same = items.last().is_some_and(|last| {
            last.item_hash == hash && last.item_name == name && last.campaign == campaign
        });
        if !same {
            items.push(ItemStatus {
                item_hash: hash,
                item_name: name,
                campaign,
                attempts_by_outcome: zero_counts(),
            });
        }
        if let Some(item) = items.last_mut() {
            *item
                .attempts_by_outcome
                .entry(outcome.to_string())
                .or_default() += n;
        }
    }
    Ok(items)
}

fn per_radio(conn: &Connection) -> rusqlite::Result<Vec<RadioStatus>> {
    let mut stmt = conn.prepare(
        "SELECT radio, outcome, count(*) FROM attempts GROUP BY radio, outcome ORDER BY radio",
    )?;
    let mut radios: Vec<RadioStatus> = Vec::new();
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let radio: String = row.get(0)?;
        let outcome = outcome_at(row, 1)?;
        let n = row.get::<_, i64>(2)? as u64;
        if radios.last().is_none_or(|last| last.radio != radio) {
            radios.push(RadioStatus {
                radio,
                attempts_by_outcome: zero_counts(),
            });
        }
        if let Some(r) = radios.last_mut() {
            *r.attempts_by_outcome
                .entry(outcome.to_string())
                .or_default() += n;
        }
    }
    Ok(radios)
}

/// Earliest and latest stamps over sightings, attempts and events.
fn span(conn: &Connection) -> rusqlite::Result<(Option<i64>, Option<i64>)> {
    conn.query_row(
        "SELECT min(lo), max(hi) FROM (
             SELECT min(first_seen) AS lo, max(last_seen) AS hi FROM sightings
             UNION ALL SELECT min(started_at), max(ended_at) FROM attempts
             UNION ALL SELECT min(at), max(at) FROM events)",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
}

impl fmt::Display for StatusReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "o4send status: {} (schema {})",
            printable(&self.db),
            self.schema_version
        )?;
        if let (Some(first), Some(last)) = (self.first_at_ms, self.last_at_ms) {
            writeln!(f, "records from {} to {}", when(first), when(last))?;
        }
        writeln!(f)?;
        writeln!(f, "{:<18}{:>12}{:>12}", "", "all time", "last hour")?;
        let row = |f: &mut fmt::Formatter<'_>, label: &str, all: u64, hour: u64| {
            writeln!(f, "{label:<18}{all:>12}{hour:>12}")
        };
        row(
            f,
            "devices seen",
            self.devices_seen,
            self.last_hour.devices_seen,
        )?;
        writeln!(f, "{:<18}{:>12}", "sightings", self.sightings)?;
        row(f, "attempts", self.attempts, self.last_hour.attempts)?;
        for outcome in Outcome::ALL {
            let name = outcome.as_str();
            let all = self.attempts_by_outcome.get(name).copied().unwrap_or(0);
            let hour = self
                .last_hour
                .attempts_by_outcome
                .get(name)
                .copied()
                .unwrap_or(0);
            row(f, &format!("  {name}"), all, hour)?;
        }
        write_recent(f, &self.last_hour.devices)?;
        if !self.per_item.is_empty() {
            writeln!(f, "\nper item")?;
        }
        for item in &self.per_item {
            let hash: String = item.item_hash.chars().take(12).collect();
            let label = format!("{} / {} ({})", item.campaign, item.item_name, hash);
            writeln!(
                f,
                "  {}: {}",
                printable(&label),
                counts_line(&item.attempts_by_outcome)
            )?;
        }
        if !self.per_radio.is_empty() {
            writeln!(f, "\nper radio")?;
        }
        for radio in &self.per_radio {
            let line = counts_line(&radio.attempts_by_outcome);
            writeln!(f, "  {}: {line}", printable(&radio.radio))?;
        }
        let h = &self.hotspot;
        if h.visits + h.downloads > 0 {
            writeln!(
                f,
                "\nvisitor hotspot: {} phones (Wi-Fi addresses), {} page visits, {} files taken",
                h.visitors, h.visits, h.downloads
            )?;
        }
        write_sync(f, &self.sync)
    }
}

/// "accepted 3, declined 1" — the non-zero counts, in the usual outcome order.
fn counts_line(counts: &OutcomeCounts) -> String {
    let parts: Vec<String> = Outcome::ALL
        .iter()
        .filter_map(|o| {
            let n = counts.get(o.as_str()).copied().unwrap_or(0);
            (n > 0).then(|| format!("{o} {n}"))
        })
        .collect();
    if parts.is_empty() {
        "no attempts".to_string()
    } else {
        parts.join(", ")
    }
}

/// The fleet sync's backlog and last success.
fn write_sync(f: &mut fmt::Formatter<'_>, s: &SyncBacklog) -> fmt::Result {
    let last = s.last_success_ms.map_or_else(|| "never".to_string(), when);
    writeln!(
        f,
        "\nsync backlog      {} rows ({} attempts, {} visits, {} events); last successful sync: {last}",
        s.total(),
        s.attempts,
        s.sightings,
        s.events
    )?;
    if s.fleet_answers > 0 {
        writeln!(f, "fleet answers     {}", s.fleet_answers)?;
    }
    Ok(())
}

/// A timestamp for people, in UTC.
fn when(ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(ts) => ts.strftime("%Y-%m-%d %H:%M:%S UTC").to_string(),
        Err(_) => format!("{ms} ms"),
    }
}

/// The most recent devices of the last hour, one line each.
fn write_recent(f: &mut fmt::Formatter<'_>, devices: &[DeviceStatus]) -> fmt::Result {
    if devices.is_empty() {
        return Ok(());
    }
    writeln!(f, "\nlast hour, most recent first")?;
    for d in devices.iter().take(RECENT_DEVICES_SHOWN) {
        let outcome = d.outcome.as_deref().unwrap_or("not offered");
        let mut name: String = printable(d.name.as_deref().unwrap_or(""))
            .chars()
            .take(40)
            .collect();
        if d.name.as_deref().is_some_and(|n| n.chars().count() > 40) {
            name.push('…');
        }
        writeln!(
            f,
            "  {}  {outcome:<16} {:>2} attempt(s)  {name}",
            d.addr, d.attempts
        )?;
    }
    if devices.len() > RECENT_DEVICES_SHOWN {
        writeln!(
            f,
            "  … and {} more (--json lists up to {RECENT_DEVICES_MAX})",
            devices.len() - RECENT_DEVICES_SHOWN
        )?;
    }
    Ok(())
}
