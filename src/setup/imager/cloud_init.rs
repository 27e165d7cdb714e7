//! Imager's `cloudinit` format: `user-data` (`#cloud-config`: host name, time zone, keyboard, the
//! user with its password hash and SSH keys) and `network-config` (netplan version 2: one Wi-Fi
//! network with its PMK and the regulatory domain), exactly the shapes Imager 2.x writes
//! (rpi-imager `src/customization_generator.cpp`). cloud-init itself is not on the box: these
//! two files are only read, with a YAML parser, for the keys Imager writes.

use super::form::{Form, Wifi};
use yaml_rust2::{Yaml, YamlLoader};

/// `user-data`'s answers into `form`.
pub fn user_data(text: &str, form: &mut Form) -> Result<(), String> {
    let doc = parse(text)?;
    form.host_name = scalar(&doc["hostname"]);
    form.time_zone = scalar(&doc["timezone"]);
    let user = &doc["user"];
    if user["lock_passwd"].as_bool() != Some(true) {
        form.password_hash = scalar(&user["passwd"]);
    }
    if let Some(keys) = user["ssh_authorized_keys"].as_vec() {
        form.ssh_keys = keys.iter().filter_map(scalar).collect();
    }
    if !doc["keyboard"].is_badvalue() {
        form.unused.push("keyboard layout");
    }
    Ok(())
}

/// `network-config`'s Wi-Fi network and country into `form`.
pub fn network_config(text: &str, form: &mut Form) -> Result<(), String> {
    let doc = parse(text)?;
    let Some(wifis) = doc["network"]["wifis"].as_hash() else {
        return Ok(());
    };
    let Some(wlan) = wifis.values().next() else {
        return Ok(());
    };
    form.country = scalar(&wlan["regulatory-domain"]);
    let Some((ssid, ap)) = wlan["access-points"]
        .as_hash()
        .and_then(|h| h.iter().next())
    else {
        return Err("wifis has no access-points".into());
    };
    let ssid = scalar(ssid).ok_or("an access point without a name")?;
    form.wifi = Some(Wifi {
        ssid,
        psk: scalar(&ap["password"]),
        hidden: ap["hidden"].as_bool() == Some(true),
    });
    Ok(())
}

fn parse(text: &str) -> Result<Yaml, String> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| format!("not YAML: {e}"))?;
    docs.into_iter().next().ok_or_else(|| "empty".to_string())
}

/// A scalar as text (YAML reads `hostname: 1234` as a number).
fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.trim().to_string()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
    .filter(|s| !s.is_empty())
}
