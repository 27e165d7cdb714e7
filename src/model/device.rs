//! Who a radio saw: the Bluetooth address, the class of device and the name.
//!
//! These types cross every boundary (radio → policy → store), so they live apart from all of
//! them. Names come from strangers' phones: they may hold any UTF-8, control characters or text
//! that looks like SQL, and are kept as they arrived (bounded to the 248 bytes Bluetooth allows);
//! [`printable`] is what goes to a terminal or a log line.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A BR/EDR device address, most significant byte first (as printed: `AA:BB:CC:DD:EE:FF`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct BdAddr(pub [u8; 6]);

impl fmt::Display for BdAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02X}:{:02X}:{:02X}:{:02X}:{:02X}:{:02X}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl fmt::Debug for BdAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for BdAddr {
    type Err = String;
    /// Accepts `AA:BB:CC:DD:EE:FF` or `aa-bb-cc-dd-ee-ff`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{s:?} is not a Bluetooth address (expected AA:BB:CC:DD:EE:FF)");
        let parts: Vec<&str> = s.trim().split([':', '-']).collect();
        if parts.len() != 6 {
            return Err(bad());
        }
        let mut out = [0u8; 6];
        for (slot, part) in out.iter_mut().zip(parts) {
            if part.len() != 2 {
                return Err(bad());
            }
            *slot = u8::from_str_radix(part, 16).map_err(|_| bad())?;
        }
        Ok(BdAddr(out))
    }
}

impl Serialize for BdAddr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for BdAddr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The 24-bit Class of Device a phone announces in inquiry results.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct ClassOfDevice(pub u32);

impl ClassOfDevice {
    /// The major device class (bits 8..=12).
    pub fn major(self) -> MajorClass {
        MajorClass::from_bits((self.0 >> 8) & 0x1F)
    }
}

/// Major device classes from the Bluetooth Assigned Numbers, as named in the config.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MajorClass {
    Miscellaneous,
    Computer,
    Phone,
    Network,
    AudioVideo,
    Peripheral,
    Imaging,
    Wearable,
    Toy,
    Health,
    Uncategorized,
}

impl MajorClass {
    pub const ALL: [MajorClass; 11] = [
        MajorClass::Miscellaneous,
        MajorClass::Computer,
        MajorClass::Phone,
        MajorClass::Network,
        MajorClass::AudioVideo,
        MajorClass::Peripheral,
        MajorClass::Imaging,
        MajorClass::Wearable,
        MajorClass::Toy,
        MajorClass::Health,
        MajorClass::Uncategorized,
    ];

    fn from_bits(bits: u32) -> MajorClass {
        match bits {
            0 => MajorClass::Miscellaneous,
            1 => MajorClass::Computer,
            2 => MajorClass::Phone,
            3 => MajorClass::Network,
            4 => MajorClass::AudioVideo,
            5 => MajorClass::Peripheral,
            6 => MajorClass::Imaging,
            7 => MajorClass::Wearable,
            8 => MajorClass::Toy,
            9 => MajorClass::Health,
            _ => MajorClass::Uncategorized,
        }
    }

    /// The Class of Device bits of this major class (minor class 0).
    pub fn to_cod(self) -> ClassOfDevice {
        let bits = match self {
            MajorClass::Uncategorized => 31,
            other => MajorClass::ALL
                .iter()
                .position(|c| *c == other)
                .unwrap_or(0) as u32,
        };
        ClassOfDevice(bits << 8)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MajorClass::Miscellaneous => "miscellaneous",
            MajorClass::Computer => "computer",
            MajorClass::Phone => "phone",
            MajorClass::Network => "network",
            MajorClass::AudioVideo => "audio_video",
            MajorClass::Peripheral => "peripheral",
            MajorClass::Imaging => "imaging",
            MajorClass::Wearable => "wearable",
            MajorClass::Toy => "toy",
            MajorClass::Health => "health",
            MajorClass::Uncategorized => "uncategorized",
        }
    }
}

/// The longest name Bluetooth carries (Core spec: 248 bytes of UTF-8).
pub const NAME_MAX: usize = 248;

/// A device name, kept inline: no allocation per sighting.
pub type DeviceName = heapless::String<NAME_MAX>;

/// Builds a [`DeviceName`], cutting at a character boundary when the input is too long.
pub fn device_name(s: &str) -> DeviceName {
    let mut end = s.len().min(NAME_MAX);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let mut name = DeviceName::new();
    // Cannot fail: `end` bytes fit by construction.
    let _ = name.push_str(&s[..end]);
    name
}

/// A name made safe for one line of a terminal or a log: control characters become `�`.
pub fn printable(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_round_trips_and_rejects_garbage() {
        let a: BdAddr = "00:1a:7D:da:71:13".parse().unwrap();
        assert_eq!(a.to_string(), "00:1A:7D:DA:71:13");
        assert_eq!("00-1A-7D-DA-71-13".parse::<BdAddr>().unwrap(), a);
        for bad in [
            "",
            "00:1A:7D:DA:71",
            "00:1A:7D:DA:71:1G",
            "001A7DDA7113",
            "0:1A:7D:DA:71:13",
        ] {
            let err = bad.parse::<BdAddr>().unwrap_err();
            assert!(err.contains("not a Bluetooth address"), "{err}");
        }
    }

    #[test]
    fn class_of_device_major() {
        assert_eq!(ClassOfDevice(0x5A020C).major(), MajorClass::Phone);
        assert_eq!(ClassOfDevice(0x7A010C).major(), MajorClass::Computer);
        assert_eq!(ClassOfDevice(0x240404).major(), MajorClass::AudioVideo);
        for c in MajorClass::ALL {
            assert_eq!(c.to_cod().major(), c);
        }
    }

    #[test]
    fn names_are_bounded_and_printable() {
        let long = "é".repeat(200);
        let n = device_name(&long);
        assert!(n.len() <= NAME_MAX);
        assert!(long.starts_with(n.as_str()));
        assert_eq!(printable("a\u{7}b\nc"), "a\u{FFFD}b\u{FFFD}c");
    }
}
