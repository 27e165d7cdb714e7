//! The simulated visitors: who comes, when, for how long, with what phone and what answer.
//! Drawn from a seed, so a run can be repeated exactly and its outcome checked against this
//! ground truth. Names include what real halls produce: non-ASCII, emoji, control characters,
//! text that looks like SQL, empty names and names longer than Bluetooth allows.

use super::rng::{mix, Rng};
use crate::config::{BehaviourMix, SimConfig};
use crate::model::device::{BdAddr, ClassOfDevice};
use std::collections::HashSet;
use std::time::Duration;

/// What a phone (or its user) does when offered a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// The user accepts after this long.
    Accept { decide: Duration },
    /// The user declines after this long (0xC3).
    Decline { decide: Duration },
    /// Nobody answers the prompt; the phone stays silent.
    Ignore,
    /// Android's own prompt expires after 50 s and it answers 0xC3.
    PromptExpires,
    /// No Object Push record (iPhones, headsets).
    NoOpp,
    /// The RFCOMM connection is refused (how Nokias decline).
    RefuseConnection,
    /// Accepts, but the link drops half-way the first time; accepts fully the next time.
    DropMidTransfer { decide: Duration },
    /// Only takes images: answers 0xCF to anything else.
    RefuseType,
    /// Accepts over a slow link.
    SlowLink { decide: Duration },
    /// Heard in inquiry, but too far away to page.
    OutOfRange,
}

impl Behaviour {
    pub fn name(&self) -> &'static str {
        match self {
            Behaviour::Accept { .. } => "accept",
            Behaviour::Decline { .. } => "decline",
            Behaviour::Ignore => "ignore",
            Behaviour::PromptExpires => "prompt_expires",
            Behaviour::NoOpp => "no_opp",
            Behaviour::RefuseConnection => "refuse_connection",
            Behaviour::DropMidTransfer { .. } => "drop_mid_transfer",
            Behaviour::RefuseType => "refuse_type",
            Behaviour::SlowLink { .. } => "slow_link",
            Behaviour::OutOfRange => "out_of_range",
        }
    }
}

/// One visitor's phone.
#[derive(Clone, Debug)]
pub struct Phone {
    pub index: usize,
    pub addr: BdAddr,
    pub name: String,
    pub class: ClassOfDevice,
    pub rssi: i16,
    pub arrive: Duration,
    pub dwell: Duration,
    pub behaviour: Behaviour,
}

/// Whether a phone's OPP record offers an L2CAP PSM (GOEP 2.0), and what happens then.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GoepL2cap {
    /// RFCOMM only (older phones, feature phones).
    NotOffered,
    /// Offered and connectable: OBEX over L2CAP ERTM with Single Response Mode.
    Offered,
    /// Offered, but the L2CAP channel is refused: RFCOMM after all.
    Refused,
}

impl Phone {
    /// Drawn from the phone's index apart from the seeded stream, so that halls drawn before
    /// GOEP 2.0 was modelled stay the same: 7 in 10 offer L2CAP, 1 in 10 offers and refuses it.
    pub fn l2cap(&self) -> GoepL2cap {
        match mix(self.index as u64, 0x006C_3263_6170) % 10 {
            0..=6 => GoepL2cap::Offered,
            7 => GoepL2cap::Refused,
            _ => GoepL2cap::NotOffered,
        }
    }

    pub fn present_at(&self, t: Duration) -> bool {
        self.arrive <= t && t < self.arrive + self.dwell
    }
    pub fn leaves(&self) -> Duration {
        self.arrive + self.dwell
    }
}

const NAMES: &[&str] = &[
    "Galaxy S24",
    "Pixel 9",
    "Jürgen's Handy",
    "李的手机",
    "Zoë 📱",
    "Robert'); DROP TABLE devices;--",
    "bell\u{7}\u{1b}[31mred",
    "",
    "iPhone",
    "<b>Nokia</b> <script>alert(1)</script>",
    "Xperia\ttab",
    "موبايل",
    "%s%s%n",
    "OnePlus 12",
    "Galaxy A54",
    "Redmi Note 13",
    "moto g84 5G",
    "[TV] Samsung Q80",
    "DESKTOP-7Q2K9LM",
    "Galaxy S23 FE",
];

/// Classes of device and their weights: mostly smartphones.
const CLASSES: &[(u32, u32)] = &[
    (0x5A020C, 86),
    (0x7A010C, 6),
    (0x240404, 4),
    (0x000704, 2),
    (0x001F00, 2),
];

/// Draws `cfg.phones` phones from `cfg.seed`.
pub fn generate(cfg: &SimConfig) -> Vec<Phone> {
    let mut rng = Rng::new(cfg.seed);
    let mut seen = HashSet::new();
    (0..cfg.phones)
        .map(|index| draw(index, cfg, &mut rng, &mut seen))
        .collect()
}

fn draw(index: usize, cfg: &SimConfig, rng: &mut Rng, seen: &mut HashSet<BdAddr>) -> Phone {
    let addr = unique_addr(rng, seen);
    let class_weights: Vec<u32> = CLASSES.iter().map(|c| c.1).collect();
    let class = ClassOfDevice(CLASSES[rng.weighted(&class_weights)].0);
    let name = match rng.range(0, 20) {
        0 => "x".repeat(300),
        n => format!("{} {index}", NAMES[n as usize % NAMES.len()])
            .trim_start()
            .to_string(),
    };
    let rssi = if rng.chance(6) {
        -(rng.range(88, 95) as i16)
    } else {
        -(rng.range(40, 80) as i16)
    };
    let arrive = Duration::from_millis(rng.range(0, cfg.arrival_window_secs * 1000));
    let dwell =
        Duration::from_millis(rng.range(cfg.dwell_min_secs * 1000, cfg.dwell_max_secs * 1000));
    let behaviour = behaviour(&cfg.mix, rng);
    Phone {
        index,
        addr,
        name,
        class,
        rssi,
        arrive,
        dwell,
        behaviour,
    }
}

fn unique_addr(rng: &mut Rng, seen: &mut HashSet<BdAddr>) -> BdAddr {
    loop {
        let b = rng.next_u64().to_be_bytes();
        let addr = BdAddr([b[2], b[3], b[4], b[5], b[6], b[7]]);
        if seen.insert(addr) {
            return addr;
        }
    }
}

fn behaviour(mix: &BehaviourMix, rng: &mut Rng) -> Behaviour {
    let decide = Duration::from_millis(rng.range(2_000, 50_000));
    match rng.weighted(&mix.weights()) {
        0 => Behaviour::Accept { decide },
        1 => Behaviour::Decline {
            decide: Duration::from_millis(rng.range(2_000, 30_000)),
        },
        2 => Behaviour::Ignore,
        3 => Behaviour::PromptExpires,
        4 => Behaviour::NoOpp,
        5 => Behaviour::RefuseConnection,
        6 => Behaviour::DropMidTransfer { decide },
        7 => Behaviour::RefuseType,
        8 => Behaviour::SlowLink { decide },
        _ => Behaviour::OutOfRange,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_hall() {
        let cfg = SimConfig {
            phones: 300,
            seed: 7,
            ..Default::default()
        };
        let a = generate(&cfg);
        let b = generate(&cfg);
        assert_eq!(a.len(), 300);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(
                (x.addr, &x.name, x.behaviour, x.arrive),
                (y.addr, &y.name, y.behaviour, y.arrive)
            );
        }
        let other = generate(&SimConfig { seed: 8, ..cfg });
        assert_ne!(a[0].addr, other[0].addr);
        let kinds: HashSet<&str> = a.iter().map(|p| p.behaviour.name()).collect();
        assert_eq!(kinds.len(), 10, "every behaviour appears in 300 phones");
        assert!(a.iter().any(|p| p.name.len() > 248));
        assert!(a.iter().any(|p| p.name.chars().any(char::is_control)));
    }
}
