//! One scan task per scanning radio: discovery that restarts when the radio stops or fails,
//! after logging why, so a lost adapter is retried instead of ending the daemon. A radio that
//! keeps failing is not hung: each retry counts as progress for the watchdog; only discovery that
//! neither reports nor shows life for the scan stall limit is.

use crate::model::clock::Clock;
use crate::radio::{Radio, Sightings};
use crate::store::{EventRecord, Level, Store};
use std::sync::Arc;
use std::time::Duration;

/// Pause before discovery is tried again on a failed radio.
const RETRY: Duration = Duration::from_secs(5);

pub(super) async fn scan(radio: Arc<dyn Radio>, out: Sightings, store: Store, clock: Clock) {
    loop {
        out.alive();
        let why = match radio.discover(out.clone()).await {
            Ok(()) if out.is_closed() => return,
            Ok(()) => "discovery stopped".to_string(),
            Err(e) => e.to_string(),
        };
        out.alive();
        tracing::warn!(radio = %radio.id(), "{why}; retrying in {}s", RETRY.as_secs());
        let message = format!("{}: {why}", radio.id());
        out.paused(); // a full log queue is the writer's stall, not this loop's
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
