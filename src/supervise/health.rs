//! Which loops are alive: each loop (a scan loop, a push worker, the store writer, the engine's
//! core loop) holds a [`Heartbeat`] with its own stall limit, and [`Health::stalls`] names every
//! loop that has shown no progress for longer than its limit.
//!
//! A loop that waits for someone else (the writer with nothing to write, discovery paused while
//! its radio pages) says so with [`Heartbeat::idle`]: waiting is not hanging, and a restart would
//! not help. A heartbeat counts for as long as any clone of it lives; a finished push worker
//! simply drops its own.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::time::Instant;

/// The loops being watched. Clones share the registry.
#[derive(Clone, Default)]
pub struct Health {
    beats: Arc<Mutex<Vec<Weak<Beat>>>>,
}

/// One loop's proof of life. Clones share it.
#[derive(Clone)]
pub struct Heartbeat(Arc<Beat>);

struct Beat {
    name: String,
    limit: Duration,
    state: Mutex<State>,
}

#[derive(Clone, Copy)]
struct State {
    last: Instant,
    idle: bool,
}

/// A loop past its limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stall {
    pub name: String,
    /// Time since its last sign of progress.
    pub silent: Duration,
    pub limit: Duration,
}

impl std::fmt::Display for Stall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} silent for {}s (limit {}s)",
            self.name,
            self.silent.as_secs(),
            self.limit.as_secs()
        )
    }
}

impl Health {
    /// Starts watching a loop that must show progress at least every `limit`; it counts as
    /// fresh from now.
    pub fn register(&self, name: impl Into<String>, limit: Duration) -> Heartbeat {
        let beat = Heartbeat::new(name.into(), limit);
        let mut beats = self.lock();
        beats.retain(|b| b.strong_count() > 0);
        beats.push(Arc::downgrade(&beat.0));
        beat
    }

    /// Every watched loop that is neither idle nor within its limit.
    pub fn stalls(&self) -> Vec<Stall> {
        let now = Instant::now();
        let mut beats = self.lock();
        beats.retain(|b| b.strong_count() > 0);
        beats
            .iter()
            .filter_map(Weak::upgrade)
            .filter_map(|b| b.stall(now))
            .collect()
    }

    /// How many loops are watched now.
    pub fn watched(&self) -> usize {
        let mut beats = self.lock();
        beats.retain(|b| b.strong_count() > 0);
        beats.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Weak<Beat>>> {
        self.beats.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Heartbeat {
    fn new(name: String, limit: Duration) -> Heartbeat {
        let state = State {
            last: Instant::now(),
            idle: false,
        };
        Heartbeat(Arc::new(Beat {
            name,
            limit,
            state: Mutex::new(state),
        }))
    }

    /// A heartbeat nobody watches (the one-shot `o4send scan`, benchmarks).
    pub fn unwatched() -> Heartbeat {
        Heartbeat::new(String::new(), Duration::MAX)
    }

    /// The loop made progress just now.
    pub fn beat(&self) {
        self.set(false);
    }

    /// The loop waits for others, not for itself; it counts as alive until its next beat.
    pub fn idle(&self) {
        self.set(true);
    }

    pub fn name(&self) -> &str {
        &self.0.name
    }

    fn set(&self, idle: bool) {
        let mut state = self.0.state.lock().unwrap_or_else(|e| e.into_inner());
        *state = State {
            last: Instant::now(),
            idle,
        };
    }
}

impl Default for Heartbeat {
    /// [`Heartbeat::unwatched`].
    fn default() -> Self {
        Heartbeat::unwatched()
    }
}

impl std::fmt::Debug for Heartbeat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Heartbeat({:?}, limit {:?})", self.0.name, self.0.limit)
    }
}

impl Beat {
    fn stall(&self, now: Instant) -> Option<Stall> {
        let state = *self.state.lock().unwrap_or_else(|e| e.into_inner());
        let silent = now.saturating_duration_since(state.last);
        (!state.idle && silent > self.limit).then(|| Stall {
            name: self.name.clone(),
            silent,
            limit: self.limit,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: Duration = Duration::from_secs(10);

    #[tokio::test(start_paused = true)]
    async fn a_loop_stalls_only_past_its_own_limit() {
        let health = Health::default();
        let fast = health.register("fast", LIMIT);
        let slow = health.register("slow", LIMIT * 3);
        tokio::time::sleep(LIMIT).await;
        assert!(health.stalls().is_empty(), "exactly at the limit is fine");
        tokio::time::sleep(Duration::from_secs(1)).await;
        let stalls = health.stalls();
        assert_eq!(stalls.len(), 1);
        assert_eq!(stalls[0].name, "fast");
        assert_eq!(stalls[0].silent, LIMIT + Duration::from_secs(1));
        fast.beat();
        slow.beat();
        assert!(health.stalls().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_loop_never_stalls_until_it_works_again() {
        let health = Health::default();
        let writer = health.register("writer", LIMIT);
        writer.idle();
        tokio::time::sleep(LIMIT * 100).await;
        assert!(health.stalls().is_empty());
        writer.beat();
        tokio::time::sleep(LIMIT * 2).await;
        assert_eq!(health.stalls().len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_dropped_heartbeat_is_no_longer_watched() {
        let health = Health::default();
        let push = health.register("push", LIMIT);
        let clone = push.clone();
        drop(push);
        tokio::time::sleep(LIMIT * 2).await;
        assert_eq!(health.stalls().len(), 1, "a clone keeps it watched");
        drop(clone);
        assert!(health.stalls().is_empty());
        assert_eq!(health.watched(), 0);
    }
}
