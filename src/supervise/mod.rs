//! Telling systemd the truth: READY once the store is open, content loaded and radios attached;
//! a one-line STATUS; EXTEND_TIMEOUT_USEC while a long start-up step (a schema migration) runs;
//! WATCHDOG=1 only while every loop shows progress ([`health`], [`watchdog`]); STOPPING on
//! shutdown. Outside systemd (no NOTIFY_SOCKET) every message is a no-op.
//!
//! An appliance nobody watches is restarted by systemd only if the daemon stops pinging when it
//! is stuck: a process that is alive but hung must look dead.

mod beating;
mod health;
mod starting;
mod watchdog;

pub use beating::Beating;
pub use health::{Health, Heartbeat, Stall};
pub use starting::while_starting;
pub use watchdog::{describe, spawn_watchdog, Watchdog};

#[cfg(target_os = "linux")]
use sd_notify::NotifyState;
use std::time::Duration;

/// Where systemd is not (the fleet tool on Windows or macOS), there is nobody to tell: the same
/// messages, read by nobody.
#[cfg(not(target_os = "linux"))]
#[allow(dead_code)]
enum NotifyState<'a> {
    Ready,
    Status(&'a str),
    Stopping,
    ExtendTimeoutUsec(u32),
    Watchdog,
}

/// The daemon is ready to serve.
pub fn ready(status: &str) {
    notify(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// A one-line human summary for `systemctl status`.
pub fn status(status: &str) {
    notify(&[NotifyState::Status(status)]);
}

/// Shutdown has begun.
pub fn stopping() {
    notify(&[NotifyState::Stopping]);
}

/// Asks systemd for `more` time to finish starting (or stopping), counted from now.
pub fn extend_timeout(more: Duration) {
    let usec = u32::try_from(more.as_micros()).unwrap_or(u32::MAX);
    notify(&[NotifyState::ExtendTimeoutUsec(usec)]);
}

/// Every loop made progress: systemd's watchdog timer starts again.
fn ping() {
    notify(&[NotifyState::Watchdog]);
}

#[cfg(target_os = "linux")]
fn notify(states: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::debug!("sd_notify: {e}");
    }
}

#[cfg(not(target_os = "linux"))]
fn notify(_: &[NotifyState]) {}
