//! What Raspberry Pi Imager's "OS customisation" form asked for, whichever file format carried
//! it, and the settings layer it becomes: the box's name, the password (console and dashboard),
//! the SSH keys, one Wi-Fi network, the country and the time zone. What the form holds that o4send has no use
//! for is named, so the operator learns it was seen and not applied.

use std::fmt::Write;

/// One Wi-Fi network as Imager writes it: its key is the WPA2 PMK (64 hex digits), never the
/// passphrase; none for an open network.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Wifi {
    pub ssid: String,
    pub psk: Option<String>,
    pub hidden: bool,
}

/// The form's answers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Form {
    pub host_name: Option<String>,
    pub password_hash: Option<String>,
    pub wifi: Option<Wifi>,
    pub country: Option<String>,
    pub time_zone: Option<String>,
    /// OpenSSH public keys for root's login over SSH.
    pub ssh_keys: Vec<String>,
    /// Answers read and not applied, in words (`keyboard layout`).
    pub unused: Vec<&'static str>,
}

impl Form {
    /// Whether the form set anything at all.
    pub fn is_empty(&self) -> bool {
        *self == Form::default()
    }

    /// The settings layer, as TOML over the image's defaults and under `o4send.toml`.
    pub fn to_toml(&self) -> String {
        let mut root = toml::Table::new();
        let mut put = |path: &[&str], value: toml::Value| insert(&mut root, path, value);
        if let Some(name) = &self.host_name {
            put(&["appliance", "name"], name.as_str().into());
        }
        if let Some(tz) = &self.time_zone {
            put(&["appliance", "time_zone"], tz.as_str().into());
        }
        if let Some(hash) = &self.password_hash {
            put(&["console", "password_hash"], hash.as_str().into());
            put(&["dashboard", "password_hash"], hash.as_str().into());
        }
        if !self.ssh_keys.is_empty() {
            put(&["console", "ssh_keys"], self.ssh_keys.clone().into());
        }
        if let Some(country) = &self.country {
            put(&["network", "wifi", "country"], country.as_str().into());
        }
        if let Some(w) = &self.wifi {
            put(&["network", "wifi", "networks"], vec![network(w)].into());
        }
        toml::to_string(&root).expect("strings and tables have a TOML form")
    }

    /// What was applied, in a few words: `name hall-3, password, Wi-Fi "Hall", country DE`.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if let Some(n) = &self.host_name {
            parts.push(format!("name {n}"));
        }
        if self.password_hash.is_some() {
            parts.push("password".to_string());
        }
        if !self.ssh_keys.is_empty() {
            parts.push(format!("SSH keys {}", self.ssh_keys.len()));
        }
        if let Some(w) = &self.wifi {
            parts.push(format!("Wi-Fi {:?}", w.ssid));
        }
        if let Some(c) = &self.country {
            parts.push(format!("country {c}"));
        }
        if let Some(tz) = &self.time_zone {
            parts.push(format!("time zone {tz}"));
        }
        let mut s = if parts.is_empty() {
            "nothing".to_string()
        } else {
            parts.join(", ")
        };
        if !self.unused.is_empty() {
            let _ = write!(s, "; not used by o4send: {}", self.unused.join(", "));
        }
        s
    }
}

fn network(w: &Wifi) -> toml::Value {
    let mut t = toml::Table::new();
    t.insert("ssid".into(), w.ssid.as_str().into());
    if let Some(psk) = &w.psk {
        t.insert("psk".into(), psk.as_str().into());
    }
    t.insert("hidden".into(), w.hidden.into());
    t.into()
}

fn insert(root: &mut toml::Table, path: &[&str], value: toml::Value) {
    let (last, parents) = path.split_last().expect("a key");
    let mut table = root;
    for p in parents {
        table = table
            .entry(p.to_string())
            .or_insert_with(|| toml::Table::new().into())
            .as_table_mut()
            .expect("only tables on the way");
    }
    table.insert(last.to_string(), value);
}
