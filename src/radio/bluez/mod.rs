//! The BlueZ backend: real controllers through bluetoothd over D-Bus (bluer).
//!
//! One [`Bluez`] is shared by every adapter: the D-Bus session, the NoInputNoOutput agent (so a
//! phone that asks for Just Works pairing gets it; no bond is kept because every device is
//! removed after it is handled), and the Object Push client profile. Both registrations live in
//! bluetoothd and die with it, so they are renewed whenever the owner of `org.bluez` changes:
//! a bluetoothd restart costs a few seconds, not a daemon restart. Each configured adapter is a
//! [`BluezRadio`], found by name (`hci0`) or address each time it is needed, so a USB dongle
//! that comes back under another name is found again.

mod errors;
mod goep;
mod owner;
mod profile;
mod radio;
mod sdp;

pub use errors::classify;
pub use radio::BluezRadio;

use crate::radio::RadioError;
use bluer::agent::{Agent, AgentHandle};
use bluer::{Adapter, Session};
use profile::Waiting;
use std::sync::Arc;
use tokio::sync::{watch, Mutex};
use tokio::task::JoinHandle;

/// What is registered with one bluetoothd instance.
struct Registration {
    owner: String,
    _agent: AgentHandle,
    profile: JoinHandle<()>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.profile.abort();
    }
}

/// The connection to bluetoothd shared by all adapters.
pub struct Bluez {
    session: Session,
    owner: watch::Receiver<Option<String>>,
    registration: Mutex<Option<Registration>>,
    waiting: Waiting,
}

fn bluez_error(context: &str, e: bluer::Error) -> RadioError {
    RadioError(format!("{context}: {e}"))
}

impl Bluez {
    /// Connects to the system bus; bluetoothd itself may come later.
    pub async fn connect() -> Result<Arc<Bluez>, RadioError> {
        let session = Session::new()
            .await
            .map_err(|e| bluez_error("system D-Bus", e))?;
        Ok(Arc::new(Bluez {
            session,
            owner: owner::watch_owner(),
            registration: Mutex::new(None),
            waiting: Waiting::default(),
        }))
    }

    /// The current bluetoothd, with our agent and profile registered; registers them again when
    /// bluetoothd has restarted. Returns bluetoothd's bus name.
    async fn ready(&self) -> Result<String, RadioError> {
        let owner = self.current_owner().await?;
        let mut registration = self.registration.lock().await;
        if registration.as_ref().is_some_and(|r| r.owner == owner) {
            return Ok(owner);
        }
        if registration.take().is_some() {
            tracing::warn!("bluetoothd restarted ({owner}); registering agent and profile again");
        }
        let agent = Agent {
            request_default: true,
            ..Default::default()
        };
        let agent = self
            .session
            .register_agent(agent)
            .await
            .map_err(|e| bluez_error("registering the agent", e))?;
        let profile = profile::register(&self.session, self.waiting.clone())
            .await
            .map_err(|e| bluez_error("registering the Object Push client profile", e))?;
        *registration = Some(Registration {
            owner: owner.clone(),
            _agent: agent,
            profile,
        });
        Ok(owner)
    }

    /// bluetoothd's bus name; waits a little for the watcher's first answer.
    async fn current_owner(&self) -> Result<String, RadioError> {
        let mut owner = self.owner.clone();
        let first = tokio::time::timeout(
            std::time::Duration::from_secs(3),
            owner.wait_for(Option::is_some),
        )
        .await;
        match first {
            Ok(Ok(name)) => Ok(name.clone().unwrap_or_default()),
            _ => Err(RadioError(
                "bluetoothd is not running (org.bluez is not on the system bus)".into(),
            )),
        }
    }

    /// Whether bluetoothd is still the instance `owner` names.
    fn same_owner(&self, owner: &str) -> bool {
        self.owner.borrow().as_deref() == Some(owner)
    }

    /// The adapter configured as `id`: an adapter name (`hci0`) or its address.
    async fn adapter(&self, id: &str) -> Result<Adapter, RadioError> {
        let names = self
            .session
            .adapter_names()
            .await
            .map_err(|e| bluez_error("listing adapters", e))?;
        for name in names {
            let adapter = self
                .session
                .adapter(&name)
                .map_err(|e| bluez_error(&name, e))?;
            if name == id {
                return Ok(adapter);
            }
            if adapter
                .address()
                .await
                .is_ok_and(|a| a.to_string().eq_ignore_ascii_case(id))
            {
                return Ok(adapter);
            }
        }
        Err(RadioError(format!("adapter {id} not found")))
    }

    /// Names and addresses of the adapters bluetoothd has now.
    pub async fn adapters(&self) -> Result<Vec<(String, String)>, RadioError> {
        let names = self
            .session
            .adapter_names()
            .await
            .map_err(|e| bluez_error("listing adapters", e))?;
        let mut out = Vec::new();
        for name in names {
            let adapter = self
                .session
                .adapter(&name)
                .map_err(|e| bluez_error(&name, e))?;
            let addr = adapter
                .address()
                .await
                .map(|a| a.to_string())
                .unwrap_or_default();
            out.push((name, addr));
        }
        Ok(out)
    }
}
