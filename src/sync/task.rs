//! The daemon's sync task: a round every `sync.interval_secs` while the server answers (paced
//! start to start, [`super::pause_after`]), with
//! exponential back-off and jitter while it does not. A failure is logged once when it starts
//! (and again only when its cause changes), and once when sync recovers; nothing here can stop
//! scanning or pushing, which go on with local decisions.

use super::error::SyncErrorKind;
use super::{once, pause_after, Backoff, Settings};
use crate::store::Store;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// Starts the task on the current runtime; it runs until the runtime stops.
pub fn spawn(settings: Settings, store: Store) -> JoinHandle<()> {
    tokio::spawn(run(settings, store))
}

async fn run(settings: Settings, store: Store) {
    let interval = Duration::from_secs(settings.cfg.interval_secs);
    let mut backoff = Backoff::new(Duration::from_secs(settings.cfg.backoff_max_secs));
    let mut last_error: Option<String> = None;
    tracing::info!(
        "sync to {} as {:?} in fleet {:?}",
        super::connect::target(&settings.cfg),
        settings.appliance,
        settings.cfg.fleet
    );
    loop {
        let started = Instant::now();
        let wait = match once(&settings, &store, &mut |_| {}).await {
            Ok(stats) => {
                if last_error.take().is_some() {
                    tracing::info!("sync recovered after {} failed tries", backoff.failures());
                }
                if stats.uploaded + stats.downloaded > 0 {
                    tracing::info!(
                        "sync: {} rows uploaded, {} fleet answers downloaded",
                        stats.uploaded,
                        stats.downloaded
                    );
                }
                backoff.reset();
                pause_after(interval, started.elapsed())
            }
            Err(e) => {
                let text = e.to_string();
                if last_error.as_deref() != Some(text.as_str()) {
                    tracing::error!("sync: {text}; pushing goes on with local decisions");
                    last_error = Some(text);
                }
                match e.kind() {
                    SyncErrorKind::Transient => backoff.next_wait(),
                    SyncErrorKind::Fatal => backoff.longest_wait(),
                }
            }
        };
        tokio::time::sleep(wait).await;
    }
}
