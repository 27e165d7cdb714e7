//! The store against real SQLite files in temporary directories: schema and migrations,
//! batching and aggregation, answers and device history, hostile names, flush semantics,
//! the status report, retention, and read-only opening.

use o4send::model::clock::Stamp;
use o4send::model::device::{device_name, BdAddr};
use o4send::model::outcome::Outcome;
use o4send::store::{
    AttemptRecord, EventRecord, ItemHistory, Level, Reader, Retention, SightingRecord,
    StatusReport, Store, StoreErrorKind, StoreOptions, SCHEMA_VERSION,
};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

const MIN_MS: i64 = 60 * 1000;
const DAY_MS: i64 = 24 * 60 * MIN_MS;
const HASH_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const HASH_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn synced(at_ms: i64) -> Stamp {
    Stamp {
        at_ms,
        clock_synced: true,
    }
}

fn addr(i: u32) -> BdAddr {
    let b = i.to_be_bytes();
    BdAddr([0x00, 0x1A, b[0], b[1], b[2], b[3]])
}

fn sighting(a: BdAddr, radio: &str, at_ms: i64, rssi: Option<i16>) -> SightingRecord {
    SightingRecord {
        addr: a,
        name: device_name("Phone"),
        class: 0x5A020C,
        rssi,
        radio: Arc::from(radio),
        at: synced(at_ms),
    }
}

fn attempt(a: BdAddr, hash: &str, outcome: Outcome, ended_ms: i64) -> AttemptRecord {
    AttemptRecord {
        addr: a,
        item_hash: hash.to_string(),
        item_md5: "0".repeat(32),
        item_name: format!("flyer-{}.pdf", &hash[..4]),
        campaign: "spring".to_string(),
        radio: Arc::from("hci1"),
        started: synced(ended_ms - 5_000),
        ended: synced(ended_ms),
        outcome,
        raw_code: (outcome == Outcome::Declined).then_some(0xC3),
        reason: format!("{outcome} in test"),
        bytes: 1234,
    }
}

fn event(at: Stamp, message: &str) -> EventRecord {
    EventRecord {
        at,
        level: Level::Info,
        kind: "test".to_string(),
        message: message.to_string(),
    }
}

fn db_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("o4send.db")
}

fn open(path: &Path) -> Store {
    Store::open(path, StoreOptions::new("boot-1")).unwrap()
}

/// A plain read-only connection, to look at rows the API does not expose.
fn raw(path: &Path) -> Connection {
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

fn count(path: &Path, sql: &str) -> i64 {
    raw(path).query_row(sql, [], |r| r.get(0)).unwrap()
}

#[tokio::test]
async fn fresh_create_then_reopen_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let store = open(&path);
    assert_eq!(store.path(), path);
    store.event(event(synced(now_ms()), "first")).await;
    store.close().await.unwrap();

    let conn = raw(&path);
    let pragma = |name: &str| -> String {
        conn.query_row(&format!("PRAGMA {name}"), [], |r| {
            r.get::<_, rusqlite::types::Value>(0)
        })
        .map(|v| format!("{v:?}"))
        .unwrap()
    };
    assert_eq!(pragma("journal_mode"), "Text(\"wal\")");
    assert_eq!(pragma("auto_vacuum"), "Integer(2)"); // incremental
    assert_eq!(pragma("user_version"), format!("Integer({SCHEMA_VERSION})"));
    let tables = count(&path, "SELECT count(*) FROM sqlite_schema");
    drop(conn);

    for _ in 0..2 {
        let store = open(&path);
        store.event(event(synced(now_ms()), "again")).await;
        store.close().await.unwrap();
    }
    assert_eq!(count(&path, "SELECT count(*) FROM sqlite_schema"), tables);
    assert_eq!(count(&path, "SELECT count(*) FROM events"), 3);
    let report = Reader::open(&path).unwrap().status(now_ms()).unwrap();
    assert_eq!(report.schema_version, SCHEMA_VERSION);
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    open(&path).close().await.unwrap();
    let conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    conn.execute("UPDATE schema_floor SET version = 98", [])
        .unwrap();
    drop(conn);

    let err = Store::open(&path, StoreOptions::new("boot-1"))
        .err()
        .unwrap();
    assert_eq!(err.kind(), StoreErrorKind::SchemaTooNew);
    let expected = format!(
        "database schema version 99 is newer than this o4send understands ({SCHEMA_VERSION}) \
         and only schema 98 or later can use it"
    );
    assert!(err.to_string().contains(&expected), "{err}");
    let err = Reader::open(&path).err().unwrap();
    assert!(err.to_string().contains(&expected), "{err}");
}

/// After a system update falls back, the older release opens the log the newer one migrated,
/// as long as the newer one only added to it (the schema floor, docs/updates.md).
#[tokio::test]
async fn a_newer_schema_that_only_added_is_used_after_a_fall_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let store = open(&path);
    store
        .event(event(synced(now_ms()), "before the update"))
        .await;
    store.close().await.unwrap();
    // What a newer release's additive step leaves: a table, a column, a higher version.
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE campaign_caps(item TEXT PRIMARY KEY, cap INTEGER);
         ALTER TABLE events ADD COLUMN variant TEXT;",
    )
    .unwrap();
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);

    let store = open(&path);
    store
        .event(event(synced(now_ms()), "after the fall back"))
        .await;
    store.close().await.unwrap();
    assert_eq!(count(&path, "SELECT count(*) FROM events"), 2);
    assert_eq!(
        count(&path, "PRAGMA user_version"),
        i64::from(SCHEMA_VERSION + 1),
        "the older release leaves the newer version as it is"
    );
    let report = Reader::open(&path).unwrap().status(now_ms()).unwrap();
    assert_eq!(report.schema_version, SCHEMA_VERSION + 1);
}

#[tokio::test]
async fn a_missing_directory_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere");
    let err = Store::open(&missing.join("o4send.db"), StoreOptions::new("b"))
        .err()
        .unwrap();
    assert_eq!(err.kind(), StoreErrorKind::NoDirectory);
    assert_eq!(
        err.to_string(),
        format!("database directory {} does not exist", missing.display())
    );
    assert!(!missing.exists());
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    std::fs::write(
        &path,
        "this is a flyer, not a database, and it is long enough to matter",
    )
    .unwrap();
    let err = Store::open(&path, StoreOptions::new("b")).err().unwrap();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("cannot open {}: ", path.display())),
        "{text}"
    );
}

#[tokio::test]
async fn reader_open_on_a_missing_file_errors_without_creating_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let err = Reader::open(&path).err().unwrap();
    assert_eq!(err.kind(), StoreErrorKind::NoDatabase);
    assert_eq!(
        err.to_string(),
        format!("no database at {}", path.display())
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn ten_thousand_sightings_of_300_devices_aggregate() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let store = open(&path);
    let t0 = now_ms();
    for i in 0..10_000u32 {
        let rssi = -40 - (i / 300) as i16; // falls as the device moves away
        let at = t0 + i64::from(i) * 10; // 100 s in all: one visit each
        store
            .sighting(sighting(addr(i % 300), "hci0", at, Some(rssi)))
            .await;
    }
    store.flush().await.unwrap();

    assert_eq!(count(&path, "SELECT count(*) FROM devices"), 300);
    assert_eq!(count(&path, "SELECT count(*) FROM sightings"), 300);
    assert_eq!(count(&path, "SELECT sum(count) FROM sightings"), 10_000);
    assert_eq!(
        count(
            &path,
            "SELECT count(*) FROM sightings WHERE boot_id = 'boot-1' AND clock_synced = 1"
        ),
        300
    );
    let (min, max, last): (i64, i64, i64) = raw(&path)
        .query_row(
            "SELECT rssi_min, rssi_max, rssi_last FROM sightings s JOIN devices d ON d.id = s.device_id
             WHERE d.addr = ?1",
            [addr(0).to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((min, max, last), (-73, -40, -73));

    let report = store.reader().unwrap().status(t0 + 100_000).unwrap();
    assert_eq!(report.devices_seen, 300);
    assert_eq!(report.sightings, 10_000);
    assert_eq!(report.last_hour.devices_seen, 300);
    store.close().await.unwrap();
}

/// radio, first_seen, last_seen, count, rssi_min, rssi_max, rssi_last
type VisitRow = (String, i64, i64, i64, Option<i64>, Option<i64>, Option<i64>);

#[tokio::test]
async fn the_visit_gap_splits_visits() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let store = open(&path);
    let phone = addr(7);
    let t0 = now_ms() - 60 * MIN_MS;
    for (minutes, rssi) in [(0, Some(-50)), (4, None), (8, Some(-70)), (13, Some(-60))] {
        store
            .sighting(sighting(phone, "hci0", t0 + minutes * MIN_MS, rssi))
            .await;
    }
    // 13 → 19 minutes is more than the 5 minute gap: a new visit.
    store
        .sighting(sighting(phone, "hci0", t0 + 19 * MIN_MS, None))
        .await;
    // Another radio is another row.
    store.sighting(sighting(phone, "hci2", t0, Some(-90))).await;
    store.close().await.unwrap();

    let rows: Vec<VisitRow> = raw(&path)
        .prepare(
            "SELECT radio, first_seen, last_seen, count, rssi_min, rssi_max, rssi_last
             FROM sightings ORDER BY id",
        )
        .unwrap()
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        rows,
        vec![
            (
                "hci0".into(),
                t0,
                t0 + 13 * MIN_MS,
                4,
                Some(-70),
                Some(-50),
                Some(-60)
            ),
            (
                "hci0".into(),
                t0 + 19 * MIN_MS,
                t0 + 19 * MIN_MS,
                1,
                None,
                None,
                None
            ),
            ("hci2".into(), t0, t0, 1, Some(-90), Some(-90), Some(-90)),
        ]
    );

    // A new boot starts a new visit even within the gap: its clock may differ.
    let store = Store::open(&path, StoreOptions::new("boot-2")).unwrap();
    store
        .sighting(sighting(phone, "hci0", t0 + 20 * MIN_MS, None))
        .await;
    store.close().await.unwrap();
    assert_eq!(
        count(
            &path,
            "SELECT count(*) FROM sightings WHERE boot_id = 'boot-2'"
        ),
        1
    );
    assert_eq!(count(&path, "SELECT count(*) FROM devices"), 1);
}

#[tokio::test]
async fn attempts_answers_and_device_history() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let store = open(&path);
    let (x, y, never) = (addr(1), addr(2), addr(3));
    let t = now_ms() - 30 * MIN_MS;
    store.sighting(sighting(x, "hci0", t, Some(-50))).await;
    for (i, outcome) in [
        Outcome::Failed,
        Outcome::Unreachable,
        Outcome::Declined,
        Outcome::Failed,
    ]
    .into_iter()
    .enumerate()
    {
        store
            .attempt(attempt(x, HASH_A, outcome, t + i as i64 * 1000))
            .await;
    }
    store
        .attempt(attempt(x, HASH_B, Outcome::Unreachable, t + 10_000))
        .await;
    store
        .attempt(attempt(x, HASH_B, Outcome::Unreachable, t + 11_000))
        .await;
    // y was never sighted: the attempt creates its device row.
    store
        .attempt(attempt(y, HASH_A, Outcome::NoOpp, t + 20_000))
        .await;
    store.flush().await.unwrap();

    let reader = store.reader().unwrap();
    let hx = reader.device_history(x).unwrap();
    assert!(!hx.no_opp);
    assert_eq!(
        hx.items,
        vec![
            ItemHistory {
                item_hash: HASH_A.into(),
                answer: Some(Outcome::Declined),
                failures: 1,
                attempts: 4,
                last_ended_ms: Some(t + 3000),
            },
            ItemHistory {
                item_hash: HASH_B.into(),
                answer: None,
                failures: 2,
                attempts: 2,
                last_ended_ms: Some(t + 11_000),
            },
        ]
    );
    let hy = reader.device_history(y).unwrap();
    assert!(hy.no_opp);
    assert_eq!(hy.items[0].answer, Some(Outcome::NoOpp));
    assert_eq!(reader.device_history(never).unwrap(), Default::default());
    let dy = reader.device(y).unwrap().unwrap();
    assert_eq!((dy.name, dy.class), (None, None));

    // Only answers land in `answers`: transient outcomes never do.
    assert_eq!(count(&path, "SELECT count(*) FROM answers"), 2);
    assert_eq!(count(&path, "SELECT count(*) FROM attempts"), 7);
    let row: (String, Option<i64>, String, i64, String, i64) = raw(&path)
        .query_row(
            "SELECT outcome, raw_code, reason, bytes, boot_id, clock_synced FROM attempts
             WHERE outcome = 'declined'",
            [],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            },
        )
        .unwrap();
    assert_eq!(
        row,
        (
            "declined".into(),
            Some(0xC3),
            "declined in test".into(),
            1234,
            "boot-1".into(),
            1
        )
    );

    // Ignored is stored as an answer too (the policy decides whether it counts), and a later
    // answer for the same content replaces the earlier one.
    store
        .attempt(attempt(x, HASH_B, Outcome::Ignored, t + 12_000))
        .await;
    store
        .attempt(attempt(x, HASH_A, Outcome::Accepted, t + 13_000))
        .await;
    store.flush().await.unwrap();
    let hx = reader.device_history(x).unwrap();
    assert_eq!(hx.items[0].answer, Some(Outcome::Accepted));
    assert_eq!(hx.items[0].failures, 0);
    assert_eq!(hx.items[1].answer, Some(Outcome::Ignored));
    assert_eq!(hx.items[1].failures, 0);
    assert_eq!(hx.items[1].attempts, 3);
    store.close().await.unwrap();
}

#[tokio::test]
async fn hostile_names_are_stored_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let store = open(&path);
    let names = [
        "'); DROP TABLE devices;--",
        "Robert\"; DELETE FROM answers; --",
        "bell\u{7}new\nline\ttab\u{1b}[31mred\u{0}nul",
        "Ünïcødé 电话 📱 تلفن",
        &"é".repeat(124), // exactly 248 bytes
    ];
    let t = now_ms();
    for (i, name) in names.iter().enumerate() {
        let mut s = sighting(addr(100 + i as u32), "hci0", t, None);
        s.name = device_name(name);
        store.sighting(s).await;
        // An empty name later must not erase the one we know.
        let mut s = sighting(addr(100 + i as u32), "hci0", t + 1, None);
        s.name = device_name("");
        store.sighting(s).await;
    }
    store.flush().await.unwrap();

    let reader = store.reader().unwrap();
    let conn = raw(&path);
    for (i, name) in names.iter().enumerate() {
        let a = addr(100 + i as u32);
        let info = reader.device(a).unwrap().unwrap();
        assert_eq!(info.name.as_deref(), Some(*name));
        let bytes: Vec<u8> = conn
            .query_row(
                "SELECT CAST(name AS BLOB) FROM devices WHERE addr = ?1",
                [a.to_string()],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(bytes, name.as_bytes());
    }
    assert_eq!(
        count(&path, "SELECT count(*) FROM devices"),
        names.len() as i64
    );
    store.close().await.unwrap();
}

#[tokio::test]
async fn flush_waits_for_everything_sent_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let store = open(&path);
    store.flush().await.unwrap(); // idle store: resolves at once

    let reader = store.reader().unwrap();
    let t = now_ms();
    let mut tasks = Vec::new();
    for task in 0..4 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..500 {
                store
                    .event(event(synced(t + i), &format!("task {task} #{i}")))
                    .await;
            }
            store.flush().await.unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    // Every task's flush came back, so all 2000 are committed and visible to a reader.
    assert_eq!(count(&path, "SELECT count(*) FROM events"), 2000);
    assert_eq!(reader.status(t).unwrap().last_at_ms, Some(t + 499));

    store.close().await.unwrap();
    store.close().await.unwrap(); // twice is harmless
    let err = store.flush().await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Closed);
    store.event(event(synced(t), "after close")).await; // dropped, with a warning
    assert_eq!(count(&path, "SELECT count(*) FROM events"), 2000);
}

#[tokio::test]
async fn dropping_every_handle_stops_the_writer_after_committing() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let store = open(&path);
    store.event(event(synced(now_ms()), "last words")).await;
    drop(store);
    // The writer drains what was queued, commits and lets go of the file.
    let mut seen = 0;
    for _ in 0..200 {
        seen = count(&path, "SELECT count(*) FROM events");
        if seen == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(seen, 1);
}

async fn report_fixture(path: &Path, now: i64) {
    let store = open(path);
    let old = now - 3 * 60 * MIN_MS;
    store.sighting(sighting(addr(1), "hci0", old, None)).await;
    store
        .sighting(sighting(addr(2), "hci0", now - MIN_MS, None))
        .await;
    store
        .attempt(attempt(addr(1), HASH_A, Outcome::Accepted, old))
        .await;
    store
        .attempt(attempt(addr(1), HASH_B, Outcome::Declined, old))
        .await;
    store
        .attempt(attempt(addr(2), HASH_A, Outcome::Failed, now - MIN_MS))
        .await;
    let mut on_other_radio = attempt(addr(2), HASH_A, Outcome::Accepted, now - 30_000);
    on_other_radio.radio = Arc::from("hci2");
    store.attempt(on_other_radio).await;
    store.event(event(synced(old - 1000), "started")).await;
    store.close().await.unwrap();
}

#[tokio::test]
async fn status_report_counts_windows_items_and_radios() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let now = now_ms();
    open(&path).close().await.unwrap();
    let empty = Reader::open(&path).unwrap().status(now).unwrap();
    assert_eq!(empty.attempts_by_outcome.len(), 7);
    assert_eq!(empty.last_hour.attempts_by_outcome.len(), 7);
    assert!(empty.attempts_by_outcome.values().all(|n| *n == 0));
    assert_eq!((empty.first_at_ms, empty.last_at_ms), (None, None));
    assert!(empty.to_string().contains("no_opp"));

    report_fixture(&path, now).await;
    let report = Reader::open(&path).unwrap().status(now).unwrap();
    for o in Outcome::ALL {
        assert!(report.attempts_by_outcome.contains_key(o.as_str()));
        assert!(report
            .last_hour
            .attempts_by_outcome
            .contains_key(o.as_str()));
    }
    assert_eq!(report.db, path.display().to_string());
    assert_eq!(report.devices_seen, 2);
    assert_eq!(report.sightings, 2);
    assert_eq!(report.attempts, 4);
    assert_eq!(report.attempts_by_outcome["accepted"], 2);
    assert_eq!(report.attempts_by_outcome["declined"], 1);
    assert_eq!(report.attempts_by_outcome["failed"], 1);
    assert_eq!(report.attempts_by_outcome["no_opp"], 0);
    assert_eq!(report.last_hour.devices_seen, 1);
    assert_eq!(report.last_hour.attempts, 2);
    assert_eq!(report.last_hour.attempts_by_outcome["failed"], 1);
    assert_eq!(report.last_hour.attempts_by_outcome["declined"], 0);

    assert_eq!(report.per_item.len(), 2);
    let a = &report.per_item[0];
    assert_eq!(
        (a.item_hash.as_str(), a.item_name.as_str()),
        (HASH_A, "flyer-aaaa.pdf")
    );
    assert_eq!(a.campaign, "spring");
    assert_eq!(a.attempts_by_outcome.len(), 7);
    assert_eq!(a.attempts_by_outcome["accepted"], 2);
    assert_eq!(a.attempts_by_outcome["failed"], 1);
    assert_eq!(report.per_item[1].attempts_by_outcome["declined"], 1);

    let radios: Vec<(&str, u64)> = report
        .per_radio
        .iter()
        .map(|r| (r.radio.as_str(), r.attempts_by_outcome.values().sum()))
        .collect();
    assert_eq!(radios, vec![("hci1", 3), ("hci2", 1)]);
    assert_eq!(report.per_radio[1].attempts_by_outcome.len(), 7);
    assert_eq!(report.first_at_ms, Some(now - 3 * 60 * MIN_MS - 5_000));
    assert_eq!(report.last_at_ms, Some(now - 30_000));

    let text = report.to_string();
    for needle in [
        "devices seen",
        "accepted",
        "per item",
        "spring / flyer-aaaa.pdf",
        "per radio",
        "hci2",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }

    // An hour later the window is empty but every key is still there.
    let later = Reader::open(&path)
        .unwrap()
        .status(now + 2 * 60 * MIN_MS)
        .unwrap();
    assert_eq!(later.last_hour.attempts, 0);
    assert_eq!(later.last_hour.attempts_by_outcome.len(), 7);
}

#[tokio::test]
async fn status_report_round_trips_through_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let now = now_ms();
    report_fixture(&path, now).await;
    let report = Reader::open(&path).unwrap().status(now).unwrap();
    let json = serde_json::to_string_pretty(&report).unwrap();
    let back: StatusReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back, report);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["attempts_by_outcome"]["unsupported_type"], 0);
    assert_eq!(value["last_hour"]["attempts_by_outcome"]["no_opp"], 0);
}

#[tokio::test]
async fn retention_by_age_keeps_answers_and_unsynced_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let now = now_ms();
    let old = now - 100 * DAY_MS;
    let store = open(&path);
    let (answered, forgotten, recent) = (addr(1), addr(2), addr(3));
    store.sighting(sighting(answered, "hci0", old, None)).await;
    store
        .attempt(attempt(answered, HASH_A, Outcome::Declined, old))
        .await;
    store
        .attempt(attempt(answered, HASH_B, Outcome::Failed, old))
        .await;
    store.sighting(sighting(forgotten, "hci0", old, None)).await;
    store.event(event(synced(old), "old and synced")).await;
    let unsynced = Stamp {
        at_ms: old,
        clock_synced: false,
    };
    store
        .event(event(unsynced, "old clock, never synced"))
        .await;
    store.sighting(sighting(recent, "hci0", now, None)).await;
    store.event(event(synced(now), "now")).await;
    store.close().await.unwrap();

    // Retention runs at open.
    let store = open(&path);
    store.flush().await.unwrap();
    assert_eq!(count(&path, "SELECT count(*) FROM attempts"), 0);
    assert_eq!(count(&path, "SELECT count(*) FROM sightings"), 1);
    let messages: Vec<String> = raw(&path)
        .prepare("SELECT message FROM events ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(messages, vec!["old clock, never synced", "now"]);
    let reader = store.reader().unwrap();
    assert!(reader.device(answered).unwrap().is_some());
    assert!(reader.device(forgotten).unwrap().is_none());
    assert!(reader.device(recent).unwrap().is_some());
    let history = reader.device_history(answered).unwrap();
    assert_eq!(history.items.len(), 1);
    assert_eq!(history.items[0].answer, Some(Outcome::Declined));
    assert_eq!(history.items[0].attempts, 0);
    assert_eq!(history.items[0].last_ended_ms, Some(old));

    // Nothing more to do the second time.
    let stats = store.retain().await.unwrap();
    assert!(!stats.deleted_anything(), "{stats:?}");
    store.close().await.unwrap();
}

#[tokio::test]
async fn retention_by_size_deletes_oldest_but_never_answers() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let mut opts = StoreOptions::new("boot-1");
    opts.retention = Retention {
        max_age_days: 90,
        max_size_mb: 1,
    };
    let store = Store::open(&path, opts).unwrap();
    let t = now_ms() - DAY_MS;
    let padding = "p".repeat(300);
    for d in 0..100u32 {
        for k in 0..5 {
            let outcome = if k < 4 {
                Outcome::Unreachable
            } else {
                Outcome::Declined
            };
            let mut a = attempt(addr(d), HASH_A, outcome, t + i64::from(d * 10 + k));
            a.reason = padding.clone();
            store.attempt(a).await;
        }
    }
    for i in 0..10_000 {
        store.event(event(synced(t + 10_000 + i), &padding)).await;
    }
    store.flush().await.unwrap();
    assert!(o4send_file_bytes(&path) > 1024 * 1024);

    let stats = store.retain().await.unwrap();
    assert!(stats.events > 0, "{stats:?}");
    assert!(stats.bytes_after <= 1024 * 1024, "{stats:?}");
    assert!(o4send_file_bytes(&path) <= 1024 * 1024);
    assert_eq!(count(&path, "SELECT count(*) FROM answers"), 100);
    assert_eq!(count(&path, "SELECT count(*) FROM devices"), 100);
    assert_eq!(count(&path, "SELECT count(*) FROM attempts"), 500);
    // The newest event survives; the oldest went first.
    assert_eq!(
        count(&path, "SELECT max(at) FROM events"),
        t + 10_000 + 9_999
    );
    assert!(count(&path, "SELECT min(at) FROM events") > t + 10_000);
    let history = store.reader().unwrap().device_history(addr(0)).unwrap();
    assert_eq!(history.items[0].answer, Some(Outcome::Declined));
    store.close().await.unwrap();
}

#[tokio::test]
async fn retention_by_size_prunes_attempts_when_nothing_else_is_left() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let mut opts = StoreOptions::new("boot-1");
    opts.retention.max_size_mb = 1;
    let store = Store::open(&path, opts).unwrap();
    let t = now_ms() - DAY_MS;
    let padding = "r".repeat(400);
    for d in 0..500u32 {
        for k in 0..10 {
            let outcome = if k < 9 {
                Outcome::Failed
            } else {
                Outcome::Accepted
            };
            let mut a = attempt(addr(d), HASH_B, outcome, t + i64::from(d * 10 + k));
            a.reason = padding.clone();
            store.attempt(a).await;
        }
    }
    store.flush().await.unwrap();
    let stats = store.retain().await.unwrap();
    assert!(stats.attempts > 0, "{stats:?}");
    assert!(o4send_file_bytes(&path) <= 1024 * 1024, "{stats:?}");
    assert!(count(&path, "SELECT count(*) FROM attempts") < 5000);
    assert_eq!(count(&path, "SELECT count(*) FROM answers"), 500);
    let history = store.reader().unwrap().device_history(addr(0)).unwrap();
    assert_eq!(history.items[0].answer, Some(Outcome::Accepted));
    store.close().await.unwrap();
}

fn o4send_file_bytes(path: &Path) -> u64 {
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    size(path) + size(&wal)
}

#[tokio::test]
async fn a_reader_works_beside_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let store = open(&path);
    let reader = store.reader().unwrap();
    assert_eq!(reader.path(), path);
    let t = now_ms();
    for round in 1..=3u32 {
        for i in 0..100 {
            store
                .sighting(sighting(addr(round * 1000 + i), "hci0", t, None))
                .await;
        }
        store.flush().await.unwrap();
        assert_eq!(
            reader.status(t).unwrap().devices_seen,
            u64::from(round * 100)
        );
    }
    store.close().await.unwrap();
    // After the writer is gone (and its WAL checkpointed away) a reader still opens.
    let report = Reader::open(&path).unwrap().status(t).unwrap();
    assert_eq!(report.devices_seen, 300);
}
