//! The Wi-Fi client's file as the real wpa_supplicant reads it: for passphrases full of the
//! characters its config parser treats specially (`"`, `#`, `\`, leading and trailing blanks),
//! wpa_supplicant must end up with the key WPA2 derives from the passphrase (as its own
//! `wpa_passphrase` computes it from the command line, no file parsing involved) and, for WPA3's
//! SAE, with the passphrase's exact bytes. wpa_supplicant parses the whole file before it looks
//! for the interface, so a missing radio is no obstacle; `-dd -K` prints the keys it parsed.
//! Needs Debian's wpasupplicant (a failure under CI=true, a skip otherwise).

use o4send::config::{Secret, WifiConfig, WifiNetwork};
use o4send::setup::network;
use std::process::Command;

const NASTY: [&str; 5] = [
    "rig \"wifi\" #1a2b3c",
    "a#\"b\\\"c'd\"#e",
    "#starts with a hash",
    "  blanks on both ends  ",
    "ends in a quote\"",
];

fn wpa_supplicant() -> Option<&'static str> {
    for path in ["/usr/sbin/wpa_supplicant", "/sbin/wpa_supplicant"] {
        if std::path::Path::new(path).exists() {
            return Some(path);
        }
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true and no wpa_supplicant: apt-get install wpasupplicant (scripts/test.sh does it as root)"
    );
    eprintln!("skipped: needs wpa_supplicant (apt-get install wpasupplicant)");
    None
}

/// What wpa_supplicant parsed from FILE: every `-dd -K` line about keys, as printed.
fn parsed_keys(bin: &str, file: &std::path::Path) -> String {
    let out = Command::new(bin)
        .args(["-i", "o4send-none0", "-D", "nl80211", "-dd", "-K", "-c"])
        .arg(file)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `wpa_passphrase SSID PASSPHRASE`'s psk= line (its arguments, not a file).
fn reference_pmk(ssid: &str, passphrase: &str) -> String {
    let out = Command::new("wpa_passphrase")
        .args([ssid, passphrase])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines()
        .find_map(|l| l.trim().strip_prefix("psk="))
        .unwrap_or_else(|| panic!("wpa_passphrase printed no psk: {text}"))
        .to_string()
}

/// The hex bytes of a `-dd -K` hexdump after LABEL (one line, or the hexdump_ascii block).
fn dumped(keys: &str, label: &str) -> String {
    let mut lines = keys.lines().skip_while(|l| !l.starts_with(label));
    let head = lines
        .next()
        .unwrap_or_else(|| panic!("no {label} in {keys}"));
    let mut hex: String = head.split("): ").nth(1).unwrap_or("").replace(' ', "");
    for l in lines.take_while(|l| l.starts_with("     ")) {
        hex.extend(l[5..].split("   ").next().unwrap().split_whitespace());
    }
    hex
}

#[test]
fn wpa_supplicant_reads_the_exact_key_for_passphrases_with_quotes_and_hashes() {
    let Some(bin) = wpa_supplicant() else { return };
    let dir = tempfile::tempdir().unwrap();
    for (i, pass) in NASTY.iter().enumerate() {
        let ssid = format!("Expo \"Hall\" #{i}");
        let wifi = WifiConfig {
            country: Some("DE".into()),
            networks: vec![WifiNetwork {
                ssid: ssid.clone(),
                passphrase: Some(Secret::new(*pass)),
                psk: None,
                hidden: false,
            }],
        };
        let file = dir.path().join(format!("wpa{i}.conf"));
        std::fs::write(&file, network::wpa_supplicant(&wifi)).unwrap();
        let keys = parsed_keys(bin, &file);
        assert!(!keys.contains("failed to parse"), "{pass:?}: {keys}");
        assert_eq!(
            dumped(&keys, "PSK - hexdump"),
            reference_pmk(&ssid, pass),
            "{pass:?}: the PMK wpa_supplicant read"
        );
        let bytes: String = pass.bytes().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            dumped(&keys, "sae_password - hexdump_ascii"),
            bytes,
            "{pass:?}: the SAE password wpa_supplicant read"
        );
        println!("{pass:?}: wpa_supplicant read the PMK and the SAE password exactly");
    }
    // Raspberry Pi Imager's form gives the PMK itself (64 hex digits), never the passphrase.
    let pmk = reference_pmk("Imager's Hall", "correct horse");
    let wifi = WifiConfig {
        country: Some("DE".into()),
        networks: vec![WifiNetwork {
            ssid: "Imager's Hall".into(),
            passphrase: None,
            psk: Some(Secret::new(pmk.to_uppercase().as_str())),
            hidden: true,
        }],
    };
    let file = dir.path().join("wpa-imager.conf");
    std::fs::write(&file, network::wpa_supplicant(&wifi)).unwrap();
    let keys = parsed_keys(bin, &file);
    assert!(!keys.contains("failed to parse"), "{keys}");
    assert_eq!(
        dumped(&keys, "PSK - hexdump"),
        pmk,
        "Imager's PMK as wpa_supplicant read it"
    );
    println!("Imager's PMK: wpa_supplicant read it exactly");
}
