//! What the board's Wi-Fi radio can do, asked of the kernel with `iw phy` at boot: whether it
//! has 5 GHz channels (Pi 3 B+, 4, 400, 5) or only 2.4 GHz (Pi 3 Model B, Zero W, Zero 2 W), so
//! `band = "auto"` puts the visitors' access point where Bluetooth is not; and whether it may be
//! an access point and a client at once (its "valid interface combinations"), so the hotspot and
//! the hall's Wi-Fi can share it.

use std::process::Command;

/// What wlan0's radio can do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Radio {
    /// A usable 5 GHz channel.
    pub has_5ghz: bool,
    /// How many channels an access point and a client may use at once; None when the radio
    /// allows no such combination.
    pub ap_with_client: Option<u32>,
}

impl Radio {
    /// The radio as `iw phy` describes it; with no radio or no `iw`, one that has neither:
    /// 2.4 GHz and one network at a time work on every board.
    pub fn ask() -> Radio {
        Command::new("iw")
            .arg("phy")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| Radio::parse(&String::from_utf8_lossy(&o.stdout)))
            .unwrap_or_default()
    }

    /// The radio `iw phy`'s answer describes.
    pub fn parse(iw_phy: &str) -> Radio {
        Radio {
            has_5ghz: lists_5ghz(iw_phy),
            ap_with_client: ap_with_client(iw_phy),
        }
    }
}

/// Whether `iw phy`'s answer lists a 5 GHz channel that is not disabled (`no IR` before the
/// country is set is fine: hostapd sets the country first).
pub fn lists_5ghz(iw_phy: &str) -> bool {
    iw_phy.lines().any(|l| {
        let l = l.trim_start();
        let Some(rest) = l.strip_prefix("* ") else {
            return false;
        };
        let mhz: f32 = rest
            .split_whitespace()
            .next()
            .and_then(|f| f.parse().ok())
            .unwrap_or(0.0);
        (5150.0..5900.0).contains(&mhz) && rest.contains("MHz [") && !rest.contains("(disabled)")
    })
}

/// The most channels of any interface combination that holds a client (`managed`) and an
/// access point (`AP`) at once, as `iw phy` prints them:
/// `* #{ managed } <= 1, #{ AP } <= 1, #{ P2P-device } <= 1,` then `total <= 4, #channels <= 1`.
pub fn ap_with_client(iw_phy: &str) -> Option<u32> {
    combinations(iw_phy)
        .iter()
        .filter(|c| c.holds_ap_and_client())
        .map(|c| c.channels)
        .max()
}

/// One of the radio's valid interface combinations.
#[derive(Debug, Default)]
struct Combination {
    /// Each group of interface types and how many of them at most.
    groups: Vec<(Vec<String>, u32)>,
    total: u32,
    channels: u32,
}

impl Combination {
    fn holds_ap_and_client(&self) -> bool {
        let max_of = |t: &str| {
            self.groups
                .iter()
                .find(|(types, _)| types.iter().any(|x| x == t))
        };
        let (Some(client), Some(ap)) = (max_of("managed"), max_of("AP")) else {
            return false;
        };
        let room = if std::ptr::eq(client, ap) { 2 } else { 1 };
        self.total >= 2 && client.1 >= room && ap.1 >= room
    }

    /// One entry's text, its lines joined.
    fn parse(text: &str) -> Combination {
        let mut c = Combination::default();
        for piece in text.split("#{").skip(1) {
            let Some((types, rest)) = piece.split_once('}') else {
                continue;
            };
            let types = types.split(',').map(|t| t.trim().to_string()).collect();
            c.groups
                .push((types, number_after(rest, "<=").unwrap_or(0)));
        }
        c.total = number_after(text, "total <=").unwrap_or(0);
        c.channels = number_after(text, "#channels <=").unwrap_or(1);
        c
    }
}

/// The number after the first `key` in `text`.
fn number_after(text: &str, key: &str) -> Option<u32> {
    let rest = &text[text.find(key)? + key.len()..];
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// The entries under the first "valid interface combinations:", each with its continuation lines.
fn combinations(iw_phy: &str) -> Vec<Combination> {
    let mut lines = iw_phy
        .lines()
        .skip_while(|l| !l.contains("valid interface combinations:"))
        .skip(1);
    let mut entries: Vec<String> = Vec::new();
    for l in lines.by_ref() {
        let t = l.trim();
        if let Some(first) = t.strip_prefix("* ") {
            entries.push(first.to_string());
        } else if t.starts_with("total") || t.starts_with("#{") {
            if let Some(e) = entries.last_mut() {
                e.push(' ');
                e.push_str(t);
            }
        } else {
            break;
        }
    }
    entries.iter().map(|e| Combination::parse(e)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `iw phy` on a Pi 3 Model B (BCM43430, 2.4 GHz only) and a Pi 4 (BCM43455), as iw 6.x
    /// prints them, with brcmfmac's interface combinations.
    const PI3: &str = "Wiphy phy0\n\tBand 1:\n\t\tFrequencies:\n\t\t\t* 2412.0 MHz [1] (20.0 dBm)\n\
                       \t\t\t* 2472.0 MHz [13] (20.0 dBm) (no IR)\n\t\t\t* 2484.0 MHz [14] (disabled)\n\
                       \tvalid interface combinations:\n\
                       \t\t * #{ managed } <= 1, #{ P2P-device } <= 1, #{ P2P-client, P2P-GO } <= 1,\n\
                       \t\t   total <= 3, #channels <= 2\n\
                       \t\t * #{ managed } <= 1, #{ AP } <= 1, #{ P2P-client } <= 1, #{ P2P-device } <= 1,\n\
                       \t\t   total <= 4, #channels <= 1\n\
                       \tDevice supports scan flush.\n";
    const PI4: &str = "Wiphy phy0\n\tBand 1:\n\t\tFrequencies:\n\t\t\t* 2412.0 MHz [1] (20.0 dBm)\n\
                       \tBand 2:\n\t\tFrequencies:\n\t\t\t* 5170.0 MHz [34] (disabled)\n\
                       \t\t\t* 5180.0 MHz [36] (20.0 dBm) (no IR)\n\t\t\t* 5260.0 MHz [52] (20.0 dBm) (radar detection)\n";
    /// mac80211_hwsim (the VM rig's radios), one channel.
    const HWSIM: &str = "Wiphy phy0\n\tvalid interface combinations:\n\
                         \t\t * #{ IBSS } <= 1, #{ managed, AP, mesh point, P2P-client, P2P-GO } <= 2048, #{ P2P-device } <= 1,\n\
                         \t\t   total <= 2049, #channels <= 1, STA/AP BI must match\n\
                         \tHT Capability overrides:\n";
    /// A USB adapter whose driver allows one interface at a time.
    const ONE: &str = "Wiphy phy1\n\tvalid interface combinations:\n\
                       \t\t * #{ managed, AP } <= 1,\n\t\t   total <= 1, #channels <= 1\n";

    #[test]
    fn five_gigahertz_where_the_radio_lists_it() {
        assert!(!lists_5ghz(PI3));
        assert!(lists_5ghz(PI4));
        assert!(!lists_5ghz(
            "Wiphy phy0\n\tBand 2:\n\t\t\t* 5180.0 MHz [36] (disabled)\n"
        ));
        assert!(!lists_5ghz(""));
    }

    #[test]
    fn an_access_point_beside_a_client_where_a_combination_holds_both() {
        assert_eq!(ap_with_client(PI3), Some(1));
        assert_eq!(ap_with_client(HWSIM), Some(1));
        assert_eq!(ap_with_client(ONE), None, "one interface at a time");
        assert_eq!(ap_with_client(PI4), None, "no combinations listed");
        let no_ap =
            "\tvalid interface combinations:\n\t\t * #{ managed } <= 2, #{ P2P-GO } <= 1,\n\
                     \t\t   total <= 3, #channels <= 2\n";
        assert_eq!(
            ap_with_client(no_ap),
            None,
            "AP/VLAN or P2P-GO is not an AP"
        );
        assert_eq!(
            Radio::parse(PI3),
            Radio {
                has_5ghz: false,
                ap_with_client: Some(1)
            }
        );
    }
}
