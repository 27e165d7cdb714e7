//! How long each loop may show no progress before the watchdog stops pinging systemd. A push
//! worker's limit is not here: it follows from the OBEX timeouts (see `engine::push`).

use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WatchdogConfig {
    /// A scan loop whose discovery neither reports a device nor shows the radio working for this
    /// long is hung (discovery rounds last about 10 s).
    pub scan_stall_secs: u64,
    /// The store writer busy on one transaction for this long is hung (blocked on I/O).
    pub writer_stall_secs: u64,
}

impl Default for WatchdogConfig {
    fn default() -> Self {
        WatchdogConfig {
            scan_stall_secs: 60,
            writer_stall_secs: 120,
        }
    }
}

impl WatchdogConfig {
    pub fn scan_stall(&self) -> Duration {
        Duration::from_secs(self.scan_stall_secs)
    }

    pub fn writer_stall(&self) -> Duration {
        Duration::from_secs(self.writer_stall_secs)
    }
}
