//! The `[network]` section: how the appliance gets online when a network is there — Ethernet by
//! DHCP (or a fixed address), Wi-Fi client networks with their passphrases, and the time servers.
//!
//! The daemon itself never touches the network: `o4send setup` renders these settings into the
//! files systemd-networkd, wpa_supplicant and systemd-timesyncd read (see `crate::setup`).

use super::Secret;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkConfig {
    /// NTP servers; none means systemd-timesyncd's built-in ones.
    pub ntp: Vec<String>,
    pub ethernet: EthernetConfig,
    pub wifi: WifiConfig,
}

/// The wired port (`eth0`; the Zero 2 W has none).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EthernetConfig {
    /// Ask for an address by DHCP (the default). With `address` set, it is used instead.
    pub dhcp: bool,
    /// A fixed address with its prefix, e.g. `192.168.1.50/24`.
    pub address: Option<String>,
    pub gateway: Option<String>,
    pub dns: Vec<String>,
}

impl Default for EthernetConfig {
    fn default() -> Self {
        EthernetConfig {
            dhcp: true,
            address: None,
            gateway: None,
            dns: Vec::new(),
        }
    }
}

/// The built-in Wi-Fi radio as a client of the operator's networks.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WifiConfig {
    /// ISO 3166 country code: the regulatory domain (channels and power allowed there).
    pub country: Option<String>,
    /// Networks to join, the first one in reach wins (earlier ones preferred).
    pub networks: Vec<WifiNetwork>,
}

/// One Wi-Fi network, WPA2- or WPA3-personal.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WifiNetwork {
    pub ssid: String,
    /// 8 to 63 characters; none for an open network.
    pub passphrase: Option<Secret>,
    /// Instead of the passphrase: the key WPA2 derives from it, 64 hex digits (what Raspberry Pi
    /// Imager writes). WPA2 only: WPA3's SAE needs the passphrase itself.
    pub psk: Option<Secret>,
    /// The network does not announce its name.
    pub hidden: bool,
}
