//! The Object Push client profile we register with bluetoothd.
//!
//! Why ConnectProfile and not our own SDP query: bluetoothd already browses the phone's SDP
//! records, finds the RFCOMM channel of UUID 0x1105, handles Just Works authentication through
//! our agent, and keeps SDP state per device. Registering a client Profile for 0x1105 and calling
//! `Device1.ConnectProfile` reuses all of that, and hands us the connected RFCOMM socket through
//! `Profile1.NewConnection`. The cost: one OPP profile per bluetoothd (the appliance runs no obexd
//! server, so nothing else claims it), and a registration to renew whenever bluetoothd restarts.
//!
//! Several pushes run at once, so sockets are routed to the waiting attempt by device address.

use bluer::rfcomm::{Profile, ProfileHandle, Role, Stream};
use bluer::{Address, Session, Uuid};
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// OBEX Object Push, 0x1105 on the Bluetooth base UUID.
pub const OPP_UUID: Uuid = Uuid::from_u128(0x0000_1105_0000_1000_8000_0080_5f9b_34fb);

/// Attempts waiting for their socket, by device.
#[derive(Clone, Default)]
pub struct Waiting(Arc<Mutex<HashMap<Address, oneshot::Sender<Stream>>>>);

impl Waiting {
    /// Registers interest in a device's next connection; dropping the guard withdraws it.
    pub fn expect(&self, addr: Address) -> (oneshot::Receiver<Stream>, Expecting) {
        let (tx, rx) = oneshot::channel();
        self.lock().insert(addr, tx);
        (
            rx,
            Expecting {
                waiting: self.clone(),
                addr,
            },
        )
    }

    fn deliver(&self, addr: Address, stream: Stream) {
        match self.lock().remove(&addr) {
            Some(tx) => {
                let _ = tx.send(stream);
            }
            None => tracing::debug!(%addr, "unexpected Object Push connection, closed"),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Address, oneshot::Sender<Stream>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Withdraws a device from [`Waiting`] when the attempt ends, however it ends.
pub struct Expecting {
    waiting: Waiting,
    addr: Address,
}

impl Drop for Expecting {
    fn drop(&mut self) {
        self.waiting.lock().remove(&self.addr);
    }
}

/// Registers the client profile and starts routing its connections; aborting the returned task
/// unregisters it.
pub async fn register(session: &Session, waiting: Waiting) -> bluer::Result<JoinHandle<()>> {
    let profile = Profile {
        uuid: OPP_UUID,
        name: Some("o4send Object Push client".into()),
        role: Some(Role::Client),
        require_authentication: Some(false),
        require_authorization: Some(false),
        auto_connect: Some(false),
        ..Default::default()
    };
    let handle = session.register_profile(profile).await?;
    Ok(tokio::spawn(route(handle, waiting)))
}

async fn route(mut handle: ProfileHandle, waiting: Waiting) {
    while let Some(request) = handle.next().await {
        let addr = request.device();
        match request.accept() {
            Ok(stream) => waiting.deliver(addr, stream),
            Err(e) => tracing::warn!(%addr, "cannot accept the Object Push connection: {e}"),
        }
    }
    tracing::debug!("Object Push profile unregistered");
}
