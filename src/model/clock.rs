//! Wall-clock time as the appliance records it.
//!
//! The Pi has no battery-backed clock: until timesyncd has spoken to a server, the wall clock may
//! be years off and jumps when it is corrected. So every timestamp the store writes carries the
//! boot id (which boot wrote it) and whether the clock was synchronised at that moment.
//! The simulation runs on tokio's paused clock; [`Clock::virtual_from_now`] maps that virtual
//! time onto wall time so a simulated expo hour produces believable timestamps in seconds.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// Where systemd-timesyncd marks a completed synchronisation (systemd ≥ 239).
const TIMESYNC_FLAG: &str = "/run/systemd/timesync/synchronized";

/// A moment as the store keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// Milliseconds since the Unix epoch, by this machine's clock.
    pub at_ms: i64,
    /// Whether the clock had been synchronised when this was taken.
    pub clock_synced: bool,
}

#[derive(Clone, Debug)]
enum Source {
    System,
    Virtual { base_ms: i64, base: Instant },
}

/// The appliance's notion of "now", shared by every task.
#[derive(Clone, Debug)]
pub struct Clock {
    source: Source,
    boot_id: Arc<str>,
    synced_flag: Arc<Path>,
}

impl Clock {
    /// The real wall clock.
    pub fn system() -> Clock {
        Clock {
            source: Source::System,
            boot_id: read_boot_id().into(),
            synced_flag: Path::new(TIMESYNC_FLAG).into(),
        }
    }

    /// Wall time that starts at the real "now" and then follows tokio's (possibly paused) clock.
    pub fn virtual_from_now() -> Clock {
        Clock {
            source: Source::Virtual {
                base_ms: system_ms(),
                base: Instant::now(),
            },
            ..Clock::system()
        }
    }

    /// Like [`Clock::virtual_from_now`], but starting `ago` in the past: a simulated run of that
    /// length then ends at the real present.
    pub fn virtual_ending_now(ago: Duration) -> Clock {
        Clock {
            source: Source::Virtual {
                base_ms: system_ms() - ago.as_millis() as i64,
                base: Instant::now(),
            },
            ..Clock::system()
        }
    }

    /// Whether this clock follows tokio's (possibly paused) clock rather than the system's.
    pub fn is_virtual(&self) -> bool {
        matches!(self.source, Source::Virtual { .. })
    }

    /// Milliseconds since the epoch.
    pub fn now_ms(&self) -> i64 {
        match &self.source {
            Source::System => system_ms(),
            Source::Virtual { base_ms, base } => {
                base_ms + Instant::now().duration_since(*base).as_millis() as i64
            }
        }
    }

    /// Now, with the synchronisation flag.
    pub fn stamp(&self) -> Stamp {
        Stamp {
            at_ms: self.now_ms(),
            clock_synced: self.synced(),
        }
    }

    /// Whether timesyncd reports a synchronised clock. A simulated clock inherits the real one's state.
    pub fn synced(&self) -> bool {
        self.synced_flag.exists()
    }

    /// This boot's id (`/proc/sys/kernel/random/boot_id`), or `unknown` where there is none.
    pub fn boot_id(&self) -> &str {
        &self.boot_id
    }
}

fn system_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis() as i64
}

fn read_boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn virtual_clock_follows_paused_time() {
        let clock = Clock::virtual_from_now();
        let t0 = clock.now_ms();
        tokio::time::sleep(Duration::from_secs(3600)).await;
        assert_eq!(clock.now_ms() - t0, 3_600_000);
        assert!(!clock.boot_id().is_empty());
    }
}
