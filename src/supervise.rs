//! Telling systemd the truth: READY once the store is open, content loaded and radios
//! attached; a one-line STATUS; STOPPING on shutdown. Outside systemd (no NOTIFY_SOCKET) every
//! call is a no-op. The watchdog tied to the health of every loop builds on this.

use sd_notify::NotifyState;

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

fn notify(states: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::debug!("sd_notify: {e}");
    }
}
