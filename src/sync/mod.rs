//! Offline-first copy of the log to a central MySQL/MariaDB, and the fleet's answers back.
//!
//! The appliance is complete without a network: sync only reads the log through its own
//! [`Reader`] connection and writes its bookkeeping (watermarks, downloaded answers) through the
//! store's writer, so scanning and pushing never wait for it. Each round uploads attempts,
//! visits and events in batches, each batch one MySQL transaction, idempotent on (appliance,
//! local id); a batch is marked uploaded only after MySQL committed it, and the appliances of a
//! fleet upload side by side. Then it downloads the answers each other appliance of the same
//! fleet got past its mark for that appliance. While the server cannot
//! be reached the daemon's task backs off exponentially with jitter. Sync knows nothing of
//! Bluetooth: phones leave as pseudonyms ([`crate::sync::pseudonym`]).

mod backoff;
mod claim;
mod connect;
mod contention;
mod download;
mod error;
mod hosts;
mod pace;
pub mod pseudonym;
mod round;
mod schema;
mod task;
mod upload;

pub use backoff::Backoff;
pub use contention::retries as contention_retries;
pub use error::{SyncError, SyncErrorKind};
pub use pace::pause_after;
pub use round::{once, Progress, RoundStats};
pub use schema::MYSQL_SCHEMA_VERSION;
pub use task::spawn;

use crate::config::SyncConfig;

/// What a sync round needs to know besides the store.
#[derive(Clone, Debug)]
pub struct Settings {
    pub cfg: SyncConfig,
    /// This appliance's name (`appliance.name`): with the local row id, the key of every row.
    pub appliance: String,
}
