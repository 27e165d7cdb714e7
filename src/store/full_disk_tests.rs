//! A full disk must cost nothing but time: records wait in the writer and land once there is
//! space again. `PRAGMA max_page_count` on the writer's connection plays the full disk.

use super::*;
use crate::model::clock::Stamp;

fn event(i: usize) -> EventRecord {
    EventRecord {
        at: Stamp {
            at_ms: 1_700_000_000_000 + i as i64,
            clock_synced: true,
        },
        level: Level::Info,
        kind: "test".into(),
        message: format!("event {i} {}", "x".repeat(200)),
    }
}

#[tokio::test]
async fn full_disk_loses_nothing_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("o4send.db");
    let store = Store::open(&path, StoreOptions::new("boot-full")).unwrap();
    store.event(event(0)).await;
    store.flush().await.unwrap();

    store.set_max_pages(1).await; // clamps to the current size: no page may be added
    for i in 1..=3000 {
        store.event(event(i)).await;
    }
    let err = store.flush().await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::DiskFull, "{err}");
    let text = err.to_string();
    assert!(text.contains("cannot write to"), "{text}");
    assert!(text.contains(&path.display().to_string()), "{text}");

    // More records while the disk is full are kept too.
    for i in 3001..=3500 {
        store.event(event(i)).await;
    }
    store.set_max_pages(1_000_000).await;
    store.flush().await.unwrap();

    let conn = rusqlite::Connection::open(&path).unwrap();
    let (n, distinct): (i64, i64) = conn
        .query_row("SELECT count(*), count(DISTINCT at) FROM events", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((n, distinct), (3501, 3501));
    store.close().await.unwrap();
}
