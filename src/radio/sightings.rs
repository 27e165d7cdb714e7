//! Where discovery delivers what it hears, and how it shows that it is still working: the scan
//! loop's heartbeat travels with the channel, so a backend proves life where it knows it (an
//! inquiry round ended, bluetoothd answered) and an empty hall is not mistaken for a hung radio.
//! Waiting for room in the channel is the engine's slowness, not the radio's, and counts as idle.

use super::Sighting;
use crate::supervise::Heartbeat;
use tokio::sync::mpsc;

/// The receiving end is gone: discovery should end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

#[derive(Clone)]
pub struct Sightings {
    tx: mpsc::Sender<Sighting>,
    alive: Heartbeat,
}

impl Sightings {
    pub fn new(tx: mpsc::Sender<Sighting>, alive: Heartbeat) -> Sightings {
        Sightings { tx, alive }
    }

    /// Delivers one result (waiting while the engine is busy).
    pub async fn send(&self, sighting: Sighting) -> Result<(), Closed> {
        self.alive.idle();
        let sent = self.tx.send(sighting).await.map_err(|_| Closed);
        self.alive.beat();
        sent
    }

    /// Discovery is working: a round ended, the stack answered.
    pub fn alive(&self) {
        self.alive.beat();
    }

    /// Discovery is paused on purpose (the radio pages a phone); alive until the next beat.
    pub fn paused(&self) {
        self.alive.idle();
    }

    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}
