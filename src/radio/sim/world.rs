//! The hall: the phones, the clock they live by, and what happened to each (connections,
//! objects received). Shared by every simulated radio.

use super::link::Air;
use super::population::{generate, Phone};
use super::radio::SimRadio;
use crate::config::SimConfig;
use crate::model::device::BdAddr;
use crate::obex::Received;
use crate::obex::Transport;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// Timings of the simulated radio link, from what real controllers show.
#[derive(Clone, Debug)]
pub struct LinkModel {
    /// One inquiry (the standard 10.24 s).
    pub inquiry: Duration,
    /// Devices answer within this part of an inquiry.
    pub answer_within: Duration,
    /// Page, SDP lookup and RFCOMM set-up.
    pub connect: Duration,
    /// How long a page to an absent device takes to fail.
    pub page_timeout: Duration,
    /// Payload rate of a normal link, bytes per second.
    pub rate: u64,
    /// Payload rate of a slow link.
    pub slow_rate: u64,
    /// From a frame sent to its delivery, one way: controller, air, host stack and the
    /// phone's OBEX server. A stop-and-wait PUT pays it twice per packet.
    pub latency: Duration,
    /// RFCOMM frame payload (a phone's usual RFCOMM MTU) and the bytes each frame costs on top
    /// (RFCOMM address, control, length, credit, FCS; L2CAP basic header).
    pub rfcomm_frame: usize,
    pub rfcomm_overhead: usize,
    /// L2CAP ERTM I-frame payload (MPS) and its extra bytes (basic header, control, FCS).
    pub ertm_frame: usize,
    pub ertm_overhead: usize,
    /// The L2CAP channel's MTU: one OBEX packet per SDU, so packets are capped at it
    /// (obexd asks for 32767).
    pub l2cap_mtu: u16,
    /// What a refused L2CAP channel costs before RFCOMM is tried.
    pub l2cap_refusal: Duration,
}

impl LinkModel {
    /// The air of one connection over `transport`, at `rate` bytes per second.
    pub fn air(&self, transport: Transport, rate: u64) -> Air {
        let (frame, overhead) = match transport {
            Transport::L2capErtm { .. } => (self.ertm_frame, self.ertm_overhead),
            _ => (self.rfcomm_frame, self.rfcomm_overhead),
        };
        Air {
            rate,
            latency: self.latency,
            frame,
            overhead,
        }
    }

    /// The L2CAP ERTM transport of this model.
    pub fn l2cap(&self) -> Transport {
        Transport::L2capErtm {
            mtu: self.l2cap_mtu,
        }
    }
}

impl Default for LinkModel {
    fn default() -> Self {
        LinkModel {
            inquiry: Duration::from_millis(10_240),
            answer_within: Duration::from_millis(5_000),
            connect: Duration::from_millis(700),
            page_timeout: Duration::from_millis(5_120),
            rate: 120_000,
            slow_rate: 6_000,
            latency: Duration::from_millis(10),
            rfcomm_frame: 990,
            rfcomm_overhead: 10,
            ertm_frame: 1009,
            ertm_overhead: 8,
            l2cap_mtu: 32_767,
            l2cap_refusal: Duration::from_millis(300),
        }
    }
}

#[derive(Default)]
struct PhoneLog {
    connects: u32,
    deliveries: u32,
    /// Kept only when the world keeps inboxes (tests, the demo); not for memory benchmarks.
    received: Vec<Received>,
}

/// The simulated hall.
pub struct World {
    phones: Vec<Phone>,
    by_addr: HashMap<BdAddr, usize>,
    start: Instant,
    pub link: LinkModel,
    log: Mutex<Vec<PhoneLog>>,
    forgotten: Mutex<u64>,
    keep_inboxes: std::sync::atomic::AtomicBool,
    /// Where received objects are also written, one folder per phone (`radio.sim.inbox`).
    inbox: Option<std::path::PathBuf>,
}

impl World {
    /// A hall drawn from the config's seed, starting now.
    pub fn new(cfg: &SimConfig) -> Arc<World> {
        let mut world = World::with_phones(generate(cfg), LinkModel::default());
        if let Some(w) = Arc::get_mut(&mut world) {
            w.inbox = cfg.inbox.clone();
        }
        world
    }

    pub fn with_phones(phones: Vec<Phone>, link: LinkModel) -> Arc<World> {
        let by_addr = phones.iter().map(|p| (p.addr, p.index)).collect();
        let log = Mutex::new(phones.iter().map(|_| PhoneLog::default()).collect());
        Arc::new(World {
            phones,
            by_addr,
            start: Instant::now(),
            link,
            log,
            forgotten: Mutex::new(0),
            keep_inboxes: std::sync::atomic::AtomicBool::new(true),
            inbox: None,
        })
    }

    pub fn radio(self: &Arc<Self>, id: &str) -> SimRadio {
        SimRadio::new(id, self.clone())
    }

    pub fn phones(&self) -> &[Phone] {
        &self.phones
    }

    pub fn phone(&self, addr: BdAddr) -> Option<&Phone> {
        self.by_addr.get(&addr).map(|i| &self.phones[*i])
    }

    /// Time since the hall opened.
    pub fn elapsed(&self) -> Duration {
        Instant::now().duration_since(self.start)
    }

    pub fn start(&self) -> Instant {
        self.start
    }

    /// When the last visitor leaves.
    pub fn closing_time(&self) -> Duration {
        self.phones
            .iter()
            .map(Phone::leaves)
            .max()
            .unwrap_or_default()
    }

    /// How often a connection to this phone was attempted.
    pub fn connects(&self, index: usize) -> u32 {
        self.lock_log()[index].connects
    }

    /// The objects this phone received completely.
    pub fn received(&self, index: usize) -> Vec<(String, Vec<u8>)> {
        self.lock_log()[index]
            .received
            .iter()
            .map(|r| (r.name.clone(), r.body.clone()))
            .collect()
    }

    /// How many objects this phone received completely (kept inbox or not).
    pub fn deliveries(&self, index: usize) -> u32 {
        self.lock_log()[index].deliveries
    }

    /// Phones count what they receive but drop the bytes: the simulator's memory stays out of
    /// the daemon's figures.
    pub fn discard_inboxes(&self) {
        self.keep_inboxes
            .store(false, std::sync::atomic::Ordering::Relaxed);
    }

    /// How many devices the engine told the radios to forget.
    pub fn forgotten(&self) -> u64 {
        *self.forgotten.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn note_connect(&self, index: usize) -> u32 {
        let mut log = self.lock_log();
        log[index].connects += 1;
        log[index].connects
    }

    pub(super) fn note_received(&self, index: usize, objects: Vec<Received>) {
        if let Some(dir) = &self.inbox {
            self.write_inbox(dir, index, &objects);
        }
        let mut log = self.lock_log();
        log[index].deliveries += objects.len() as u32;
        if self.keep_inboxes.load(std::sync::atomic::Ordering::Relaxed) {
            log[index].received.extend(objects);
        }
    }

    /// Writes what phone `index` received into `dir/<address>/` (a test reads it from outside
    /// the daemon's process); a name is reduced to its last component, as a phone would.
    fn write_inbox(&self, dir: &std::path::Path, index: usize, objects: &[Received]) {
        let phone = dir.join(self.phones[index].addr.to_string().replace(':', "-"));
        for o in objects {
            let name = std::path::Path::new(&o.name)
                .file_name()
                .unwrap_or_default();
            let written = std::fs::create_dir_all(&phone)
                .and_then(|()| std::fs::write(phone.join(name), &o.body));
            if let Err(e) = written {
                tracing::warn!("simulated inbox {}: {e}", phone.display());
            }
        }
    }

    pub(super) fn note_forgotten(&self) {
        *self.forgotten.lock().unwrap_or_else(|e| e.into_inner()) += 1;
    }

    fn lock_log(&self) -> std::sync::MutexGuard<'_, Vec<PhoneLog>> {
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }
}
