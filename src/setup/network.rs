//! The `[network]` settings as the files systemd-networkd, wpa_supplicant and systemd-timesyncd
//! read from `/run`: Ethernet by DHCP unless a fixed address is given, Wi-Fi only when the
//! operator named networks, time servers only when given. A setting taken out of the boot file
//! takes its file away on the next boot or reload. With `[hotspot]` on, wlan0 serves visitors
//! instead, or beside the client where the radio allows both (`crate::hotspot` renders
//! hostapd's, dnsmasq's and the firewall's files, `crate::hotspot::share` decides).

use super::SystemFiles;
use crate::config::{EthernetConfig, NetworkConfig, WifiConfig, WifiNetwork};
use crate::hotspot;
use ct_codecs::Encoder;
use std::fmt::Write;

pub const ETHERNET: &str = "run/systemd/network/50-o4send-ethernet.network";
pub const WIFI: &str = "run/systemd/network/50-o4send-wlan0.network";
pub const WPA_SUPPLICANT: &str = "run/o4send/wpa_supplicant-wlan0.conf";
pub const TIMESYNCD: &str = "run/systemd/timesyncd.conf.d/50-o4send.conf";

/// The network's files: the visitors' access point when `hotspot` is given, and the Wi-Fi
/// client when `client` (both where the radio allows, `crate::hotspot::share::plan`).
pub fn write(
    files: &SystemFiles,
    net: &NetworkConfig,
    hotspot: Option<&hotspot::Rendered>,
    client: bool,
) -> Result<(), String> {
    files.write_or_remove(ETHERNET, Some(&ethernet(&net.ethernet)), 0o644)?;
    let wifi_on = client && !net.wifi.networks.is_empty();
    let wlan = wifi_on.then_some("[Match]\nName=wlan0\n\n[Network]\nDHCP=yes\nMulticastDNS=yes\n");
    files.write_or_remove(WIFI, wlan, 0o644)?;
    files.write_or_remove(hotspot::NETWORK, hotspot.map(|h| h.network.as_str()), 0o644)?;
    let wpa = wifi_on.then(|| wpa_supplicant(&net.wifi));
    files.write_or_remove(WPA_SUPPLICANT, wpa.as_deref(), 0o600)?;
    files.write_or_remove(hotspot::HOSTAPD, hotspot.map(|h| h.hostapd.as_str()), 0o644)?;
    files.write_or_remove(hotspot::DNSMASQ, hotspot.map(|h| h.dnsmasq.as_str()), 0o644)?;
    files.write_or_remove(
        hotspot::FIREWALL,
        hotspot.map(|h| h.firewall.as_str()),
        0o644,
    )?;
    let ntp = (!net.ntp.is_empty()).then(|| format!("[Time]\nNTP={}\n", net.ntp.join(" ")));
    files.write_or_remove(TIMESYNCD, ntp.as_deref(), 0o644)
}

/// Every wired port (eth0, or end0 where systemd names the Pi's port by its device tree),
/// answering for `<name>.local`.
pub fn ethernet(e: &EthernetConfig) -> String {
    let mut s = String::from("[Match]\nType=ether\nName=eth* en*\n\n[Network]\nMulticastDNS=yes\n");
    match &e.address {
        Some(addr) => {
            let _ = writeln!(s, "Address={addr}");
            if let Some(g) = &e.gateway {
                let _ = writeln!(s, "Gateway={g}");
            }
        }
        None if e.dhcp => s.push_str("DHCP=yes\n"),
        None => s.push_str("LinkLocalAddressing=yes\n"),
    }
    for d in &e.dns {
        let _ = writeln!(s, "DNS={d}");
    }
    s
}

/// wpa_supplicant's file: the country, and each network WPA2/WPA3-personal (or open), the
/// first one preferred. Nothing the operator typed is written as text: the SSID in hex, the
/// passphrase as the PMK WPA2 derives from it (`psk`, 64 hex digits) and, for WPA3's SAE, as
/// hex bytes (`sae_password`), so no quote, `#` or backslash in it is ever parsed.
pub fn wpa_supplicant(w: &WifiConfig) -> String {
    let mut s = String::from(
        "# Written by `o4send setup` from [network.wifi] in the boot partition's o4send.toml.\n\
         ctrl_interface=DIR=/run/wpa_supplicant GROUP=o4send\nupdate_config=0\n",
    );
    if let Some(c) = &w.country {
        let _ = writeln!(s, "country={c}");
    }
    let count = w.networks.len();
    for (i, net) in w.networks.iter().enumerate() {
        s.push_str(&network_block(net, count - i));
    }
    s
}

fn network_block(net: &WifiNetwork, priority: usize) -> String {
    let ssid = hex(net.ssid.as_bytes());
    let mut s = format!("\nnetwork={{\n\tssid={ssid}\n\tpriority={priority}\n");
    if net.hidden {
        s.push_str("\tscan_ssid=1\n");
    }
    match (&net.passphrase, &net.psk) {
        (_, Some(k)) => {
            let _ = write!(
                s,
                "\tkey_mgmt=WPA-PSK WPA-PSK-SHA256\n\tieee80211w=1\n\tpsk={}\n",
                k.expose().to_ascii_lowercase()
            );
        }
        (Some(p), None) => {
            let pass = p.expose().as_bytes();
            let _ = write!(
                s,
                "\tkey_mgmt=WPA-PSK WPA-PSK-SHA256 SAE\n\tieee80211w=1\n\tpsk={}\n\tsae_password={}\n",
                hex(&pmk(pass, net.ssid.as_bytes())),
                hex(pass)
            );
        }
        (None, None) => s.push_str("\tkey_mgmt=NONE\n"),
    }
    s.push_str("}\n");
    s
}

/// WPA2-personal's pairwise master key: PBKDF2-HMAC-SHA1 of the passphrase, salted with the
/// SSID, 4 096 rounds (IEEE 802.11i; what `wpa_passphrase` prints).
pub fn pmk(passphrase: &[u8], ssid: &[u8]) -> [u8; 32] {
    let mut key = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha1::Sha1>(passphrase, ssid, 4096, &mut key);
    key
}

/// Lower-case hex, as wpa_supplicant reads a name or a key.
pub(crate) fn hex(bytes: &[u8]) -> String {
    ct_codecs::Hex::encode_to_string(bytes).expect("hex of a short value fits in memory")
}
