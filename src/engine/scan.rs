//! One scan task per scanning radio: discovery that restarts when the radio stops or fails,
//! after logging why, so a lost adapter is retried instead of ending the daemon.

use crate::clock::Clock;
use crate::radio::{Radio, Sighting};
use crate::store::{EventRecord, Level, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Pause before discovery is tried again on a failed radio.
const RETRY: Duration = Duration::from_secs(5);

pub(super) async fn scan(
    radio: Arc<dyn Radio>,
    tx: mpsc::Sender<Sighting>,
    store: Store,
    clock: Clock,
) {
    loop {
        let why = match radio.discover(tx.clone()).await {
            Ok(()) if tx.is_closed() => return,
            Ok(()) => "discovery stopped".to_string(),
            Err(e) => e.to_string(),
        };
        tracing::warn!(radio = %radio.id(), "{why}; retrying in {}s", RETRY.as_secs());
        let message = format!("{}: {why}", radio.id());
        store
            .event(EventRecord {
                at: clock.stamp(),
                level: Level::Warn,
                kind: "radio".into(),
                message,
            })
            .await;
        tokio::time::sleep(RETRY).await;
    }
}
