//! The access point on the radio the box has, decided when hostapd starts (the radio is known
//! then: `o4send setup` runs before the Wi-Fi chip's driver is up, in a sandbox without it).
//! With the hall's Wi-Fi in the settings too, the client keeps wlan0 and the access point gets
//! its own interface, [`AP`], on the same radio where the radio allows both at once
//! (`radio::Radio::ap_with_client`; hostapd's unit skips starting where it does not,
//! [`check`]). A radio with one channel (every Pi's) serves both on the hall's channel, whatever
//! `[hotspot]` asked for; alone, `band = "auto"` takes 5 GHz where the radio has it
//! ([`prepare`]). The banner and `o4send status` say what was decided ([`LINE`]).

use crate::setup::write_atomic;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// The access point's interface beside the client on wlan0.
pub const AP: &str = "ap0";
/// The client's interface.
pub const CLIENT: &str = "wlan0";
/// One line on where the hotspot runs, for the banner and `o4send status`, under the root.
pub const LINE: &str = "run/o4send/hotspot-line";
/// How long [`prepare`] waits for the client to join before the access point starts on its
/// own channel.
const JOIN_WAIT: Duration = Duration::from_secs(40);
/// The comment in hostapd's file that keeps the settings' channel once [`prepare`] moved it.
const ASKED: &str = "#settings_channel";
/// The comment in hostapd's file that lets [`prepare`] choose the band (`band = "auto"`, no
/// channel): written by `o4send setup` (`hotspot::render`).
pub const AUTO_BAND: &str = "#auto_band=1";

/// What the one radio does, as `o4send setup` decides it.
#[derive(Debug, PartialEq, Eq)]
pub struct Plan {
    /// The access point's interface; None: no hotspot.
    pub ap: Option<&'static str>,
    /// Whether wlan0 joins the networks in the settings.
    pub client: bool,
    /// What the banner and `o4send status` say about it.
    pub line: Option<String>,
}

/// The plan for a hotspot on or off and the first network to join, if any: both where the
/// radio allows, which [`check`] asks when hostapd is about to start.
pub fn plan(hotspot: bool, network: Option<&str>) -> Plan {
    match (hotspot, network) {
        (false, n) => Plan {
            ap: None,
            client: n.is_some(),
            line: None,
        },
        (true, None) => Plan {
            ap: Some(CLIENT),
            client: false,
            line: None,
        },
        (true, Some(_)) => Plan {
            ap: Some(AP),
            client: true,
            line: Some(waiting_line()),
        },
    }
}

/// The line `o4send setup` or [`prepare`] last wrote, if any.
pub fn line(root: &Path) -> Option<String> {
    let text = std::fs::read_to_string(root.join(LINE)).ok()?;
    Some(text.trim_end().to_string()).filter(|l| !l.is_empty())
}

/// The line when the settings ask for both and the radio cannot.
pub fn refused_line() -> String {
    "hotspot: off: this radio cannot be an access point beside the Wi-Fi client (iw phy lists no \
     such combination); take [[network.wifi.networks]] out of o4send.toml (the cable is then the \
     uplink) or turn the hotspot off"
        .into()
}

/// Before hostapd starts (its unit's `ExecCondition`): whether the radio can do what hostapd's
/// file asks. Beside the client it must allow an access point and a client at once; when it
/// cannot, says so on [`LINE`] and the hotspot stays off (the client keeps the radio).
pub fn check(root: &Path) -> Result<(), String> {
    let conf = read_conf(root)?;
    if !beside_client(&conf) || super::radio::Radio::ask().ap_with_client.is_some() {
        return Ok(());
    }
    let line = refused_line();
    write_line(root, &line)?;
    Err(line)
}

/// Setup's line when both will run, until [`prepare`] knows the channel.
pub fn waiting_line() -> String {
    "hotspot: beside the Wi-Fi client, on the channel of the network it joins".into()
}

/// Before hostapd starts (as root): beside the client, makes [`AP`] on wlan0's radio, waits for
/// the client to join and moves the access point onto its channel; alone with `band = "auto"`,
/// takes 5 GHz where the radio has it. Returns the line it wrote, if any.
pub fn prepare(root: &Path) -> Result<Option<String>, String> {
    let conf_path = root.join(super::HOSTAPD);
    let conf = read_conf(root)?;
    if !beside_client(&conf) {
        if conf.lines().any(|l| l == AUTO_BAND) && super::radio::Radio::ask().has_5ghz {
            let text = on_channel(&conf, 36, setting(&conf, "channel").unwrap_or(1));
            write_atomic(&conf_path, text.as_bytes(), 0o644, None)?;
        }
        return Ok(None);
    }
    if !root.join("sys/class/net").join(AP).exists() {
        add_interface(root)?;
    }
    let asked = setting(&conf, ASKED)
        .or(setting(&conf, "channel"))
        .unwrap_or(0);
    let line = match wait_for_join(JOIN_WAIT) {
        Some(mhz) => {
            let channel = channel_of(mhz)
                .ok_or(format!("the client is on {mhz} MHz, not a Wi-Fi channel"))?;
            let text = on_channel(&conf, channel, asked);
            write_atomic(&conf_path, text.as_bytes(), 0o644, None)?;
            joined_line(channel, mhz, asked)
        }
        None => format!(
            "hotspot: channel {asked} as set; the Wi-Fi client has not joined its network, and \
             while the hotspot runs it can join only on channel {asked}"
        ),
    };
    write_line(root, &line)?;
    Ok(Some(line))
}

fn write_line(root: &Path, line: &str) -> Result<(), String> {
    write_atomic(
        &root.join(LINE),
        format!("{line}\n").as_bytes(),
        0o644,
        None,
    )
}

fn read_conf(root: &Path) -> Result<String, String> {
    let path = root.join(super::HOSTAPD);
    std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Whether hostapd's file puts the access point on [`AP`], beside the client.
fn beside_client(conf: &str) -> bool {
    conf.lines().any(|l| l == format!("interface={AP}"))
}

/// The line once the client joined on `channel` (`mhz`), the operator having asked for `asked`.
pub fn joined_line(channel: u8, mhz: u32, asked: u8) -> String {
    let mut s = format!("hotspot: channel {channel} ({mhz} MHz), the Wi-Fi network's: the radio serves both on one channel");
    if asked != channel {
        s.push_str(&format!(" (channel {asked} from the settings is not used)"));
    }
    s
}

/// hostapd's file with the access point on `channel` and its band, the settings' channel
/// `asked` kept in a comment (a restarted hostapd is moved again from the same file).
pub fn on_channel(conf: &str, channel: u8, asked: u8) -> String {
    let mode = if channel > 14 { "a" } else { "g" };
    let kept = conf.lines().filter(|l| !l.starts_with(ASKED));
    kept.map(|l| {
        if l.starts_with("channel=") {
            format!("channel={channel}")
        } else if l.starts_with("hw_mode=") {
            format!("hw_mode={mode}")
        } else {
            l.to_string()
        }
    })
    .chain([format!("{ASKED}={asked}")])
    .collect::<Vec<_>>()
    .join("\n")
        + "\n"
}

/// The channel number of a Wi-Fi frequency.
pub fn channel_of(mhz: u32) -> Option<u8> {
    let c = match mhz {
        2484 => 14,
        2412..=2472 => (mhz - 2407) / 5,
        5160..=5885 => (mhz - 5000) / 5,
        _ => return None,
    };
    u8::try_from(c).ok()
}

/// A second address for the access point: wlan0's, marked locally administered, and different
/// from wlan0's even when it already was (two interfaces of one radio need two addresses).
pub fn ap_address(client: [u8; 6]) -> [u8; 6] {
    let mut mac = client;
    mac[0] |= 0x02;
    if mac == client {
        mac[5] ^= 0x01;
    }
    mac
}

fn add_interface(root: &Path) -> Result<(), String> {
    let path = root.join("sys/class/net").join(CLIENT).join("address");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let client =
        parse_mac(text.trim()).ok_or(format!("{}: not a MAC address: {text}", path.display()))?;
    let mac = ap_address(client).map(|b| format!("{b:02x}")).join(":");
    let out = Command::new("iw")
        .args([
            "dev",
            CLIENT,
            "interface",
            "add",
            AP,
            "type",
            "__ap",
            "addr",
            &mac,
        ])
        .output()
        .map_err(|e| format!("iw: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "iw could not add {AP} beside {CLIENT}: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    ))
}

fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let bytes: Vec<u8> = s
        .split(':')
        .filter_map(|b| u8::from_str_radix(b, 16).ok())
        .collect();
    bytes.try_into().ok()
}

/// The frequency wlan0 is joined on, once it is, within `limit`.
fn wait_for_join(limit: Duration) -> Option<u32> {
    let start = Instant::now();
    loop {
        if let Some(mhz) = joined_mhz() {
            return Some(mhz);
        }
        if start.elapsed() >= limit {
            return None;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

fn joined_mhz() -> Option<u32> {
    let out = Command::new("iw")
        .args(["dev", CLIENT, "link"])
        .output()
        .ok()?;
    link_mhz(&String::from_utf8_lossy(&out.stdout))
}

/// The frequency in `iw dev wlan0 link`'s answer (`freq: 2437` or `freq: 2437.0`), if joined.
pub fn link_mhz(link: &str) -> Option<u32> {
    let freq = link.lines().find_map(|l| l.trim().strip_prefix("freq:"))?;
    let mhz: f32 = freq.trim().parse().ok()?;
    Some(mhz as u32)
}

fn setting(conf: &str, key: &str) -> Option<u8> {
    conf.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .and_then(|v| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_access_point_moves_to_the_clients_channel() {
        let conf = "interface=ap0\nhw_mode=a\nchannel=36\nieee80211n=1\n";
        let moved = on_channel(conf, 6, 36);
        assert_eq!(
            moved,
            "interface=ap0\nhw_mode=g\nchannel=6\nieee80211n=1\n#settings_channel=36\n"
        );
        assert_eq!(setting(conf, "channel"), Some(36));
        assert_eq!(setting(&moved, ASKED), Some(36), "a restart still knows");
        assert_eq!(on_channel(&moved, 11, 36).matches(ASKED).count(), 1);
        assert_eq!(channel_of(2437), Some(6));
        assert_eq!(channel_of(2484), Some(14));
        assert_eq!(channel_of(5180), Some(36));
        assert_eq!(channel_of(60480), None, "60 GHz is not for this radio");
        let link = "Connected to 02:00:00:00:01:00 (on wlan0)\n\tSSID: hall\n\tfreq: 2437.0\n";
        assert_eq!(link_mhz(link), Some(2437));
        assert_eq!(link_mhz("Not connected.\n"), None);
        assert!(joined_line(6, 2437, 36).ends_with("(channel 36 from the settings is not used)"));
        assert!(!joined_line(6, 2437, 6).contains("not used"));
    }

    #[test]
    fn both_networks_whenever_the_settings_ask_the_radio_decides_at_start() {
        let off = plan(false, Some("hall"));
        assert_eq!((off.ap, off.client, off.line), (None, true, None));
        let alone = plan(true, None);
        assert_eq!(
            (alone.ap, alone.client, alone.line),
            (Some("wlan0"), false, None)
        );
        let both = plan(true, Some("hall"));
        assert_eq!((both.ap, both.client), (Some("ap0"), true));
        assert!(refused_line().contains("cannot be an access point beside the Wi-Fi client"));
        assert!(beside_client("interface=ap0\n") && !beside_client("interface=wlan0\n"));
    }

    #[test]
    fn the_access_point_gets_its_own_address() {
        let pi = [0xb8, 0x27, 0xeb, 0x12, 0x34, 0x56];
        assert_eq!(ap_address(pi), [0xba, 0x27, 0xeb, 0x12, 0x34, 0x56]);
        let hwsim = [0x02, 0, 0, 0, 0, 0];
        assert_eq!(ap_address(hwsim), [0x02, 0, 0, 0, 0, 0x01]);
        assert_eq!(parse_mac("02:00:00:00:01:00"), Some([2, 0, 0, 0, 1, 0]));
        assert_eq!(parse_mac("02:00"), None);
    }

    #[test]
    fn alone_without_auto_band_prepare_leaves_hostapd_alone() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join(crate::hotspot::HOSTAPD);
        std::fs::create_dir_all(conf.parent().unwrap()).unwrap();
        std::fs::write(&conf, "interface=wlan0\nchannel=1\n").unwrap();
        assert_eq!(prepare(dir.path()), Ok(None));
        assert_eq!(
            std::fs::read_to_string(&conf).unwrap(),
            "interface=wlan0\nchannel=1\n"
        );
        assert!(line(dir.path()).is_none());
    }
}
