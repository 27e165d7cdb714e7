//! The radio boundary: list adapters, discover devices, open an Object Push transport to a
//! device, forget a device.
//!
//! Two backends implement it: `bluez` (real controllers over D-Bus, arriving with the BlueZ
//! work) and [`sim`] (virtual phones in-process, each running the real OBEX server over an
//! in-memory pipe). The engine sees only [`Radio`]; neither backend knows about policy or storage.
//! Connection errors arrive already classified as an [`AttemptResult`] (refused → declined, no
//! OPP record → no_opp, page timeout → unreachable) with the raw error in the reason.

#[cfg(target_os = "linux")]
pub mod bluez;
mod sightings;
pub mod sim;

pub use sightings::{Closed, Sightings};

use crate::config::{Config, Role};
use crate::model::device::{BdAddr, ClassOfDevice, DeviceName};
use crate::model::outcome::AttemptResult;
use crate::obex::Transport;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

/// A boxed future, so the trait can be used as `dyn Radio`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A byte stream the OBEX client runs over (RFCOMM, TCP, an in-memory pipe).
pub trait ObexStream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> ObexStream for T {}

/// An open Object Push connection: the stream, and the transport under it, which decides
/// whether the push may use Single Response Mode (L2CAP ERTM, GOEP 2.0) or not (RFCOMM).
pub struct OppLink {
    pub stream: Box<dyn ObexStream>,
    pub transport: Transport,
}

impl OppLink {
    /// A connection over RFCOMM.
    pub fn rfcomm(stream: Box<dyn ObexStream>) -> OppLink {
        OppLink {
            stream,
            transport: Transport::Rfcomm,
        }
    }
}

/// One inquiry result.
#[derive(Clone, Debug)]
pub struct Sighting {
    pub addr: BdAddr,
    pub name: DeviceName,
    pub class: ClassOfDevice,
    pub rssi: Option<i16>,
    /// The radio that heard it.
    pub radio: Arc<str>,
    /// Whether the device's inquiry response (EIR) lists Object Push; `None` when it lists no
    /// services. Informational: only the SDP lookup when connecting decides `no_opp`.
    pub opp_advertised: Option<bool>,
}

/// A radio that stopped working; the engine logs it, waits and tries again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RadioError(pub String);

impl fmt::Display for RadioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RadioError {}

/// What a backend must do.
pub trait Radio: Send + Sync {
    /// The adapter's name (`hci0`, `sim1`).
    fn id(&self) -> Arc<str>;
    /// Sets the name phones show as the sender.
    fn set_alias<'a>(&'a self, alias: &'a str) -> BoxFuture<'a, Result<(), RadioError>>;
    /// Runs discovery, sending every result, until `out` closes or the radio fails; beats `out`
    /// whenever discovery shows it is working, at least every few seconds while it runs.
    fn discover(&self, out: Sightings) -> BoxFuture<'_, Result<(), RadioError>>;
    /// Finds the device's Object Push service and connects to it: over L2CAP in ERTM where its
    /// SDP record offers a PSM (GOEP 2.0), over RFCOMM otherwise or when that is refused. `limit`
    /// bounds this attempt's own set-up (page, SDP, RFCOMM or L2CAP); time spent waiting for the
    /// radio to be free does not count, and a set-up that runs out of time is cancelled in the
    /// stack and ends `unreachable`.
    fn connect_opp(
        &self,
        addr: BdAddr,
        limit: Duration,
    ) -> BoxFuture<'_, Result<OppLink, AttemptResult>>;
    /// Drops what the stack keeps about the device (bluetoothd's device object).
    fn forget(&self, addr: BdAddr) -> BoxFuture<'_, ()>;
}

/// The result of a connection set-up that ran out of time.
pub fn timed_out(limit: Duration) -> AttemptResult {
    let why = format!(
        "connection set-up took longer than {}s (page timeout?)",
        limit.as_secs()
    );
    AttemptResult::new(crate::model::outcome::Outcome::Unreachable, None, why, 0)
}

/// A radio with its configured job.
#[derive(Clone)]
pub struct Adapter {
    pub radio: Arc<dyn Radio>,
    pub role: Role,
    pub slots: usize,
}

/// Opens the configured adapters. The simulated backend also returns its world, which the
/// demo and the benchmarks read for ground truth. Must run inside a tokio runtime.
pub async fn open(cfg: &Config) -> Result<(Vec<Adapter>, Option<Arc<sim::World>>), RadioError> {
    match cfg.radio.backend {
        crate::config::Backend::Sim => {
            let world = sim::World::new(&cfg.radio.sim);
            Ok((
                adapters_for(cfg, |id| Arc::new(world.radio(id))),
                Some(world),
            ))
        }
        #[cfg(not(target_os = "linux"))]
        crate::config::Backend::Bluez => Err(RadioError(
            "radio.backend = \"bluez\" needs Linux's BlueZ: use \"sim\" here".into(),
        )),
        #[cfg(target_os = "linux")]
        crate::config::Backend::Bluez => {
            let bluez = bluez::Bluez::connect().await?;
            Ok((
                adapters_for(cfg, |id| {
                    Arc::new(bluez::BluezRadio::new(id, bluez.clone()))
                }),
                None,
            ))
        }
    }
}

/// Pairs each configured adapter with the radio `make` builds for its id.
pub fn adapters_for(cfg: &Config, make: impl Fn(&str) -> Arc<dyn Radio>) -> Vec<Adapter> {
    cfg.radio
        .adapters
        .iter()
        .map(|a| Adapter {
            radio: make(&a.id),
            role: a.role,
            slots: a.slots,
        })
        .collect()
}
