//! Who owns `org.bluez` on the system bus right now.
//!
//! When bluetoothd restarts it forgets every Profile and Agent we registered, and a
//! ConnectProfile against a forgotten profile fails exactly like a phone without Object Push.
//! So a small thread asks the bus for the owner of `org.bluez` once a second and publishes it;
//! the backend registers again whenever the owner changes, and never reads a connection failure
//! as "no OPP" across such a change.

use std::time::Duration;
use tokio::sync::watch;

const POLL: Duration = Duration::from_secs(1);

/// Starts the watcher; the value is the unique bus name of bluetoothd, or `None` while absent.
pub fn watch_owner() -> watch::Receiver<Option<String>> {
    let (tx, rx) = watch::channel(None);
    let spawned = std::thread::Builder::new()
        .name("bluez-owner".into())
        .spawn(move || poll(tx));
    if let Err(e) = spawned {
        tracing::error!("cannot watch bluetoothd: {e}");
    }
    rx
}

fn poll(tx: watch::Sender<Option<String>>) {
    let mut conn = None;
    while !tx.is_closed() {
        if conn.is_none() {
            conn = dbus::blocking::Connection::new_system()
                .map_err(|e| tracing::warn!("system bus: {e}"))
                .ok();
        }
        let owner = conn.as_ref().and_then(current_owner);
        tx.send_if_modified(|old| {
            let changed = *old != owner;
            *old = owner.clone();
            changed
        });
        std::thread::sleep(POLL);
    }
}

fn current_owner(conn: &dbus::blocking::Connection) -> Option<String> {
    let proxy = conn.with_proxy(
        "org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        Duration::from_secs(2),
    );
    let reply: Result<(String,), dbus::Error> =
        proxy.method_call("org.freedesktop.DBus", "GetNameOwner", ("org.bluez",));
    reply.ok().map(|(name,)| name)
}
