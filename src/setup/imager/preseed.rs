//! Imager's `rpi-preseed` format (Imager 2.0.11 and later): one `rpi-preseed.toml`, the keys
//! rpi-imager's `generateRpiPreseedToml` writes. Keys o4send has no use for (`[connect]`,
//! `[interfaces]`, `groups`) are read past.

use super::form::{Form, Wifi};
use crate::setup::network::{hex, pmk};
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(default)]
struct Preseed {
    system: System,
    user: User,
    ssh: Ssh,
    wlan: Option<Wlan>,
    locale: Locale,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct System {
    hostname: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct User {
    password: Option<String>,
    password_encrypted: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Ssh {
    authorized_keys: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Wlan {
    ssid: Option<String>,
    ssid_hex: Option<String>,
    password: Option<String>,
    password_encrypted: bool,
    hidden: bool,
    country: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Locale {
    keymap: Option<String>,
    timezone: Option<String>,
}

/// `rpi-preseed.toml`'s answers into `form`.
pub fn read(text: &str, form: &mut Form) -> Result<(), String> {
    let p: Preseed = toml::from_str(text).map_err(|e| crate::config::one_line(&e.to_string()))?;
    form.host_name = p.system.hostname;
    form.time_zone = p.locale.timezone;
    form.password_hash = match (p.user.password, p.user.password_encrypted) {
        (Some(hash), true) => Some(hash),
        (Some(clear), false) => Some(crate::config::password::hash(&clear)?),
        (None, _) => None,
    };
    form.ssh_keys = p.ssh.authorized_keys;
    if p.locale.keymap.is_some() {
        form.unused.push("keyboard layout");
    }
    if let Some(w) = p.wlan {
        form.country = w.country.clone();
        form.wifi = wifi(w, form)?;
    }
    Ok(())
}

fn wifi(w: Wlan, form: &mut Form) -> Result<Option<Wifi>, String> {
    let ssid = match (w.ssid, w.ssid_hex) {
        (Some(s), _) => s,
        (None, Some(h)) => match decode_hex(&h).and_then(|b| String::from_utf8(b).ok()) {
            Some(s) => s,
            None => {
                form.unused.push("a Wi-Fi name that is not text");
                return Ok(None);
            }
        },
        (None, None) => return Err("[wlan] has no ssid".into()),
    };
    let psk = match (w.password, w.password_encrypted) {
        (Some(k), true) => Some(k),
        (Some(pass), false) => Some(hex(&pmk(pass.as_bytes(), ssid.as_bytes()))),
        (None, _) => None,
    };
    Ok(Some(Wifi {
        ssid,
        psk,
        hidden: w.hidden,
    }))
}

fn decode_hex(h: &str) -> Option<Vec<u8>> {
    use ct_codecs::Decoder;
    ct_codecs::Hex::decode_to_vec(h, None).ok()
}
