//! Contention is not failure: InnoDB answers two appliances that want the same rows at the
//! same moment with a deadlock (1213) or a lock wait timeout (1205), and a Galera cluster
//! answers a certification conflict between nodes with the same 1213. The server has rolled the
//! transaction back; running it again is the cure. So a batch that meets contention is tried
//! again in place, a few times, after a short random wait (so two appliances that collided do
//! not collide again), counted, and logged at debug level; only a batch that still cannot get
//! through after that becomes a failed round.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Tries of one batch before contention counts as a failure.
pub const TRIES: u32 = 10;

/// Contention retries since this process started (the fleet benchmark prints them).
static RETRIES: AtomicU64 = AtomicU64::new(0);

/// Whether `e` is contention the server has already rolled back.
pub fn is_contention(e: &mysql_async::Error) -> bool {
    matches!(e, mysql_async::Error::Server(s) if matches!(s.code, 1205 | 1213))
}

/// Notes a retry and waits before try `attempt` (1-based): 20 ms doubling, at most 1.3 s, each
/// wait a random point between half of that and all of it.
pub async fn wait_before(attempt: u32, what: &str, e: &mysql_async::Error) {
    RETRIES.fetch_add(1, Ordering::Relaxed);
    let ceiling = 20u64 << attempt.min(6);
    let jitter = getrandom::u64().unwrap_or(0) % (ceiling / 2 + 1);
    let wait = Duration::from_millis(ceiling / 2 + jitter);
    tracing::debug!("{what}: contention ({e}); try {attempt} of {TRIES} in {wait:?}");
    tokio::time::sleep(wait).await;
}

/// Contention retries so far.
pub fn retries() -> u64 {
    RETRIES.load(Ordering::Relaxed)
}
