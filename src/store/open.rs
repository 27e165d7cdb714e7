//! Opening the log as the config says: retention, the phones' pseudonym key, and the settings a
//! simulated (virtual-clock) run needs. One place for the daemon, the demo and the benchmarks.

use super::{Store, StoreError, StoreOptions};
use crate::config::Config;
use crate::model::clock::Clock;
use crate::supervise::Heartbeat;
use crate::sync::pseudonym::PhoneKey;
use std::path::Path;

pub fn open_for(
    cfg: &Config,
    path: &Path,
    clock: &Clock,
    writer_alive: Heartbeat,
) -> Result<Store, StoreError> {
    let mut opts = StoreOptions::new(clock.boot_id());
    opts.writer_alive = writer_alive;
    opts.phone_key = PhoneKey::for_sync(&cfg.sync);
    opts.retention.max_age_days = cfg.store.max_age_days;
    opts.retention.max_size_mb = cfg.store.max_size_mb;
    opts.time_zone = cfg.appliance.time_zone.clone();
    if clock.is_virtual() {
        // A simulated run must not let the log fall far behind its virtual clock.
        opts.hold_virtual_clock = true;
        opts.queue = 256;
    }
    Store::open(path, opts)
}
