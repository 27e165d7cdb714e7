//! The commented `o4send.toml` the image puts on the card's boot partition for the operator to
//! edit (`board/common/boot/o4send.toml`, printed by `o4send config template`). Every setting an
//! operator needs is there, commented out, so the file as shipped changes nothing. A test keeps
//! the board's copy equal to this text and proves it loads.

pub const OPERATOR_TEMPLATE: &str = r#"# o4send — the settings of this appliance.
#
# This file is on the card's boot partition, the one your laptop shows after flashing. Edit it
# with any text editor (Notepad, TextEdit), save, put the card back and switch the box on.
# A line that starts with # is a comment; remove the # in front of a setting to use it.
# A line like  # time_zone = "UTC"  shows the value the box uses while it stays commented (the
# default). A line like  # e.g. sender_name = "Booth 12"  is an example: remove the # and the
# e.g. in front of it and put in your own value.
#
# A mistake never stops the box: it keeps running on the last settings that worked and names
# the mistake (file, setting, value, why) on the screen it is plugged into and in
# `o4send status`. The box never writes to this partition.
# Check the file on a laptop before you go: o4send config check o4send.toml
#
# What you filled in Raspberry Pi Imager's form (host name, password, Wi-Fi, country, time zone)
# is applied too; a setting made here wins over the form's.

[appliance]
# This box's name in reports, in the fleet database and on the network (<name>.local).
# Without it: the host name from Imager's form, else o4send- and four characters of the
# board's serial number.
# e.g. name = "hall3-booth"
# The name phones show when they are offered the file ("Booth 12 wants to send you a file").
# Without it, the campaign's own sender name is used.
# e.g. sender_name = "Booth 12"
# Time zone of the campaign's dates and daily hours (IANA name, such as "Europe/Berlin").
# time_zone = "UTC"

[bundle]
# Content sticks are only accepted when signed by one of these keys: the line of letters in the
# o4send.pub file that `o4send bundle keygen` made on your laptop (docs/bundles.md).
# e.g. trusted_keys = ["RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3"]

[policy]
# Ignore phones heard more weakly than this (dBm): -70 is a few metres, -90 the whole hall.
# e.g. min_rssi = -85
# Which devices are offered the file: phone, computer, audio_video, wearable, peripheral, ...
# classes = ["phone"]
# Your own test phones: offered the file again and again (Bluetooth addresses).
# e.g. allow = ["00:11:22:33:44:55"]
# Never contacted: staff phones, visitors who asked not to be.
# e.g. deny = ["66:77:88:99:AA:BB"]
# A phone that let the question time out is not asked again (false: ask again after an hour).
# ignored_is_answer = true
# After a phone declines one file, offer it the campaign's next one.
# offer_next_after_decline = false

[network]
# The network settings below take effect when the box starts.
# Time servers. The box has no clock battery: it sets its clock from these when online.
# Without any (the default), systemd-timesyncd's own servers.
# e.g. ntp = ["pool.ntp.org"]

[network.ethernet]
# The network cable asks for an address by DHCP. For a fixed address instead:
# e.g. address = "192.168.1.50/24"
# e.g. gateway = "192.168.1.1"
# e.g. dns = ["192.168.1.1"]

[network.wifi]
# Your country (two letters): Wi-Fi channels and power differ by country. Needed for Wi-Fi.
# e.g. country = "DE"

# One block per Wi-Fi network the box may join (WPA2 or WPA3 with a password); copy the block
# for more. The first network in reach is used.
# e.g. [[network.wifi.networks]]
# e.g. ssid = "Expo-Staff"
# e.g. passphrase = "correct horse battery staple"

[hotspot]
# An open Wi-Fi network for visitors: joining it shows a page with your files, for the phones
# Bluetooth cannot reach (iPhones, Androids not in pairing mode). Print the poster from the
# dashboard: its QR codes join this network and open the page. Needs network.wifi.country above.
# With [[network.wifi.networks]] too, the radio serves both on the joined network's channel where
# it can (every Pi's can; the banner says so), else the hotspot alone: then the cable is the uplink.
# enabled = false
# The network's name. Without it, the campaign's name.
# e.g. ssid = "Booth 12 - free flyer"
# "auto": 5 GHz where the board's radio has it (Pi 3 B+, 4, 400), which keeps Wi-Fi out of
# Bluetooth's way, else 2.4 GHz (Pi 3 B, Zero 2 W); "5" or "2.4" to choose.
# band = "auto"

[sync]
# Copy the log to a central MySQL/MariaDB whenever a network is there (docs/mysql.md).
# e.g. mysql_url = "mysql://o4send@db.example.org:3306/o4send?require_ssl=true"
# e.g. password = "the database password"
# The same secret on every box of the fleet: phones leave the box only as pseudonyms.
# e.g. secret = "at least sixteen characters"
# Boxes with the same fleet name never ask a phone another box already asked.
# fleet = "default"

[console]
# root's password for a keyboard and screen plugged into the box. Without one, nobody can log
# in at all. Not the password itself: its hash, made on your laptop (docs/flashing.md):
#   Windows:  .\o4send.exe passwd   (the release's o4send-<version>-windows-x86_64.exe)
#   macOS:    ./o4send passwd, or htpasswd -nB x | cut -d: -f2
#   Linux:    openssl passwd -6, or o4send passwd
# e.g. password_hash = "$6$..."
# SSH: the public keys (whole lines of your .pub files) that may log in as root over SSH, with
# the key only (never a password). Without any, no SSH server runs. Imager's SSH keys land here.
# e.g. ssh_keys = ["ssh-ed25519 AAAAC3Nza... you@laptop"]

[dashboard]
# The operator's web dashboard, https://<this box's name>.local:8443/ from a browser. Its password:
# Imager's, or a hash made as above, or else chosen at the first visit, with the code on the box's
# screen, or over a USB cable from your laptop to the box without one (docs/dashboard.md).
# e.g. password_hash = "$6$..."
# The box on the USB cable link (Pi 4: the USB-C port; Zero 2 W: the USB port), at this address.
# usb_address = "10.55.0.1"
"#;

#[cfg(test)]
mod tests {
    use super::OPERATOR_TEMPLATE;
    use crate::config::{Config, Layers, OperatorFile};

    #[test]
    fn the_boards_copy_is_this_text() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/board/common/boot/o4send.toml");
        assert_eq!(std::fs::read_to_string(path).unwrap(), OPERATOR_TEMPLATE);
    }

    #[test]
    fn as_shipped_it_changes_nothing() {
        let op = OperatorFile {
            path: "/boot/o4send.toml".into(),
            text: OPERATOR_TEMPLATE.into(),
        };
        assert_eq!(
            Config::from_layers(Layers::BuiltIn, Some(&op)).unwrap(),
            Config::default()
        );
    }

    #[test]
    fn every_example_line_is_a_valid_setting() {
        // Uncommenting every `# key = value` and `# e.g. key = value` line (and the Wi-Fi block)
        // gives a config that loads.
        let text: String = OPERATOR_TEMPLATE
            .lines()
            .map(|l| match setting(l) {
                Some((rest, _)) => rest,
                None => l,
            })
            .map(|l| format!("{l}\n"))
            .collect();
        let text = text.replace("\"$6$...\"", &format!("\"$6$saltsalt${}\"", "x".repeat(30)));
        let key = "AAAAC3NzaC1lZDI1NTE5AAAAIHbP3Vbi1hX2r5uG0dO8HqJZ9R0nq9t4sJ0rPqZ5yL1c";
        let text = text.replace("AAAAC3Nza...", key);
        let op = OperatorFile {
            path: "/boot/o4send.toml".into(),
            text,
        };
        if let Err(e) = Config::from_layers(Layers::BuiltIn, Some(&op)) {
            panic!("{e}");
        }
    }

    /// A commented setting: its text without the comment, and whether it is an example.
    fn setting(line: &str) -> Option<(&str, bool)> {
        let (rest, example) = match line.strip_prefix("# e.g. ") {
            Some(rest) => (rest, true),
            None => (line.strip_prefix("# ")?, false),
        };
        let is_setting = rest.starts_with("[[")
            || rest
                .split_once(" = ")
                .is_some_and(|(k, _)| k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
        is_setting.then_some((rest, example))
    }

    #[test]
    fn a_commented_setting_shows_its_default() {
        // "Every `# key = value` keeps the value shown": each such line is `o4send config
        // default`'s value for that key (issue 27: the template showed Europe/Berlin and -85).
        let defaults: toml::Table = toml::from_str(crate::config::DEFAULT_TOML).unwrap();
        let mut section: Vec<String> = Vec::new();
        let mut checked = 0;
        for line in OPERATOR_TEMPLATE.lines() {
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = name.split('.').map(str::to_string).collect();
                continue;
            }
            let Some((text, false)) = setting(line) else {
                continue;
            };
            let shown: toml::Table = toml::from_str(text).unwrap();
            let (key, value) = shown.iter().next().unwrap();
            let mut table = &defaults;
            for part in &section {
                table = table[part.as_str()].as_table().unwrap();
            }
            let default = table.get(key).unwrap_or_else(|| {
                panic!("{line}: [{}] has no default for {key}", section.join("."))
            });
            assert_eq!(value, default, "{line}: the default is {default}");
            checked += 1;
        }
        assert!(checked >= 7, "only {checked} settings checked");
    }
}
