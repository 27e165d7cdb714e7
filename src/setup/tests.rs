use super::*;

struct Box {
    dir: tempfile::TempDir,
    paths: SetupPaths,
}

fn appliance() -> Box {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("usr/lib/o4send")).unwrap();
    std::fs::write(
        root.join("usr/lib/o4send/shadow.image"),
        "root::1:0:99999:7:::\nbin:*:1:0:99999:7:::\n",
    )
    .unwrap();
    let image = dir.path().join("image.toml");
    std::fs::write(&image, "[appliance]\nname = \"image\"\n").unwrap();
    let paths = SetupPaths {
        image_config: image,
        boot_config: dir.path().join("boot/o4send.toml"),
        root,
    };
    Box { dir, paths }
}

impl Box {
    fn boot(&self, bytes: &[u8]) {
        std::fs::create_dir_all(self.paths.boot_config.parent().unwrap()).unwrap();
        std::fs::write(&self.paths.boot_config, bytes).unwrap();
    }
    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.paths.root.join(rel)).unwrap_or_default()
    }
    fn effective(&self) -> Config {
        Config::load(&self.paths.root.join(EFFECTIVE_CONFIG), false).unwrap()
    }
}

const GOOD: &str = "[appliance]\nname = \"Booth 7\"\nsender_name = \"Acme at Booth 7\"\n\
[console]\npassword_hash = \"$6$saltsalt$0123456789abcdefghij\"\n\
[network]\nntp = [\"192.168.50.1\"]\n[network.wifi]\ncountry = \"DE\"\n\
[[network.wifi.networks]]\nssid = \"Expo \\\"Hall\\\" 3\"\npassphrase = \"correct horse\"\n";

#[test]
fn a_good_file_is_taken_and_kept() {
    let b = appliance();
    b.boot(GOOD.replace('\n', "\r\n").as_bytes());
    let v = run(&b.paths).unwrap();
    assert!(v.ok, "{}", v.line);
    assert_eq!(
        b.read(CONFIG_STATUS).trim(),
        format!("ok: {}", b.paths.boot_config.display())
    );
    let cfg = b.effective();
    // The captive page's copy: the same settings, no secret.
    let portal = b.read(super::PORTAL_CONFIG);
    assert!(portal.contains("Acme at Booth 7"), "{portal}");
    let full = b.read(EFFECTIVE_CONFIG);
    for secret in ["$6$saltsalt$0123456789abcdefghij", "correct horse"] {
        assert!(full.contains(secret), "{secret} in force");
        assert!(
            !portal.contains(secret),
            "{secret} in the portal's copy: {portal}"
        );
    }
    assert_eq!(
        cfg.appliance.sender_name.as_deref(),
        Some("Acme at Booth 7")
    );
    assert!(b
        .read("run/o4send/shadow")
        .starts_with("root:$6$saltsalt$0123456789abcdefghij:1:"));
    assert!(b.read("run/o4send/shadow").contains("\nbin:*:"));
    let wpa = b.read(network::WPA_SUPPLICANT);
    assert!(wpa.contains("country=DE\n"), "{wpa}");
    assert!(wpa.contains("ssid=4578706f202248616c6c222033\n"), "{wpa}");
    // wpa_passphrase "Expo \"Hall\" 3" "correct horse"
    let pmk = "14e067a8a534582ebec08511f964ffecb3affa4b6353b2d749ceebf9d86bafae";
    assert!(wpa.contains(&format!("\tpsk={pmk}\n")), "{wpa}");
    assert!(
        wpa.contains("\tsae_password=636f727265637420686f727365\n"),
        "{wpa}"
    );
    assert!(!wpa.contains("correct horse"), "{wpa}");
    assert!(b.read(network::WIFI).contains("Name=wlan0"));
    assert!(b.read(network::ETHERNET).contains("DHCP=yes"));
    assert_eq!(b.read(network::TIMESYNCD), "[Time]\nNTP=192.168.50.1\n");
    assert!(b.read(crate::setup::banner::ISSUE).contains("login: root"));
    assert!(b
        .read("var/lib/o4send-setup/last-good.toml")
        .contains("Booth 7"));
}

#[test]
fn a_broken_edit_keeps_the_last_good_settings_and_names_the_mistake() {
    let b = appliance();
    b.boot(GOOD.as_bytes());
    run(&b.paths).unwrap();
    b.boot(b"[appliance]\nname = \"Booth 8\"\n[policy]\nmin_rssi = 40\n");
    let v = run(&b.paths).unwrap();
    assert!(!v.ok);
    let line = b.read(CONFIG_STATUS);
    assert!(line.starts_with(&format!(
        "{}: policy.min_rssi = 40: must be -127 to 20 dBm; running on the last good settings (saved ",
        b.paths.boot_config.display()
    )), "{line}");
    assert_eq!(line.lines().count(), 1);
    assert_eq!(b.effective().appliance.name, "Booth 7");
    assert!(b
        .read(crate::setup::banner::ISSUE)
        .contains("policy.min_rssi = 40"));
    assert!(b
        .read("var/lib/o4send-setup/last-good.toml")
        .contains("Booth 7"));
}

#[test]
fn every_kind_of_mistake_falls_back_without_failing() {
    for (bytes, names) in [
        (&b"[policy\n"[..], "o4send.toml: "),
        (b"[appliance]\nname = \"cut sh", "o4send.toml: "),
        (b"[appliance]\nnmae = \"x\"\n", "unknown field `nmae`"),
        (
            b"[appliance]\nname = \"Caf\xE9\"\n",
            "line 2: byte 0xE9 is not UTF-8",
        ),
        (
            b"[bundle]\ntrusted_keys = [\"nope\"]\n",
            "bundle.trusted_keys[0]",
        ),
        (
            b"[console]\npassword_hash = \"hunter2\"\n",
            "console.password_hash",
        ),
        (
            b"[[network.wifi.networks]]\nssid = \"x\"\npassphrase = \"short\"\n",
            "network.wifi.country",
        ),
    ] {
        let b = appliance();
        b.boot(bytes);
        let v = run(&b.paths).unwrap();
        assert!(!v.ok);
        let line = b.read(CONFIG_STATUS);
        assert!(line.contains(names), "{line}");
        assert!(
            line.trim_end().ends_with("running on the image's defaults"),
            "{line}"
        );
        assert_eq!(b.effective().appliance.name, "image");
        assert!(
            b.read("run/o4send/shadow").starts_with("root:!:"),
            "no password, no login"
        );
    }
}

#[test]
fn no_file_means_the_images_defaults_and_no_login() {
    let b = appliance();
    let v = run(&b.paths).unwrap();
    assert!(v.ok);
    assert_eq!(b.effective().appliance.name, "image");
    assert!(b.read("run/o4send/shadow").starts_with("root:!:"));
    assert!(b.read(crate::setup::banner::ISSUE).contains("login: none"));
    assert_eq!(b.read(network::WPA_SUPPLICANT), "");
    assert_eq!(b.read(network::TIMESYNCD), "");
    drop(b.dir);
}

#[test]
fn taking_wifi_out_takes_its_files_away() {
    let b = appliance();
    b.boot(GOOD.as_bytes());
    run(&b.paths).unwrap();
    b.boot(b"[appliance]\nname = \"Booth 7\"\n");
    run(&b.paths).unwrap();
    assert!(!b.paths.root.join(network::WPA_SUPPLICANT).exists());
    assert!(!b.paths.root.join(network::WIFI).exists());
    assert!(!b.paths.root.join(network::TIMESYNCD).exists());
}

#[test]
fn the_hotspot_takes_the_radio_and_gives_it_back() {
    let b = appliance();
    b.boot(GOOD.as_bytes());
    run(&b.paths).unwrap();
    assert!(b.read(network::WPA_SUPPLICANT).contains("country=DE"));
    // The campaign names the network when the operator did not.
    let content = b.dir.path().join("content");
    std::fs::create_dir_all(&content).unwrap();
    std::fs::write(
        content.join("campaign.toml"),
        "name = \"Spring fair\"\n[[items]]\nfile = \"a.pdf\"\n",
    )
    .unwrap();
    std::fs::write(content.join("a.pdf"), b"%PDF").unwrap();
    let hotspot = format!(
        "[appliance]\nname = \"Booth 7\"\ncontent_dir = \"{}\"\n[network.wifi]\ncountry = \"DE\"\n[hotspot]\nenabled = true\n",
        content.display()
    );
    b.boot(hotspot.as_bytes());
    let v = run(&b.paths).unwrap();
    assert!(v.ok, "{}", v.line);
    let hex: String = "Spring fair".bytes().map(|c| format!("{c:02x}")).collect();
    assert!(b
        .read(crate::hotspot::HOSTAPD)
        .contains(&format!("ssid2={hex}\n")));
    assert!(b
        .read(crate::hotspot::DNSMASQ)
        .contains("address=/#/10.44.0.1\n"));
    assert!(b
        .read(crate::hotspot::FIREWALL)
        .contains("table inet o4send_hotspot"));
    assert!(b
        .read(crate::hotspot::NETWORK)
        .contains("Address=10.44.0.1/24"));
    assert!(!b.paths.root.join(network::WPA_SUPPLICANT).exists());
    assert!(!b.paths.root.join(network::WIFI).exists());
    b.boot(GOOD.as_bytes());
    run(&b.paths).unwrap();
    for gone in [
        crate::hotspot::HOSTAPD,
        crate::hotspot::DNSMASQ,
        crate::hotspot::FIREWALL,
        crate::hotspot::NETWORK,
    ] {
        assert!(
            !b.paths.root.join(gone).exists(),
            "{gone} stayed after the hotspot was turned off"
        );
    }
    assert!(b.read(network::WIFI).contains("DHCP=yes"));
}

#[test]
fn imagers_form_sits_under_o4send_toml_and_names_the_box() {
    let b = appliance();
    let boot = b.paths.boot_config.parent().unwrap().to_path_buf();
    std::fs::create_dir_all(&boot).unwrap();
    std::fs::write(
        boot.join("user-data"),
        "#cloud-config\nhostname: hall-3\ntimezone: Europe/Berlin\nuser:\n  name: stand\n  \
         lock_passwd: false\n  passwd: \"$5$saltsalt$zO1IOGIVL5uHX50B4vMGZ77FOhmbS3x5rxpIEGyGAN6\"\n",
    )
    .unwrap();
    let kernel = b.paths.root.join(identity::HOSTNAME);
    let v = run(&b.paths).unwrap();
    assert!(v.ok, "{}", v.line);
    assert_eq!(v.config.appliance.name, "hall-3");
    assert_eq!(std::fs::read_to_string(&kernel).unwrap(), "hall-3\n");
    assert!(
        v.line.contains("Imager's form (") && v.line.contains("time zone Europe/Berlin"),
        "{}",
        v.line
    );
    assert!(
        b.read("run/o4send/shadow").contains("$5$saltsalt$"),
        "the console gets Imager's password"
    );

    b.boot(b"[appliance]\nname = \"Booth 7\"\ntime_zone = \"UTC\"\n");
    let v = run(&b.paths).unwrap();
    assert_eq!(v.config.appliance.name, "Booth 7", "o4send.toml wins");
    assert_eq!(v.config.appliance.time_zone, "UTC");
    assert!(
        v.config.dashboard.password_hash.is_some(),
        "Imager's password stays"
    );
    assert_eq!(std::fs::read_to_string(&kernel).unwrap(), "booth-7\n");
}

#[test]
fn a_form_the_settings_refuse_is_left_out_and_the_box_keeps_its_settings() {
    let b = appliance();
    b.boot(GOOD.as_bytes());
    let boot = b.paths.boot_config.parent().unwrap();
    std::fs::write(
        boot.join("user-data"),
        "#cloud-config\ntimezone: Mars/Olympus_Mons\n",
    )
    .unwrap();
    let v = run(&b.paths).unwrap();
    assert!(v.ok, "{}", v.line);
    assert_eq!(v.config.appliance.name, "Booth 7");
    assert!(v.line.contains("ok: "), "{}", v.line);
    assert!(
        v.line.contains("Imager's form not applied: ") && v.line.contains("Mars/Olympus_Mons"),
        "{}",
        v.line
    );
}

#[test]
fn an_unnamed_box_is_named_after_its_board() {
    let b = appliance();
    std::fs::write(b.dir.path().join("image.toml"), "").unwrap();
    let dt = b.paths.root.join("proc/device-tree");
    std::fs::create_dir_all(&dt).unwrap();
    std::fs::write(dt.join("serial-number"), "10000000b41c9e07\0").unwrap();
    assert_eq!(run(&b.paths).unwrap().config.appliance.name, "o4send-9e07");
}

#[test]
fn ssh_keys_open_root_over_ssh_and_none_shut_it() {
    use std::os::unix::fs::PermissionsExt;
    let key =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHbP3Vbi1hX2r5uG0dO8HqJZ9R0nq9t4sJ0rPqZ5yL1c stand@laptop";
    let b = appliance();
    b.boot(format!("[console]\nssh_keys = [\"{key}\"]\n").as_bytes());
    assert!(run(&b.paths).unwrap().ok);
    assert_eq!(b.read(ssh::AUTHORIZED_KEYS), format!("{key}\n"));
    let mode = std::fs::metadata(b.paths.root.join(ssh::AUTHORIZED_KEYS))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // A key cut short in a copy and paste is named, and the box stays on the last good file.
    b.boot(format!("[console]\nssh_keys = [\"{}\"]\n", &key[..40]).as_bytes());
    let v = run(&b.paths).unwrap();
    assert!(
        v.line
            .contains("console.ssh_keys[0] = \"ssh-ed25519 AAAAC3NzaC1l…\": is cut short"),
        "{}",
        v.line
    );
    assert_eq!(b.read(ssh::AUTHORIZED_KEYS), format!("{key}\n"));
    b.boot(GOOD.as_bytes());
    run(&b.paths).unwrap();
    assert!(!b.paths.root.join(ssh::AUTHORIZED_KEYS).exists());
}
