//! Where the operator's laptop finds the box: its name on the local network (`<name>.local`,
//! answered by systemd-resolved's mDNS responder on Ethernet and the Wi-Fi client) and every
//! address it holds, Ethernet included, for the banner and `o4send status`. A laptop that
//! resolves no `.local` names still has the numbers.

use nix::ifaddrs::getifaddrs;
use std::net::Ipv4Addr;

/// Each interface's IPv4 addresses, loopback and `skip` (the visitors' hotspot) left out.
pub fn ipv4(skip: Ipv4Addr) -> Vec<(String, Ipv4Addr)> {
    let Ok(list) = getifaddrs() else {
        return Vec::new();
    };
    list.filter_map(|ifa| {
        let ip = ifa.address?.as_sockaddr_in()?.ip();
        (!ip.is_loopback() && ip != skip).then_some((ifa.interface_name, ip))
    })
    .collect()
}

/// The line of this machine's addresses now, the visitors' hotspot (`hotspot`) left out.
pub fn now(hotspot: Ipv4Addr) -> String {
    line(&ipv4(hotspot))
}

/// `addresses: eth0 192.168.1.23, wlan0 10.0.0.7`, or that there is none yet.
pub fn line(addresses: &[(String, Ipv4Addr)]) -> String {
    if addresses.is_empty() {
        return "addresses: none yet (no cable, no Wi-Fi network joined)".into();
    }
    let each: Vec<String> = addresses.iter().map(|(i, a)| format!("{i} {a}")).collect();
    format!("addresses: {}", each.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line() {
        let a = vec![
            ("eth0".to_string(), Ipv4Addr::new(192, 168, 1, 23)),
            ("wlan0".to_string(), Ipv4Addr::new(10, 0, 0, 7)),
        ];
        assert_eq!(line(&a), "addresses: eth0 192.168.1.23, wlan0 10.0.0.7");
        assert!(line(&[]).starts_with("addresses: none yet"));
        assert!(ipv4(Ipv4Addr::UNSPECIFIED)
            .iter()
            .all(|(_, ip)| !ip.is_loopback()));
    }
}
