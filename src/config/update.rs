//! How a system update is kept or undone (docs/updates.md): how long a new system must run
//! healthy before the boot loader keeps it, and how long it may take before the box restarts and
//! spends one of its tries.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpdateConfig {
    /// A new system is kept once o4send.service has run this long without a restart.
    pub healthy_secs: u64,
    /// A new system not kept this long after its start restarts the box (one try spent); after
    /// three tries the boot loader goes back to the system that installed it.
    pub trial_secs: u64,
}

impl Default for UpdateConfig {
    fn default() -> Self {
        UpdateConfig {
            healthy_secs: 180,
            trial_secs: 900,
        }
    }
}
