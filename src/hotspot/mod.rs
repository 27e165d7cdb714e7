//! The visitor access point as the system runs it: `[hotspot]` rendered into the files hostapd
//! (the open access point, visitors isolated from each other), dnsmasq (addresses, and every DNS
//! name answered with the appliance, so each phone's "am I online?" probe lands on the captive
//! page), systemd-networkd (the appliance's address on the access point's interface) and
//! nftables (a visitor reaches DNS, DHCP and the captive page, nothing else: not the dashboard,
//! not the uplink, not another visitor) read. `o4send setup` writes them under `/run`; the
//! image's units start each program only when its file is there. The access point is wlan0, or
//! [`share::AP`] beside the Wi-Fi client where the radio allows both.

pub mod radio;
pub mod share;

use crate::config::{Band, HotspotConfig};
use ct_codecs::Encoder;
use std::fmt::Write;

pub const HOSTAPD: &str = "run/o4send/hostapd.conf";
pub const DNSMASQ: &str = "run/o4send/dnsmasq.conf";
pub const FIREWALL: &str = "run/o4send/hotspot.nft";
/// systemd-networkd's file for the access point's interface.
pub const NETWORK: &str = "run/systemd/network/50-o4send-hotspot.network";
/// Where dnsmasq keeps its leases (absolute): the captive page reads the phones' Wi-Fi addresses
/// from it.
pub const LEASES: &str = "/run/o4send/dnsmasq.leases";

/// The hotspot's files, one text each.
pub struct Rendered {
    /// systemd-networkd's `.network` for the access point: the fixed address, no IPv6.
    pub network: String,
    pub hostapd: String,
    pub dnsmasq: String,
    pub firewall: String,
}

/// The files for `h` on interface `iface`, in `country`, under the network name `ssid`.
pub fn render(h: &HotspotConfig, iface: &str, country: &str, ssid: &str) -> Rendered {
    Rendered {
        network: network(h, iface),
        hostapd: hostapd(h, iface, country, ssid),
        dnsmasq: dnsmasq(h, iface),
        firewall: firewall(h, iface),
    }
}

fn network(h: &HotspotConfig, iface: &str) -> String {
    format!(
        "# Written by `o4send setup` from [hotspot]: the visitor network.\n\
         [Match]\nName={iface}\n\n[Network]\nAddress={}/24\nLinkLocalAddressing=no\n\
         IPv6AcceptRA=no\nConfigureWithoutCarrier=yes\n",
        h.address
    )
}

/// An open network (visitors join without a password), each station isolated from the others.
/// The name is written in hex (`ssid2`), so no character of it needs quoting.
fn hostapd(h: &HotspotConfig, iface: &str, country: &str, ssid: &str) -> String {
    let mut s = format!(
        "# Written by `o4send setup` from [hotspot].\n\
         interface={iface}\ndriver=nl80211\nctrl_interface=/run/hostapd\n"
    );
    let hex = ct_codecs::Hex::encode_to_string(ssid).expect("hex of a short name fits in memory");
    let _ = writeln!(s, "ssid2={hex}\nutf8_ssid=1");
    let _ = writeln!(s, "country_code={country}\nieee80211d=1");
    let mode = match h.band() {
        Band::Ghz5 => "a",
        _ => "g",
    };
    let _ = writeln!(
        s,
        "hw_mode={mode}\nchannel={}\nieee80211n=1\nwmm_enabled=1",
        h.channel()
    );
    if h.band == Band::Auto && h.channel.is_none() {
        // The radio's best band, chosen when hostapd starts (share::prepare).
        let _ = writeln!(s, "{}", share::AUTO_BAND);
    }
    let _ = writeln!(
        s,
        "auth_algs=1\nwpa=0\nap_isolate=1\nmax_num_sta={}",
        h.max_visitors
    );
    s
}

/// Addresses for `max_visitors` phones from .10 up, and every name answered with the appliance.
fn dnsmasq(h: &HotspotConfig, iface: &str) -> String {
    let [a, b, c, _] = h.address.octets();
    let last = 10 + u32::from(h.max_visitors).min(244) - 1;
    format!(
        "# Written by `o4send setup` from [hotspot].\n\
         interface={iface}\nbind-interfaces\nexcept-interface=lo\nlisten-address={addr}\n\
         no-resolv\nno-hosts\nno-poll\naddress=/#/{addr}\n\
         dhcp-range={a}.{b}.{c}.10,{a}.{b}.{c}.{last},255.255.255.0,30m\n\
         dhcp-option=option:router,{addr}\ndhcp-option=option:dns-server,{addr}\n\
         dhcp-lease-max={max}\ndhcp-authoritative\ndhcp-leasefile={LEASES}\n",
        addr = h.address,
        max = h.max_visitors,
    )
}

fn firewall(h: &HotspotConfig, iface: &str) -> String {
    let [a, b, c, _] = h.address.octets();
    FIREWALL_RULES
        .replace("@IFACE@", iface)
        .replace("@ADDR@", &h.address.to_string())
        .replace("@SUBNET@", &format!("{a}.{b}.{c}.0/24"))
}

/// What a visitor on the access point may reach: DHCP, DNS and the captive page on the appliance's own
/// address; nothing is forwarded to or from it (no uplink, no internet, no other visitor).
/// DHCP is rationed per radio: a station that makes up client addresses to take every lease
/// gets 6 requests at once and 10 an hour (a phone joining and renewing its 30-minute lease
/// sends about 6); the access point vouches for the radio's address, and each radio takes one of
/// hostapd's `max_num_sta` places. After DHCP a visitor's packets must come from the hotspot's
/// own subnet: a made-up source elsewhere is dropped. Beside the Wi-Fi client, wlan0 is the
/// uplink and the access point's interface is the visitors'.
const FIREWALL_RULES: &str = "\
#!/usr/sbin/nft -f
# Written by `o4send setup` from [hotspot].
table inet o4send_hotspot
delete table inet o4send_hotspot
table inet o4send_hotspot {
    set dhcp_stations {
        type ether_addr
        flags dynamic,timeout
        timeout 1h
        size 4096
    }
    chain input {
        type filter hook input priority filter; policy accept;
        iifname \"@IFACE@\" udp dport 67 update @dhcp_stations { ether saddr limit rate over 10/hour burst 6 packets } drop
        iifname \"@IFACE@\" udp dport 67 accept
        iifname \"@IFACE@\" ip saddr != @SUBNET@ drop
        iifname \"@IFACE@\" ip daddr @ADDR@ udp dport 53 accept
        iifname \"@IFACE@\" ip daddr @ADDR@ tcp dport { 53, 80 } accept
        iifname \"@IFACE@\" ct state established,related accept
        iifname \"@IFACE@\" drop
    }
    chain forward {
        type filter hook forward priority filter; policy accept;
        iifname \"@IFACE@\" drop
        oifname \"@IFACE@\" drop
    }
}
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_files_say_what_the_settings_say() {
        let h = HotspotConfig {
            enabled: true,
            max_visitors: 50,
            ..HotspotConfig::default()
        }
        .for_radio(true);
        let r = render(&h, "wlan0", "DE", "Booth \"7\"; free");
        assert!(!r.hostapd.contains(share::AUTO_BAND), "the band was chosen");
        let auto = HotspotConfig {
            enabled: true,
            ..HotspotConfig::default()
        };
        let a = render(&auto, "wlan0", "DE", "Booth").hostapd;
        assert!(
            a.contains("hw_mode=g\nchannel=1\n") && a.contains("#auto_band=1\n"),
            "{a}"
        );
        assert!(
            r.hostapd.contains("ssid2=426f6f7468202237223b2066726565\n"),
            "{}",
            r.hostapd
        );
        assert!(r.hostapd.contains("hw_mode=a\nchannel=36\n"));
        assert!(r.hostapd.contains("ap_isolate=1\nmax_num_sta=50\n"));
        assert!(r.hostapd.contains("wpa=0\n") && r.hostapd.contains("country_code=DE\n"));
        assert!(r.dnsmasq.contains("address=/#/10.44.0.1\n"));
        assert!(r
            .dnsmasq
            .contains("dhcp-range=10.44.0.10,10.44.0.59,255.255.255.0,30m\n"));
        assert!(r
            .firewall
            .contains("ip daddr 10.44.0.1 tcp dport { 53, 80 } accept"));
        assert!(
            !r.firewall.contains("8080"),
            "the dashboard's port is never opened to visitors"
        );
        assert!(r.network.contains("Name=wlan0\n") && r.network.contains("Address=10.44.0.1/24\n"));
        let beside = render(&h, share::AP, "DE", "Booth");
        assert!(
            beside.hostapd.contains("interface=ap0\n")
                && beside.dnsmasq.contains("interface=ap0\n")
        );
        assert!(beside.network.contains("Name=ap0\n"));
        assert!(
            !beside.firewall.contains("wlan0"),
            "beside the client, wlan0 is the uplink"
        );
        assert!(r
            .firewall
            .contains("iifname \"wlan0\" ip saddr != 10.44.0.0/24 drop\n"));
        assert!(r.firewall.contains(
            "udp dport 67 update @dhcp_stations { ether saddr limit rate over 10/hour burst 6 packets } drop\n"
        ));
    }
}
