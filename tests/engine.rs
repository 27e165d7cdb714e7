//! The engine's promises under orders from outside, on simulated phones in virtual time:
//! shutdown lets in-flight pushes finish within the grace period, aborts the rest and records
//! every attempt; a reload swaps the campaign without dropping a push.

use o4send::bench::scenario;
use o4send::config::{AdapterConfig, Backend, Config, Role};
use o4send::content::{demo_campaign, Campaign, Item};
use o4send::engine::{self, Control, Parts, Progress};
use o4send::model::clock::Clock;
use o4send::model::outcome::Outcome;
use o4send::store::open_for;
use rusqlite::Connection;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

fn config(phones: usize) -> Config {
    let mut cfg = Config::default();
    cfg.radio.backend = Backend::Sim;
    cfg.radio.sim = scenario(phones, 3);
    cfg.radio.adapters = vec![AdapterConfig {
        id: "sim0".into(),
        role: Role::Both,
        slots: 5,
    }];
    cfg.policy.classes = o4send::model::device::MajorClass::ALL.to_vec();
    cfg.engine.shutdown_grace_secs = 5;
    cfg
}

/// Runs the engine; `orders` sends controls at virtual times. Returns the final counters.
fn run(cfg: Config, db: &Path, orders: Vec<(u64, Control)>) -> Progress {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let clock = Clock::virtual_from_now();
        let store = open_for(&cfg, db, &clock, Default::default()).unwrap();
        let (adapters, _world) = o4send::radio::open(&cfg).await.unwrap();
        let (tx, rx) = mpsc::channel(4);
        tokio::spawn(async move {
            for (at, order) in orders {
                tokio::time::sleep(Duration::from_secs(at)).await;
                tx.send(order).await.unwrap();
            }
        });
        let parts = Parts {
            cfg,
            adapters,
            campaign: Arc::new(demo_campaign()),
            store: store.clone(),
            clock,
            health: Default::default(),
        };
        let progress = engine::run(parts, rx, watch::channel(Progress::default()).0)
            .await
            .unwrap();
        store.close().await.unwrap();
        progress
    })
}

fn rows(db: &Path) -> Vec<(String, String, String)> {
    let conn = Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT item_name, outcome, reason FROM attempts ORDER BY id")
        .unwrap();
    let r = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    r
}

#[test]
fn shutdown_finishes_or_aborts_and_records_every_push() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("o4send.db");
    // Decisions take 2–50 s: at 60 s some pushes are done, five are in flight, and 5 s of grace
    // is too short for some of those.
    let progress = run(config(40), &db, vec![(60, Control::Shutdown)]);
    assert_eq!(progress.in_flight, 0);
    let rows = rows(&db);
    assert_eq!(
        rows.len() as u64,
        progress.attempts,
        "every attempt is in the log"
    );
    let aborted = rows
        .iter()
        .filter(|(_, o, r)| o == "failed" && r.contains("aborted: shutting down"))
        .count();
    let accepted = rows.iter().filter(|(_, o, _)| o == "accepted").count();
    assert!(
        aborted > 0,
        "some pushes outlived the grace period: {rows:?}"
    );
    assert!(accepted > 0, "some pushes finished: {rows:?}");
    assert_eq!(aborted + accepted, rows.len(), "{rows:?}");
}

#[test]
fn reload_swaps_the_campaign_without_dropping_a_push() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("o4send.db");
    let new = Campaign {
        name: "second".into(),
        items: vec![Arc::new(Item::new(
            "map.png",
            "image/png",
            vec![7u8; 5000],
            vec![],
        ))],
        ..demo_campaign()
    };
    let reload = Control::Reload {
        cfg: Box::new(config(20)),
        campaign: Arc::new(new),
    };
    let progress = run(
        config(20),
        &db,
        vec![(30, reload), (400, Control::Shutdown)],
    );
    let rows = rows(&db);
    assert_eq!(rows.len() as u64, progress.attempts);
    assert!(
        rows.iter().all(|(_, o, _)| o == "accepted"),
        "nothing dropped or aborted: {rows:?}"
    );
    let old = rows.iter().filter(|(i, _, _)| i != "map.png").count();
    let new = rows.iter().filter(|(i, _, _)| i == "map.png").count();
    assert_eq!(new, 20, "every phone gets the new campaign once: {rows:?}");
    assert!(
        old > 0 && old < 20,
        "the reload came mid-run: {old} old pushes"
    );
    assert_eq!(progress.count(Outcome::Accepted) as usize, old + new);
}
