//! The boot state: which root slot U-Boot tries first and how many tries each slot has left.
//!
//! It exists because the Pi's own one-shot `tryboot` cannot be asked for from Debian's kernel, so
//! the slot is chosen by U-Boot's script (`board/common/boot/boot.cmd`), and that script and the
//! running system must read and write one shared record. The record is a U-Boot environment
//! (`env export -c` format: a CRC-32 of the data area, then `key=value` strings, each ended by a
//! NUL, zero-padded to [`SIZE`] bytes) holding `BOOT_ORDER` ("A B"), `BOOT_A_LEFT` and
//! `BOOT_B_LEFT`: the same variables and meanings as RAUC's `uboot` backend, which this module
//! stands in for (RAUC calls `o4send bootstate` as its `custom` backend).
//!
//! It lives twice on the boot disk, in raw sectors between the partition table and the first
//! partition ([`COPIES`]), never in a file system: U-Boot writes it on every boot, and a power cut
//! while it writes can tear one sector run, not a FAT. Both writers write copy 1, then copy 2;
//! both readers take copy 1 if its CRC holds, else copy 2, else the state of a fresh card (slot A
//! only, [`TRIES`] tries): an empty slot B is never tried until an install put it in the order.

use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// Bytes of one copy (32 sectors).
pub const SIZE: usize = 0x4000;
/// Byte offsets of the two copies on the boot disk: 1 MiB and 1 MiB + 16 KiB, inside the gap
/// that the image leaves before its first partition (at 4 MiB).
pub const COPIES: [u64; 2] = [0x10_0000, 0x10_4000];
/// Tries a slot gets when it is installed or marked good.
pub const TRIES: u8 = 3;

/// A root slot, by the name RAUC and the boot script use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    A,
    B,
}

impl Slot {
    pub fn parse(s: &str) -> Option<Slot> {
        match s {
            "A" => Some(Slot::A),
            "B" => Some(Slot::B),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Slot::A => "A",
            Slot::B => "B",
        }
    }

    /// The other slot.
    pub fn other(self) -> Slot {
        match self {
            Slot::A => Slot::B,
            Slot::B => Slot::A,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The order in which U-Boot tries the slots and the tries each has left.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootState {
    pub order: Vec<Slot>,
    pub left: [u8; 2],
}

impl Default for BootState {
    /// A fresh card: slot A only, with all its tries.
    fn default() -> Self {
        BootState {
            order: vec![Slot::A],
            left: [TRIES, 0],
        }
    }
}

/// Why one copy of the state could not be used.
#[derive(Debug, PartialEq, Eq)]
pub enum StateError {
    Crc { stored: u32, computed: u32 },
    Missing(&'static str),
    Bad { key: &'static str, value: String },
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateError::Crc { stored, computed } => write!(
                f,
                "CRC {stored:08x} does not match its data ({computed:08x}): never written, or torn"
            ),
            StateError::Missing(key) => write!(f, "no {key}"),
            StateError::Bad { key, value } => write!(f, "{key}={value:?} is not valid"),
        }
    }
}

impl BootState {
    pub fn left(&self, slot: Slot) -> u8 {
        self.left[slot.index()]
    }

    fn set_left(&mut self, slot: Slot, tries: u8) {
        self.left[slot.index()] = tries;
    }

    /// The slot U-Boot boots next: the first in the order with tries left (`get-primary`).
    pub fn primary(&self) -> Option<Slot> {
        self.order.iter().copied().find(|s| self.left(*s) > 0)
    }

    /// Makes `slot` the one tried first, with all its tries (`set-primary`, after an install).
    pub fn set_primary(&mut self, slot: Slot) {
        self.order.retain(|s| *s != slot);
        self.order.insert(0, slot);
        self.set_left(slot, TRIES);
    }

    /// Good: in the order with tries left (`get-state`).
    pub fn is_good(&self, slot: Slot) -> bool {
        self.order.contains(&slot) && self.left(slot) > 0
    }

    /// `set-state`: good gives the slot all its tries back; bad takes it out of the order.
    pub fn set_good(&mut self, slot: Slot, good: bool) {
        if good {
            if !self.order.contains(&slot) {
                self.order.push(slot);
            }
            self.set_left(slot, TRIES);
        } else {
            self.order.retain(|s| *s != slot);
            self.set_left(slot, 0);
        }
    }

    /// The record as U-Boot's `env export -c -s 0x4000` writes it.
    pub fn encode(&self) -> Vec<u8> {
        let order: Vec<&str> = self.order.iter().map(|s| s.name()).collect();
        let text = format!(
            "BOOT_A_LEFT={}\0BOOT_B_LEFT={}\0BOOT_ORDER={}\0",
            self.left[0],
            self.left[1],
            order.join(" ")
        );
        let mut block = vec![0u8; SIZE];
        block[4..4 + text.len()].copy_from_slice(text.as_bytes());
        let crc = crc32fast::hash(&block[4..]);
        block[..4].copy_from_slice(&crc.to_le_bytes());
        block
    }

    /// One copy, checked: its CRC, then each variable.
    pub fn decode(block: &[u8]) -> Result<BootState, StateError> {
        let stored = u32::from_le_bytes(block[..4].try_into().expect("4 bytes"));
        let computed = crc32fast::hash(&block[4..]);
        if stored != computed {
            return Err(StateError::Crc { stored, computed });
        }
        let vars = variables(&block[4..]);
        let get = |key: &'static str| {
            vars.iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone())
                .ok_or(StateError::Missing(key))
        };
        let order_text = get("BOOT_ORDER")?;
        let mut order = Vec::new();
        for word in order_text.split_whitespace() {
            match Slot::parse(word) {
                Some(slot) if !order.contains(&slot) => order.push(slot),
                _ => return Err(bad("BOOT_ORDER", &order_text)),
            }
        }
        Ok(BootState {
            order,
            left: [
                tries(&get("BOOT_A_LEFT")?, "BOOT_A_LEFT")?,
                tries(&get("BOOT_B_LEFT")?, "BOOT_B_LEFT")?,
            ],
        })
    }
}

fn bad(key: &'static str, value: &str) -> StateError {
    StateError::Bad {
        key,
        value: value.to_string(),
    }
}

fn tries(value: &str, key: &'static str) -> Result<u8, StateError> {
    value.parse().map_err(|_| bad(key, value))
}

/// The `key=value` strings of a data area, up to the first empty one.
fn variables(data: &[u8]) -> Vec<(String, String)> {
    data.split(|b| *b == 0)
        .take_while(|entry| !entry.is_empty())
        .filter_map(|entry| {
            let text = String::from_utf8_lossy(entry);
            let (k, v) = text.split_once('=')?;
            Some((k.to_string(), v.to_string()))
        })
        .collect()
}

/// What reading the disk found: the state, and which copy it came from (`None`: neither copy
/// held, so the fresh card's state), with why each copy before it was passed over.
#[derive(Debug)]
pub struct Found {
    pub state: BootState,
    pub copy: Option<usize>,
    pub passed_over: Vec<String>,
}

/// Reads the state from `disk` (the whole boot disk, or an image of it), as the boot script does.
pub fn read(disk: &Path) -> io::Result<Found> {
    let mut file = File::open(disk)?;
    let mut passed_over = Vec::new();
    for (n, offset) in COPIES.iter().enumerate() {
        let mut block = vec![0u8; SIZE];
        file.seek(SeekFrom::Start(*offset))?;
        file.read_exact(&mut block)?;
        match BootState::decode(&block) {
            Ok(state) => {
                return Ok(Found {
                    state,
                    copy: Some(n + 1),
                    passed_over,
                })
            }
            Err(e) => passed_over.push(format!("copy {}: {e}", n + 1)),
        }
    }
    Ok(Found {
        state: BootState::default(),
        copy: None,
        passed_over,
    })
}

/// Writes both copies to `disk`, copy 1 first, each flushed to the device before the next.
pub fn write(disk: &Path, state: &BootState) -> io::Result<()> {
    let block = state.encode();
    let mut file = std::fs::OpenOptions::new().write(true).open(disk)?;
    for offset in COPIES {
        file.seek(SeekFrom::Start(offset))?;
        file.write_all(&block)?;
        file.sync_data()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_card_boots_a_only() {
        let s = BootState::default();
        assert_eq!(s.primary(), Some(Slot::A));
        assert!(!s.is_good(Slot::B));
    }

    #[test]
    fn an_install_then_a_fall_back() {
        let mut s = BootState::default();
        s.set_primary(Slot::B);
        assert_eq!(s.order, vec![Slot::B, Slot::A]);
        assert_eq!(s.primary(), Some(Slot::B));
        s.left = [TRIES, 0]; // B used its tries up
        assert_eq!(s.primary(), Some(Slot::A));
        s.set_good(Slot::B, false);
        assert_eq!(s.order, vec![Slot::A]);
    }

    #[test]
    fn encode_then_decode() {
        let mut s = BootState::default();
        s.set_primary(Slot::B);
        s.left[0] = 1;
        assert_eq!(BootState::decode(&s.encode()), Ok(s));
    }

    #[test]
    fn a_torn_copy_is_named() {
        let mut block = BootState::default().encode();
        block[100] = 0x55;
        assert!(matches!(
            BootState::decode(&block),
            Err(StateError::Crc { .. })
        ));
        let zero = vec![0u8; SIZE];
        assert!(BootState::decode(&zero).is_err());
    }

    /// A block holding these variables, with a good CRC.
    fn block(vars: &[&str]) -> Vec<u8> {
        let text = vars.join("\0") + "\0";
        let mut block = vec![0u8; SIZE];
        block[4..4 + text.len()].copy_from_slice(text.as_bytes());
        let crc = crc32fast::hash(&block[4..]);
        block[..4].copy_from_slice(&crc.to_le_bytes());
        block
    }

    #[test]
    fn nonsense_values_are_refused() {
        let good = block(&["BOOT_A_LEFT=3", "BOOT_B_LEFT=0", "BOOT_ORDER=A"]);
        assert_eq!(BootState::decode(&good), Ok(BootState::default()));
        for vars in [
            ["BOOT_A_LEFT=3", "BOOT_B_LEFT=0", "BOOT_ORDER=A C"],
            ["BOOT_A_LEFT=3", "BOOT_B_LEFT=0", "BOOT_ORDER=A A"],
            ["BOOT_A_LEFT=-1", "BOOT_B_LEFT=0", "BOOT_ORDER=A"],
        ] {
            let got = BootState::decode(&block(&vars));
            assert!(
                matches!(got, Err(StateError::Bad { .. })),
                "{vars:?}: {got:?}"
            );
        }
        let missing = BootState::decode(&block(&["BOOT_A_LEFT=3", "BOOT_ORDER=A"]));
        assert_eq!(missing, Err(StateError::Missing("BOOT_B_LEFT")));
    }
}
