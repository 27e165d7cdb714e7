//! The watchdog ping: every half of systemd's `WATCHDOG_USEC`, WATCHDOG=1 — but only while no
//! watched loop has stalled. When one has, the pings stop (once logged, naming the loop) and
//! systemd kills and restarts the daemon when its `WatchdogSec` runs out.
//!
//! The task runs on the daemon's own runtime: a task that blocks that runtime silences the pings
//! too, which is the truth.

use super::health::{Health, Stall};
use std::time::Duration;
use tokio::task::JoinHandle;

/// systemd's watchdog, as this process was started with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Watchdog {
    /// `WATCHDOG_USEC`: systemd gives up this long after the last ping.
    pub timeout: Duration,
}

impl Watchdog {
    /// `None` when systemd asked for no watchdog (or asked another process, `WATCHDOG_PID`).
    pub fn from_env() -> Option<Watchdog> {
        #[cfg(target_os = "linux")]
        let asked = sd_notify::watchdog_enabled();
        #[cfg(not(target_os = "linux"))]
        let asked: Option<Duration> = None;
        asked
            .filter(|t| !t.is_zero())
            .map(|timeout| Watchdog { timeout })
    }

    /// How often to ping: half the timeout, as sd_watchdog_enabled(3) advises.
    pub fn interval(&self) -> Duration {
        self.timeout / 2
    }
}

/// Starts pinging when systemd asked for it; returns the task, or `None` when it did not.
pub fn spawn_watchdog(health: Health) -> Option<JoinHandle<()>> {
    let watchdog = Watchdog::from_env()?;
    tracing::info!(
        "watchdog: pinging systemd every {} ms while every loop makes progress",
        watchdog.interval().as_millis()
    );
    Some(tokio::spawn(run(health, watchdog.interval())))
}

async fn run(health: Health, interval: Duration) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut withheld = false;
    loop {
        tick.tick().await;
        let stalls = health.stalls();
        if stalls.is_empty() {
            super::ping();
            if withheld {
                tracing::warn!("watchdog: every loop makes progress again; pinging systemd");
            }
        } else if !withheld {
            tracing::error!("watchdog: not pinging systemd: {}", describe(&stalls));
        }
        withheld = !stalls.is_empty();
    }
}

/// One line naming every stalled loop.
pub fn describe(stalls: &[Stall]) -> String {
    let parts: Vec<String> = stalls.iter().map(Stall::to_string).collect();
    parts.join("; ")
}
