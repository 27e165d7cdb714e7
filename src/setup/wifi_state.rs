//! Whether the Wi-Fi client got online, asked of wpa_supplicant over its control socket, for
//! `o4send status`: joined (and where), still looking, or turned away, which for a network that
//! is in reach nearly always means a wrong passphrase in the boot partition's o4send.toml.

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::time::Duration;

/// wpa_supplicant's socket for wlan0 (`ctrl_interface` in the file `o4send setup` writes).
pub const CONTROL: &str = "/run/wpa_supplicant/wlan0";

/// One line on the Wi-Fi client, or None when wpa_supplicant is not running.
pub fn line(control: &Path) -> Option<String> {
    let status = ask(control, "STATUS").ok()?;
    let networks = ask(control, "LIST_NETWORKS").unwrap_or_default();
    Some(describe(&status, &networks))
}

/// The line from the answers to STATUS and LIST_NETWORKS.
pub fn describe(status: &str, networks: &str) -> String {
    let field = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
    };
    let state = field("wpa_state").unwrap_or("UNKNOWN");
    if state == "COMPLETED" {
        let ssid = field("ssid").unwrap_or("?");
        let ip = field("ip_address").unwrap_or("no address yet");
        return format!("wifi: joined \"{ssid}\" ({ip})");
    }
    let refused: Vec<&str> = networks
        .lines()
        .skip(1)
        .filter(|l| l.contains("[TEMP-DISABLED]"))
        .filter_map(|l| l.split('\t').nth(1))
        .collect();
    match refused.first() {
        Some(ssid) => format!(
            "wifi: \"{ssid}\" turned the box away (4-way handshake failed: wrong passphrase in \
             o4send.toml?); trying again"
        ),
        None => format!(
            "wifi: not joined ({}), looking for the networks in o4send.toml",
            state.to_lowercase()
        ),
    }
}

fn ask(control: &Path, command: &str) -> std::io::Result<String> {
    use std::os::linux::net::SocketAddrExt;
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    // wpa_supplicant answers to the address the question came from. An abstract address lives
    // in no directory, so it works from the daemon's private /tmp (PrivateTmp=) as from a shell.
    let name = format!(
        "o4send-wpa-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let local = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
    let sock = UnixDatagram::bind_addr(&local)?;
    sock.set_read_timeout(Some(Duration::from_secs(2)))?;
    sock.connect(control)?;
    sock.send(command.as_bytes())?;
    let mut buf = vec![0u8; 4096];
    let n = sock.recv(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn the_three_states_read_plainly() {
        let joined =
            "bssid=02:00:00:00:01:00\nssid=expo\nwpa_state=COMPLETED\nip_address=10.9.0.20\n";
        assert_eq!(describe(joined, ""), "wifi: joined \"expo\" (10.9.0.20)");
        let list = "network id / ssid / bssid / flags\n0\texpo\tany\t[TEMP-DISABLED]\n";
        assert!(describe("wpa_state=SCANNING\n", list).contains("\"expo\" turned the box away"));
        assert_eq!(
            describe(
                "wpa_state=SCANNING\n",
                "network id / ssid / bssid / flags\n0\texpo\tany\t\n"
            ),
            "wifi: not joined (scanning), looking for the networks in o4send.toml"
        );
    }
}
