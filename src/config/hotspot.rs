//! The `[hotspot]` section: the visitor Wi-Fi network, off unless the operator turns it on.
//!
//! Object Push reaches only discoverable Android phones; iPhones have none at all. An open access
//! point whose every DNS name leads to the captive page reaches the rest. The daemon never runs
//! the access point itself: `o4send setup` renders these settings for hostapd, dnsmasq and the
//! firewall (`crate::hotspot`), and `o4send portal` serves the page.

use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HotspotConfig {
    /// Turn the built-in Wi-Fi into the visitors' access point.
    pub enabled: bool,
    /// The network's name; none: the campaign's name, else the appliance's.
    pub ssid: Option<String>,
    /// `"auto"`: 5 GHz where the board's radio has it (Bluetooth keeps 2.4 GHz mostly to
    /// itself), else 2.4 GHz (Pi 3 Model B, Zero 2 W); or `"5"` or `"2.4"`.
    pub band: Band,
    /// The channel; none: 36 on 5 GHz, 1 on 2.4 GHz. A channel chooses its band.
    pub channel: Option<u8>,
    /// The appliance's address on the visitor network; visitors get the rest of its /24.
    pub address: Ipv4Addr,
    /// Visitors at once (DHCP leases and the access point's station limit).
    pub max_visitors: u16,
}

impl Default for HotspotConfig {
    fn default() -> Self {
        HotspotConfig {
            enabled: false,
            ssid: None,
            band: Band::Auto,
            channel: None,
            address: Ipv4Addr::new(10, 44, 0, 1),
            max_visitors: 64,
        }
    }
}

/// The Wi-Fi band of the access point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Band {
    /// The best band the radio has, decided at boot (`HotspotConfig::for_radio`).
    #[serde(rename = "auto")]
    Auto,
    #[serde(rename = "5")]
    Ghz5,
    #[serde(rename = "2.4")]
    Ghz24,
}

impl Band {
    /// The band channel `c` is on (2.4 GHz channels are 1 to 14).
    pub fn of_channel(c: u8) -> Band {
        if c > 14 {
            Band::Ghz5
        } else {
            Band::Ghz24
        }
    }
}

impl HotspotConfig {
    /// The channel in force: the configured one, or the band's quiet default.
    pub fn channel(&self) -> u8 {
        self.channel.unwrap_or(match self.band() {
            Band::Ghz5 => 36,
            _ => 1,
        })
    }

    /// The band in force: the configured one, else the channel's, else (`auto` not yet decided
    /// for a radio) 2.4 GHz, which every board has.
    pub fn band(&self) -> Band {
        match (self.band, self.channel) {
            (Band::Auto, Some(c)) => Band::of_channel(c),
            (Band::Auto, None) => Band::Ghz24,
            (b, _) => b,
        }
    }

    /// These settings on a radio that has 5 GHz or not: `auto` without a channel becomes the
    /// radio's best band.
    pub fn for_radio(&self, has_5ghz: bool) -> HotspotConfig {
        let mut h = self.clone();
        if h.band == Band::Auto && h.channel.is_none() && has_5ghz {
            h.band = Band::Ghz5;
        }
        h
    }

    /// The captive page's address, as the poster's QR code gives it.
    pub fn page_url(&self) -> String {
        format!("http://{}/", self.address)
    }

    /// The network's name: the configured one, else `fallback` cut to Wi-Fi's 32 bytes.
    pub fn ssid_or(&self, fallback: &str) -> String {
        match &self.ssid {
            Some(s) => s.clone(),
            None => cut_to_bytes(fallback, 32),
        }
    }
}

/// Why `channel` is not one the band allows without radar detection, if it is not.
pub fn channel_problem(band: Band, channel: u8) -> Option<&'static str> {
    let band = match band {
        Band::Auto => Band::of_channel(channel),
        b => b,
    };
    let ok = match band {
        // UNII-1 and UNII-3: no DFS radar wait, allowed indoors in most countries.
        Band::Ghz5 => matches!(channel, 36 | 40 | 44 | 48 | 149 | 153 | 157 | 161 | 165),
        _ => (1..=13).contains(&channel),
    };
    (!ok).then_some(match band {
        Band::Ghz5 => {
            "5 GHz channels without radar detection are 36, 40, 44, 48, 149, 153, 157, 161, 165"
        }
        _ => "2.4 GHz channels are 1 to 13",
    })
}

/// `s` cut at a character boundary to at most `max` bytes.
fn cut_to_bytes(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_falls_back_and_is_cut_at_a_character() {
        let h = HotspotConfig::default();
        assert_eq!(h.ssid_or("Booth 12"), "Booth 12");
        let long = "Ünïcödé booth of the Grand Expo 2026";
        let cut = h.ssid_or(long);
        assert!(cut.len() <= 32 && long.starts_with(&cut), "{cut}");
    }

    #[test]
    fn auto_takes_the_radios_best_band() {
        let h = HotspotConfig::default();
        assert_eq!(
            (h.band(), h.channel()),
            (Band::Ghz24, 1),
            "a radio not yet asked"
        );
        let pi4 = h.for_radio(true);
        assert_eq!((pi4.band(), pi4.channel()), (Band::Ghz5, 36));
        let pi3 = h.for_radio(false);
        assert_eq!((pi3.band(), pi3.channel()), (Band::Ghz24, 1));
        let chosen = HotspotConfig {
            channel: Some(149),
            ..HotspotConfig::default()
        };
        assert_eq!(
            chosen.for_radio(false).band(),
            Band::Ghz5,
            "a channel chooses its band"
        );
        assert!(channel_problem(Band::Auto, 6).is_none());
        assert!(channel_problem(Band::Auto, 52).is_some());
    }

    #[test]
    fn channels_are_checked_per_band() {
        assert!(channel_problem(Band::Ghz5, 36).is_none());
        assert!(channel_problem(Band::Ghz5, 52).is_some());
        assert!(channel_problem(Band::Ghz24, 6).is_none());
        assert!(channel_problem(Band::Ghz24, 14).is_some());
    }
}
