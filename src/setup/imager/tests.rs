//! Imager's files exactly as Imager 2.x writes them (rpi-imager `customization_generator.cpp`
//! and `downloadthread.cpp`: `#cloud-config` prepended, empty lines dropped, the PMK quoted).

use super::*;
use crate::config::{Config, Layers};

/// `pleaseletmein`, as yescrypt's reference vector.
const HASH: &str = "$y$jD5.7$LdJMENpBABJJ3hIHjB1Bi.$HboGM6qPrsK.StKYGt6KErmUYtioHreJd98oIugoNB6";
/// A whole ed25519 public key, as a `.pub` file's line.
const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHbP3Vbi1hX2r5uG0dO8HqJZ9R0nq9t4sJ0rPqZ5yL1c stand@laptop";
const PMK: &str = "b4b6e4eb3ba1d7c5b0a7e4e6a2a2f2a8b0f2f1a5c3e5b9a9d8c7b6a5f4e3d2c1";

fn user_data() -> String {
    format!(
        "#cloud-config\nmanage_resolv_conf: false\n\nhostname: hall-3\nmanage_etc_hosts: true\n\
         packages:\n- avahi-daemon\napt:\n  preserve_sources_list: true\n  conf: |\n    Acquire {{\n\
         \x20     Check-Date \"false\";\n    }};\ntimezone: Europe/Berlin\nkeyboard:\n  model: pc105\n\
         \x20 layout: \"de\"\nuser:\n  name: stand\n  shell: /bin/bash\n  lock_passwd: false\n\
         \x20 passwd: \"{HASH}\"\n  ssh_authorized_keys:\n    - \"{KEY}\"\n\
         \x20 sudo: null\nssh_pwauth: false\nruncmd:\n  - [ systemctl, enable, --now, ssh ]\n"
    )
}

fn network_config(ap: &str) -> String {
    format!(
        "network:\n  version: 2\n  ethernets:\n    eth0:\n      dhcp4: true\n      dhcp6: true\n\
         \x20     optional: true\n  wifis:\n    wlan0:\n      dhcp4: true\n      regulatory-domain: \"DE\"\n\
         \x20     access-points:\n        \"Hall \\\"3\\\"\":\n{ap}      optional: true\n"
    )
}

fn boot(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

fn settings(found: &Found) -> Config {
    Config::from_stack(Layers::BuiltIn, &[found.layer.as_ref().unwrap()]).unwrap()
}

#[test]
fn imagers_cloud_init_files_set_the_box_up() {
    let ap = format!("          password: \"{PMK}\"\n");
    let dir = boot(&[
        ("meta-data", "instance-id: rpi-imager-1764979200000\n"),
        ("user-data", &user_data()),
        ("network-config", &network_config(&ap)),
    ]);
    let found = read(dir.path());
    let cfg = settings(&found);
    assert_eq!(cfg.appliance.name, "hall-3");
    assert_eq!(cfg.appliance.time_zone, "Europe/Berlin");
    assert_eq!(cfg.console.password_hash.as_deref(), Some(HASH));
    assert_eq!(cfg.dashboard.password_hash.as_deref(), Some(HASH));
    assert_eq!(cfg.network.wifi.country.as_deref(), Some("DE"));
    let net = &cfg.network.wifi.networks[0];
    assert_eq!(net.ssid, "Hall \"3\"");
    assert_eq!(net.psk.as_ref().unwrap().expose(), PMK);
    assert!(net.passphrase.is_none() && !net.hidden);
    let line = found.line.unwrap();
    assert!(
        line.contains(
            "name hall-3, password, SSH keys 1, Wi-Fi \"Hall \\\"3\\\"\", country DE, time zone Europe/Berlin"
        ),
        "{line}"
    );
    assert!(
        line.contains("not used by o4send: keyboard layout"),
        "{line}"
    );
    assert_eq!(cfg.console.ssh_keys, [KEY]);
}

#[test]
fn an_open_or_hidden_network_and_a_form_without_a_network() {
    let open = "          auth:\n            key-management: none\n          hidden: true\n";
    let dir = boot(&[("network-config", &network_config(open))]);
    let net = settings(&read(dir.path())).network.wifi.networks[0].clone();
    assert!(net.psk.is_none() && net.hidden);
    let dir = boot(&[(
        "user-data",
        "#cloud-config\nmanage_resolv_conf: false\ntimezone: Asia/Tokyo\n",
    )]);
    let cfg = settings(&read(dir.path()));
    assert_eq!(cfg.appliance.time_zone, "Asia/Tokyo");
    assert!(cfg.network.wifi.networks.is_empty() && cfg.console.password_hash.is_none());
}

#[test]
fn imagers_preseed_file_sets_the_box_up() {
    let preseed = format!(
        "config_version = \"1.0\"\n\n[system]\nhostname = \"hall-3\"\n\n[user]\nname = \"stand\"\n\
         password = \"{HASH}\"\npassword_encrypted = true\ngroups = [\"sudo\"]\n\n[ssh]\nenabled = true\n\
         password_authentication = false\nauthorized_keys = [\n  \"{KEY}\",\n]\n\n\
         [wlan]\nssid = \"Hall 3\"\npassword = \"{PMK}\"\npassword_encrypted = true\nhidden = false\n\
         country = \"GB\"\n\n[locale]\nkeymap = \"gb\"\ntimezone = \"Europe/London\"\n\n\
         [interfaces]\nusb_gadget = true"
    );
    let found = read(boot(&[("rpi-preseed.toml", &preseed)]).path());
    let cfg = settings(&found);
    assert_eq!(cfg.appliance.name, "hall-3");
    assert_eq!(cfg.appliance.time_zone, "Europe/London");
    assert_eq!(cfg.dashboard.password_hash.as_deref(), Some(HASH));
    assert_eq!(cfg.network.wifi.country.as_deref(), Some("GB"));
    assert_eq!(
        cfg.network.wifi.networks[0].psk.as_ref().unwrap().expose(),
        PMK
    );
    assert!(found.line.unwrap().contains("SSH keys 1"));
    assert_eq!(cfg.console.ssh_keys, [KEY]);
}

#[test]
fn a_preseed_passphrase_in_clear_becomes_its_key() {
    let preseed = "config_version = \"1.0\"\n[wlan]\nssid = \"expo\"\npassword = \"12345678\"\n\
                   password_encrypted = false\ncountry = \"DE\"\n";
    let cfg = settings(&read(boot(&[("rpi-preseed.toml", preseed)]).path()));
    let want = hex(&crate::setup::network::pmk(b"12345678", b"expo"));
    assert_eq!(
        cfg.network.wifi.networks[0].psk.as_ref().unwrap().expose(),
        want
    );
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn what_is_not_applied_is_said_in_one_line_and_never_fails() {
    let broken = read(boot(&[("user-data", "#cloud-config\nuser: [unclosed\n")]).path());
    assert!(broken.layer.is_none());
    let line = broken.line.unwrap();
    assert!(
        line.starts_with("Imager's form not applied: ") && line.contains("user-data: not YAML"),
        "{line}"
    );
    assert!(!line.contains('\n'));

    let firstrun = read(boot(&[("firstrun.sh", "#!/bin/bash\nset +e\n")]).path());
    assert!(firstrun.layer.is_none());
    assert!(firstrun
        .line
        .unwrap()
        .contains("firstrun.sh: Imager's form for Raspberry Pi OS is not applied"));

    let no_ap = read(
        boot(&[(
            "network-config",
            "network:\n  wifis:\n    wlan0:\n      dhcp4: true\n",
        )])
        .path(),
    );
    assert!(no_ap
        .line
        .unwrap()
        .contains("network-config: wifis has no access-points"));

    let nothing = read(boot(&[("config.txt", "[all]\n")]).path());
    assert!(nothing.layer.is_none() && nothing.line.is_none());
}
