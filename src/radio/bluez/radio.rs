//! One controller as a [`Radio`]: BR/EDR discovery streaming sightings, Object Push connections
//! through the client profile, and forgetting devices. A radio that also pushes stops inquiry
//! while it pages (inquiry slows paging badly) and starts it again when no page is under way.

use super::goep::{self, Goep};
use super::profile::OPP_UUID;
use super::{bluez_error, classify, Bluez};
use crate::model::device::{device_name, BdAddr, ClassOfDevice};
use crate::model::outcome::{AttemptResult, Outcome};
use crate::radio::{BoxFuture, ObexStream, OppLink, Radio, RadioError, Sighting, Sightings};
use crate::supervise::Heartbeat;
use bluer::{Adapter, AdapterEvent, Address, DiscoveryFilter, DiscoveryTransport};
use futures::StreamExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// How long bluetoothd may take to hand over the socket after ConnectProfile succeeded.
const SOCKET_HANDOVER: Duration = Duration::from_secs(10);

pub struct BluezRadio {
    id: Arc<str>,
    bluez: Arc<Bluez>,
    /// Pages under way on this radio.
    paging: watch::Sender<usize>,
    /// One connection set-up (page, SDP, RFCOMM) at a time: a controller pages one device at a
    /// time anyway, and concurrent set-ups through bluetoothd race the kernel's L2CAP teardown
    /// (Linux 6.1: `list_del` BUG in `hci_chan_del`, bluetoothd killed). Transfers stay parallel.
    connecting: tokio::sync::Mutex<()>,
    alias: Mutex<Option<String>>,
    /// Connect the phone's L2CAP PSM when it offers one (GOEP 2.0); off: its RFCOMM channel.
    l2cap: AtomicBool,
}

impl BluezRadio {
    pub fn new(id: &str, bluez: Arc<Bluez>) -> BluezRadio {
        BluezRadio {
            id: id.into(),
            bluez,
            paging: watch::channel(0).0,
            connecting: tokio::sync::Mutex::new(()),
            alias: Mutex::new(None),
            l2cap: AtomicBool::new(true),
        }
    }

    /// Whether pushes may go over L2CAP where the phone offers it (the default), or keep to
    /// RFCOMM (`o4send push --rfcomm`).
    pub fn use_l2cap(&self, yes: bool) {
        self.l2cap.store(yes, Ordering::Relaxed);
    }

    /// Powers the adapter on, makes it pairable (Just Works) and sets the sender name.
    async fn prepare(&self) -> Result<Adapter, RadioError> {
        self.bluez.ready().await?;
        let adapter = self.bluez.adapter(&self.id).await?;
        let fail = |what: &str, e| bluez_error(&format!("{}: {what}", self.id), e);
        adapter
            .set_powered(true)
            .await
            .map_err(|e| fail("power on", e))?;
        adapter
            .set_pairable(true)
            .await
            .map_err(|e| fail("pairable", e))?;
        let alias = self.alias.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(alias) = alias {
            adapter
                .set_alias(alias)
                .await
                .map_err(|e| fail("alias", e))?;
        }
        Ok(adapter)
    }

    /// One discovery session, until a page needs the radio (Ok) or something breaks (Err).
    async fn discovery_session(
        &self,
        adapter: &Adapter,
        out: &Sightings,
    ) -> Result<bool, RadioError> {
        let filter = DiscoveryFilter {
            transport: DiscoveryTransport::BrEdr,
            duplicate_data: true,
            ..Default::default()
        };
        adapter
            .set_discovery_filter(filter)
            .await
            .map_err(|e| bluez_error("discovery filter", e))?;
        let events = adapter
            .discover_devices_with_changes()
            .await
            .map_err(|e| bluez_error("start discovery", e))?;
        let mut events = std::pin::pin!(events);
        let mut paging = self.paging.subscribe();
        let mut owner = self.bluez.owner.clone();
        // A clone inherits the original's last seen version: mark now as seen, so that only a
        // change from here on (a bluetoothd restart) ends the session.
        owner.borrow_and_update();
        let mut check = tokio::time::interval(ALIVE_CHECK);
        loop {
            tokio::select! {
                event = events.next() => match event {
                    Some(AdapterEvent::DeviceAdded(addr)) => {
                        if let Some(s) = self.sighting(adapter, addr).await {
                            if out.send(s).await.is_err() {
                                return Ok(false);
                            }
                        }
                    }
                    Some(_) => {}
                    None => return Err(RadioError(format!("{}: discovery ended (adapter gone?)", self.id))),
                },
                () = page_requested(&mut paging) => return Ok(true),
                _ = owner.changed() => return Err(RadioError("bluetoothd restarted".into())),
                _ = check.tick() => check_discovering(adapter, out).await,
            }
        }
    }

    /// A sighting for a device bluetoothd reports, if it is in range now (has an RSSI).
    async fn sighting(&self, adapter: &Adapter, addr: Address) -> Option<Sighting> {
        let device = adapter.device(addr).ok()?;
        let rssi = device.rssi().await.ok().flatten()?;
        let name = device.name().await.ok().flatten().unwrap_or_default();
        let class = device.class().await.ok().flatten().unwrap_or(0);
        let uuids = device
            .uuids()
            .await
            .ok()
            .flatten()
            .filter(|u| !u.is_empty());
        Some(Sighting {
            addr: BdAddr(addr.0),
            name: device_name(&name),
            class: ClassOfDevice(class),
            rssi: Some(rssi),
            radio: self.id.clone(),
            opp_advertised: uuids.map(|u| u.contains(&OPP_UUID)),
        })
    }

    async fn connect(&self, addr: BdAddr) -> Result<OppLink, AttemptResult> {
        let failed = |e: RadioError| AttemptResult::new(Outcome::Failed, None, e.0, 0);
        let owner = self.bluez.ready().await.map_err(failed)?;
        let adapter = self.bluez.adapter(&self.id).await.map_err(failed)?;
        let address = Address(addr.0);
        let local = adapter
            .address()
            .await
            .map_err(|e| failed(bluez_error("adapter address", e)))?;
        match goep::connect(local, address, self.l2cap.load(Ordering::Relaxed)).await {
            Goep::Link(link) => return Ok(link),
            Goep::Failed(result) => return Err(result),
            Goep::ViaBluetoothd(why) => {
                tracing::debug!(%addr, radio = %self.id, "through bluetoothd: {why}")
            }
        }
        self.connect_rfcomm(&adapter, address, owner)
            .await
            .map(OppLink::rfcomm)
    }

    /// The Object Push connection through bluetoothd's `ConnectProfile`, when the appliance
    /// could not read the phone's record itself.
    async fn connect_rfcomm(
        &self,
        adapter: &Adapter,
        address: Address,
        owner: String,
    ) -> Result<Box<dyn ObexStream>, AttemptResult> {
        let failed = |e: RadioError| AttemptResult::new(Outcome::Failed, None, e.0, 0);
        let device = adapter
            .device(address)
            .map_err(|e| failed(bluez_error("device", e)))?;
        let (socket, _expecting) = self.bluez.waiting.expect(address);
        let setup = device.connect_profile(&OPP_UUID);
        let mut setup = std::pin::pin!(setup);
        let answer = tokio::select! {
            answer = &mut setup => answer,
            abandoned = setup_abandoned(adapter, address) => {
                match tokio::time::timeout(ANSWER_GRACE, &mut setup).await {
                    Ok(answer) => answer,
                    Err(_) => return Err(abandoned),
                }
            }
        };
        if let Err(e) = answer {
            if !self.bluez.same_owner(&owner) {
                return Err(AttemptResult::new(
                    Outcome::Failed,
                    None,
                    format!("bluetoothd restarted during connect: {e}"),
                    0,
                ));
            }
            return Err(classify(&format!("{:?}", e.kind), &e.message));
        }
        match tokio::time::timeout(SOCKET_HANDOVER, socket).await {
            Ok(Ok(stream)) => Ok(Box::new(stream)),
            _ => Err(AttemptResult::new(
                Outcome::Failed,
                None,
                "connected, but bluetoothd handed over no socket",
                0,
            )),
        }
    }
}

/// How often a pending connection set-up is checked for having been given up by bluetoothd.
const SETUP_POLL: Duration = Duration::from_millis(250);
/// How long ConnectProfile may still answer after the set-up looked abandoned.
const ANSWER_GRACE: Duration = Duration::from_secs(2);

/// Resolves when bluetoothd has given up a connection set-up without answering ConnectProfile,
/// which BlueZ 5.66 does in two ways (seen in the VM rig with btmon): a page that fails (Page
/// Timeout) makes it remove the temporary device, and the pending call is never answered; and an
/// RFCOMM link that closes mid set-up (`ext_io_disconnected`) leaves the call pending too. Without
/// this, every phone that walked away holds the radio's set-up for the whole connect timeout.
async fn setup_abandoned(adapter: &Adapter, address: Address) -> AttemptResult {
    let mut was_connected = false;
    loop {
        tokio::time::sleep(SETUP_POLL).await;
        let known = adapter
            .device_addresses()
            .await
            .is_ok_and(|a| a.contains(&address));
        if !known {
            let why = "page failed: bluetoothd dropped the device during connection set-up";
            return AttemptResult::new(Outcome::Unreachable, None, why, 0);
        }
        let connected = match adapter.device(address) {
            Ok(device) => device.is_connected().await.unwrap_or(false),
            Err(_) => false,
        };
        if was_connected && !connected {
            let why = "the link closed during connection set-up and bluetoothd never answered";
            return AttemptResult::new(Outcome::Failed, None, why, 0);
        }
        was_connected |= connected;
    }
}

/// How long a link may take to close before the device is removed anyway.
const DISCONNECT_WAIT: Duration = Duration::from_secs(5);

/// Closes the device's link and waits until bluetoothd reports it closed. Removing a device
/// whose ACL link is still being torn down races the kernel's L2CAP cleanup (Linux 6.1 hits a
/// `list_del` BUG in `hci_chan_del` that kills bluetoothd), so removal always waits for this.
async fn disconnect_quietly(adapter: &Adapter, address: Address) {
    let Ok(device) = adapter.device(address) else {
        return;
    };
    if !device.is_connected().await.unwrap_or(false) {
        return;
    }
    let _ = device.disconnect().await;
    let closed = async {
        while device.is_connected().await.unwrap_or(false) {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    if tokio::time::timeout(DISCONNECT_WAIT, closed).await.is_err() {
        tracing::warn!(%address, "link still up after {}s; removing the device anyway", DISCONNECT_WAIT.as_secs());
    }
}

/// How often a discovery session asks bluetoothd whether it is still discovering.
const ALIVE_CHECK: Duration = Duration::from_secs(10);

/// An answer from bluetoothd that discovery is on is the scan loop's proof of life, also when
/// no device is around; no answer (bluetoothd stuck) leaves the heartbeat to go stale.
async fn check_discovering(adapter: &Adapter, out: &Sightings) {
    match adapter.is_discovering().await {
        Ok(true) => out.alive(),
        Ok(false) => tracing::debug!("{}: discovery is off", adapter.name()),
        Err(e) => tracing::debug!("{}: discovering? {e}", adapter.name()),
    }
}

/// Resolves when a page starts on this radio.
async fn page_requested(paging: &mut watch::Receiver<usize>) {
    let _ = paging.wait_for(|n| *n > 0).await;
}

impl BluezRadio {
    /// Waits, with discovery running, until bluetoothd knows the device. bluetoothd drops a
    /// device it discovered but never connected (a "temporary" one) after 30 s unheard, and
    /// discovery is paused while this radio pages, so a phone that waited its turn may have to
    /// answer one more inquiry before it can be paged.
    async fn wait_known(&self, addr: BdAddr, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Ok(adapter) = self.bluez.adapter(&self.id).await {
                let known = adapter
                    .device_addresses()
                    .await
                    .is_ok_and(|a| a.contains(&Address(addr.0)));
                if known {
                    return true;
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Runs discovery until bluetoothd knows the device (true) or `limit` passes (false): what a
    /// one-off push needs, where no daemon's scan loop keeps bluetoothd's device list fresh.
    pub async fn find(&self, addr: BdAddr, limit: Duration) -> bool {
        let search = async {
            loop {
                let (tx, mut rx) = mpsc::channel(16);
                let out = Sightings::new(tx, Heartbeat::unwatched());
                let drain = async { while rx.recv().await.is_some() {} };
                if let (Err(e), ()) = tokio::join!(self.discover(out), drain) {
                    tracing::warn!(radio = %self.id, "discovery: {e}; retrying");
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        };
        tokio::select! {
            known = self.wait_known(addr, limit) => known,
            () = search => false,
        }
    }

    /// Stops bluetoothd's own connection attempt after we gave up on it; otherwise it goes on
    /// paging and the next attempt is refused as busy.
    async fn cancel_connect(&self, addr: BdAddr) {
        let Ok(adapter) = self.bluez.adapter(&self.id).await else {
            return;
        };
        if let Ok(device) = adapter.device(Address(addr.0)) {
            if let Err(e) = device.disconnect().await {
                tracing::debug!(%addr, "cancelling the connection: {e}");
            }
        }
    }
}

/// Counts a page for as long as it lives, so discovery stays off meanwhile.
struct Paging<'a>(&'a watch::Sender<usize>);

impl<'a> Paging<'a> {
    fn start(counter: &'a watch::Sender<usize>) -> Paging<'a> {
        counter.send_modify(|n| *n += 1);
        Paging(counter)
    }
}

impl Drop for Paging<'_> {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl Radio for BluezRadio {
    fn id(&self) -> Arc<str> {
        self.id.clone()
    }

    fn set_alias<'a>(&'a self, alias: &'a str) -> BoxFuture<'a, Result<(), RadioError>> {
        Box::pin(async move {
            *self.alias.lock().unwrap_or_else(|e| e.into_inner()) = Some(alias.to_string());
            let adapter = self.bluez.adapter(&self.id).await?;
            adapter
                .set_alias(alias.to_string())
                .await
                .map_err(|e| bluez_error("alias", e))
        })
    }

    fn discover(&self, out: Sightings) -> BoxFuture<'_, Result<(), RadioError>> {
        Box::pin(async move {
            let adapter = self.prepare().await?;
            out.alive();
            let mut paging = self.paging.subscribe();
            loop {
                out.paused();
                let _ = paging.wait_for(|n| *n == 0).await;
                out.alive();
                if !self.discovery_session(&adapter, &out).await? {
                    return Ok(());
                }
            }
        })
    }

    fn connect_opp(
        &self,
        addr: BdAddr,
        limit: Duration,
    ) -> BoxFuture<'_, Result<OppLink, AttemptResult>> {
        Box::pin(async move {
            let _one_at_a_time = self.connecting.lock().await;
            let started = tokio::time::Instant::now();
            if !self.wait_known(addr, limit).await {
                let why = "not heard from lately: bluetoothd no longer knows the device";
                return Err(AttemptResult::new(Outcome::Unreachable, None, why, 0));
            }
            let _paging = Paging::start(&self.paging);
            let left = limit.saturating_sub(started.elapsed());
            match tokio::time::timeout(left, self.connect(addr)).await {
                Ok(result) => result,
                Err(_) => {
                    self.cancel_connect(addr).await;
                    Err(crate::radio::timed_out(limit))
                }
            }
        })
    }

    fn forget(&self, addr: BdAddr) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let Ok(adapter) = self.bluez.adapter(&self.id).await else {
                return;
            };
            let address = Address(addr.0);
            disconnect_quietly(&adapter, address).await;
            match adapter.remove_device(address).await {
                Ok(()) => tracing::debug!(%addr, radio = %self.id, "forgotten"),
                Err(e)
                    if matches!(
                        e.kind,
                        bluer::ErrorKind::DoesNotExist | bluer::ErrorKind::NotFound
                    ) => {}
                Err(e) => tracing::warn!(%addr, radio = %self.id, "cannot forget: {e}"),
            }
        })
    }
}
