//! The laptop's USB cable link (the gadget `o4send-usb-gadget.service` makes on a Pi 4 or Zero 2
//! W): systemd-networkd's file for the gadget's two interfaces, RNDIS (`usb0`, Windows) and CDC
//! ECM (`usb1`, macOS and Linux), with the box at `dashboard.usb_address` handing the laptop an
//! address, no route and no DNS server (the laptop keeps its own way to the internet). A request
//! that reaches the dashboard over this link ([`over_link`]) comes from someone at the box: the
//! first visit there needs no code.

use std::net::{IpAddr, Ipv4Addr};

/// systemd-networkd's file for the link, under the root.
pub const NETWORK: &str = "run/systemd/network/60-o4send-usb.network";

/// The file for the box at `address`.
pub fn network(address: Ipv4Addr) -> String {
    format!(
        "# Written by `o4send setup` from dashboard.usb_address: the laptop's USB cable link.\n\
         [Match]\nName=usb0 usb1\n\n[Network]\nAddress={address}/24\nDHCPServer=yes\n\
         MulticastDNS=yes\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n\n\
         [DHCPServer]\nPoolOffset=10\nPoolSize=40\nEmitDNS=no\nEmitRouter=no\n"
    )
}

/// Whether a connection from `peer` to the box's `local` address came over the link at
/// `address`: to that address, from its /24. Nobody elsewhere can finish such a connection: the
/// box answers the link's /24 only over the link itself, and forwards nothing.
pub fn over_link(local: IpAddr, peer: IpAddr, address: Ipv4Addr) -> bool {
    let (IpAddr::V4(local), IpAddr::V4(peer)) = (local, peer) else {
        return false;
    };
    local == address && peer.octets()[..3] == address.octets()[..3]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_links_own_subnet_to_the_links_address() {
        let a = Ipv4Addr::new(10, 55, 0, 1);
        let v4 = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(over_link(v4("10.55.0.1"), v4("10.55.0.23"), a));
        assert!(
            !over_link(v4("192.168.1.5"), v4("10.55.0.23"), a),
            "to another address"
        );
        assert!(
            !over_link(v4("10.55.0.1"), v4("192.168.1.9"), a),
            "from elsewhere"
        );
        assert!(
            !over_link(v4("10.44.0.1"), v4("10.44.0.20"), a),
            "the hotspot"
        );
        assert!(
            network(a).contains("Address=10.55.0.1/24\n") && network(a).contains("EmitRouter=no\n")
        );
    }
}
