//! `o4send bench --sync URL`: how long a backlog of attempts takes to reach the fleet database.
//!
//! The backlog is written into a fresh log in the temp directory (through the store, as the
//! daemon writes it), then one sync round uploads it; the figure is the round's wall time.
//! Each run uses its own appliance name, so runs against the same server never collide.

use crate::config::{Secret, SyncConfig};
use crate::model::clock::Stamp;
use crate::model::device::BdAddr;
use crate::model::outcome::Outcome;
use crate::store::{AttemptRecord, Store, StoreOptions};
use crate::sync::{self, Settings};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// Distinct phones in the backlog.
const PHONES: u64 = 5000;

/// Writes `rows` attempts (over [`PHONES`] phones, every outcome) into a new log at `path`.
pub async fn fill_backlog(path: &Path, rows: u64) -> Result<(), String> {
    let store = Store::open(path, StoreOptions::new("bench")).map_err(|e| e.to_string())?;
    let radio: Arc<str> = Arc::from("hci1");
    let t0 = 1_750_000_000_000i64;
    for i in 0..rows {
        let n = i % PHONES;
        let bytes = [0x02, 0x11, (n >> 16) as u8, (n >> 8) as u8, n as u8, 0x42];
        let outcome = Outcome::ALL[(i % 7) as usize];
        let at = t0 + i as i64 * 100;
        store
            .attempt(AttemptRecord {
                addr: BdAddr(bytes),
                item_hash: format!("{:064x}", i % 3),
                item_md5: format!("{:032x}", i % 3),
                item_name: format!("flyer-{}.pdf", i % 3),
                campaign: "bench".into(),
                radio: radio.clone(),
                started: stamp(at - 5000),
                ended: stamp(at),
                outcome,
                raw_code: (outcome == Outcome::Declined).then_some(0xC3),
                reason: format!("{outcome} in the sync benchmark"),
                bytes: 4096,
            })
            .await;
    }
    store.close().await.map_err(|e| e.to_string())
}

fn stamp(at_ms: i64) -> Stamp {
    Stamp {
        at_ms,
        clock_synced: true,
    }
}

/// The settings of a benchmark run against `url`.
pub fn settings(url: &str, appliance: &str) -> Settings {
    Settings {
        cfg: SyncConfig {
            mysql_url: Some(Secret::new(url)),
            fleet: "bench".into(),
            secret: Some(Secret::new("bench-secret-0123456789")),
            ..SyncConfig::default()
        },
        appliance: appliance.into(),
    }
}

/// Fills a backlog of `rows`, syncs it once and prints the seconds it took.
pub fn run(url: &str, rows: u64) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("o4send-bench-sync-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let db = dir.join("o4send.db");
    let _ = std::fs::remove_file(&db);
    let appliance = format!(
        "bench-{}-{}",
        std::process::id(),
        crate::model::clock::Clock::system().now_ms()
    );
    let result = crate::engine::runtime()?.block_on(async {
        fill_backlog(&db, rows).await?;
        let store = Store::open(&db, StoreOptions::new("bench")).map_err(|e| e.to_string())?;
        let backlog = store
            .reader()
            .and_then(|r| r.sync_backlog())
            .map_err(|e| e.to_string())?;
        let started = Instant::now();
        let stats = sync::once(&settings(url, &appliance), &store, &mut |_| {})
            .await
            .map_err(|e| e.to_string());
        let secs = started.elapsed().as_secs_f64();
        let _ = store.close().await;
        let stats = stats?;
        println!(
            "sync bench: {} rows backlog ({} attempts), {} uploaded to MariaDB/MySQL in {secs:.2} s ({:.0} rows/s), appliance {appliance}",
            backlog.total(),
            backlog.attempts,
            stats.uploaded,
            stats.uploaded as f64 / secs.max(1e-9)
        );
        Ok(())
    });
    let _ = std::fs::remove_dir_all(&dir);
    result
}
