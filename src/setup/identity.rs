//! The box's own name before anyone names it, and its host name. Every box flashed from the same
//! image would otherwise be called `o4send`: two on one network could not be told apart, in the
//! fleet's log or at `o4send.local`. The default is `o4send-` and the last four hex digits of the
//! board's serial number (or of a network port's MAC address where the board has no serial, as
//! in QEMU). Not the Bluetooth address: before its firmware is loaded a Pi's controller reports
//! the chip's default address, the same on every board of a kind.
//!
//! The host name (`<name>.local` over mDNS, the dashboard's certificate, its Host check) is the
//! name as a DNS label: `Booth 7` answers as `booth-7`.

use crate::config::OperatorFile;
use std::path::Path;

/// The board's serial number (Raspberry Pi firmware; absent on QEMU), under the root.
pub const SERIAL: &str = "proc/device-tree/serial-number";
/// The host name for the kernel, under the root: `o4send-hostname.service` gives it to the
/// kernel (setting it takes a privilege setup does not hold).
pub const HOSTNAME: &str = "run/o4send/hostname";
/// Network ports whose MAC address names a board without a serial number.
const PORTS: [&str; 3] = ["eth0", "end0", "wlan0"];

/// `o4send-3fa2`, or None when nothing tells this board from another.
pub fn default_name(root: &Path) -> Option<String> {
    let serial = std::fs::read_to_string(root.join(SERIAL)).ok();
    let macs = PORTS.iter().filter_map(|p| {
        std::fs::read_to_string(root.join(format!("sys/class/net/{p}/address"))).ok()
    });
    let digits = serial
        .into_iter()
        .chain(macs)
        .find_map(|s| last_hex(&s, 4))?;
    Some(format!("o4send-{digits}"))
}

/// The lowest settings layer over the image's defaults: this box's default name.
pub fn layer(root: &Path) -> Option<OperatorFile> {
    let name = default_name(root)?;
    Some(OperatorFile {
        path: root.join(SERIAL),
        text: format!("[appliance]\nname = \"{name}\"\n"),
    })
}

/// `name` as a host name: lower case letters, digits and inner hyphens, at most 63.
pub fn host_label(name: &str) -> String {
    let mut label = String::new();
    for c in name.to_lowercase().chars() {
        let c = if c.is_ascii_alphanumeric() { c } else { '-' };
        if !(c == '-' && (label.is_empty() || label.ends_with('-'))) {
            label.push(c);
        }
    }
    let label: String = label.chars().take(63).collect();
    let label = label.trim_end_matches('-');
    if label.is_empty() {
        "o4send".into()
    } else {
        label.into()
    }
}

/// Writes the host name of `name` for `o4send-hostname.service`.
pub fn set_host_name(root: &Path, name: &str) -> Result<(), String> {
    let label = format!("{}\n", host_label(name));
    crate::setup::write_atomic(&root.join(HOSTNAME), label.as_bytes(), 0o644, None)
}

/// The last `n` hex digits of `text`, lower case, if it has that many and they are not all 0.
fn last_hex(text: &str, n: usize) -> Option<String> {
    let hex: Vec<char> = text.chars().filter(char::is_ascii_hexdigit).collect();
    let tail: String = hex.get(hex.len().checked_sub(n)?..)?.iter().collect();
    (tail.chars().any(|c| c != '0')).then(|| tail.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_default_name_from_the_serial_or_a_mac() {
        let root = tempfile::tempdir().unwrap();
        assert_eq!(default_name(root.path()), None);
        let net = root.path().join("sys/class/net/eth0");
        std::fs::create_dir_all(&net).unwrap();
        std::fs::write(net.join("address"), "52:54:00:12:3F:A2\n").unwrap();
        assert_eq!(default_name(root.path()).as_deref(), Some("o4send-3fa2"));
        let dt = root.path().join("proc/device-tree");
        std::fs::create_dir_all(&dt).unwrap();
        std::fs::write(dt.join("serial-number"), "10000000b41c9e07\0").unwrap();
        assert_eq!(default_name(root.path()).as_deref(), Some("o4send-9e07"));
    }

    #[test]
    fn host_labels() {
        assert_eq!(host_label("Booth 7"), "booth-7");
        assert_eq!(host_label("hall-3"), "hall-3");
        assert_eq!(host_label("  Café & Bar!! "), "caf-bar");
        assert_eq!(host_label("***"), "o4send");
        assert_eq!(host_label(&"x".repeat(80)).len(), 63);
    }
}
