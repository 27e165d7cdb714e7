//! The `[console]` and `[dashboard]` sections: who may log in. Passwords are kept only as crypt
//! hashes (the operator makes one on a laptop, docs/flashing.md says how), never in clear: the
//! boot partition is readable by anyone who holds the card.
//!
//! With no console hash there is no login at all on any console; the banner still shows the
//! appliance's status line.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleConfig {
    /// root's password on the HDMI and serial consoles, as a crypt hash.
    pub password_hash: Option<String>,
    /// OpenSSH public keys that may log in as root over SSH (keys only, never a password);
    /// none: no SSH server runs.
    pub ssh_keys: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DashboardConfig {
    /// The operator's dashboard password, as a crypt hash. None: the first visit chooses one
    /// (`web::first_visit`).
    pub password_hash: Option<String>,
    /// Where the dashboard listens: the operator's network (Ethernet or Wi-Fi client).
    pub address: String,
    /// The dashboard over HTTPS, with the box's own certificate (`web::tls`).
    pub port: u16,
    /// Plain HTTP, for a browser that was given the box's name without `https://`.
    pub http_port: u16,
    /// What plain HTTP does: send the browser to HTTPS, or serve the dashboard in clear.
    pub http: PlainHttp,
    /// A session ends after this long without a request, and after `session_max_secs` anyway.
    pub session_idle_secs: u64,
    pub session_max_secs: u64,
    /// The box's address on the USB cable link to a laptop (Pi 4, Zero 2 W); the laptop gets
    /// one of the rest of its /24. A first visit over this link needs no code: the cable is
    /// the proof of being at the box.
    pub usb_address: std::net::Ipv4Addr,
}

impl Default for DashboardConfig {
    fn default() -> Self {
        DashboardConfig {
            password_hash: None,
            address: "0.0.0.0".into(),
            port: 8443,
            http_port: 8080,
            http: PlainHttp::Redirect,
            session_idle_secs: 1800,
            session_max_secs: 12 * 3600,
            usb_address: std::net::Ipv4Addr::new(10, 55, 0, 1),
        }
    }
}

/// What the dashboard's plain-HTTP port does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlainHttp {
    /// Every request is sent to the same page over HTTPS (`/health` alone is answered).
    #[default]
    Redirect,
    /// The whole dashboard in clear text too, each page saying so: the password and the session
    /// can be read by anyone on the network (for a browser that refuses self-signed certificates).
    Serve,
}

/// The crypt schemes the console's `login` (libxcrypt) checks, by their prefix.
const SCHEMES: [(&str, &str); 5] = [
    ("$6$", "SHA-512"),
    ("$5$", "SHA-256"),
    ("$y$", "yescrypt"),
    ("$2b$", "bcrypt"),
    ("$2y$", "bcrypt"),
];

/// Why `hash` is not a crypt hash login can check, or None.
pub fn hash_problem(hash: &str) -> Option<&'static str> {
    if !SCHEMES.iter().any(|(prefix, _)| hash.starts_with(prefix)) {
        return Some(
            "is not a password hash: make one with `o4send passwd`, `openssl passwd -6` or \
             `mkpasswd` (it starts with $6$, $5$, $y$ or $2b$; docs/flashing.md)",
        );
    }
    let printable = hash
        .chars()
        .all(|c| c.is_ascii_graphic() && c != ':' && c != '\\');
    if !printable || hash.len() < 20 || hash.split('$').count() < 4 {
        return Some("is not a whole crypt hash (cut short, or holds a ':' or a space)");
    }
    None
}
