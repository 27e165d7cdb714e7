//! Checks that serde cannot express: ranges, cross-field rules, names that must resolve.
//! Each failure is one line, `key = value: why`.

use super::Config;
use std::collections::HashSet;

pub(super) fn check(cfg: &Config) -> Result<(), String> {
    appliance(cfg)?;
    radio(cfg)?;
    obex(cfg)?;
    policy(cfg)?;
    limits(cfg)?;
    watchdog(cfg)?;
    update(cfg)?;
    sync(cfg)?;
    bundle(cfg)?;
    network(cfg)?;
    hotspot(cfg)?;
    access(cfg)
}

fn bad(key: &str, value: impl std::fmt::Debug, why: &str) -> Result<(), String> {
    Err(format!("{key} = {value:?}: {why}"))
}

fn appliance(cfg: &Config) -> Result<(), String> {
    let a = &cfg.appliance;
    if a.name.is_empty() || a.name.len() > 64 || a.name.chars().any(char::is_control) {
        return bad(
            "appliance.name",
            &a.name,
            "must be 1 to 64 printable characters",
        );
    }
    if let Some(s) = &a.sender_name {
        if s.trim().is_empty() || s.len() > 248 || s.chars().any(char::is_control) {
            return bad(
                "appliance.sender_name",
                s,
                "must be 1 to 248 bytes of printable text (Bluetooth's name limit)",
            );
        }
    }
    if let Err(e) = jiff::tz::TimeZone::get(&a.time_zone) {
        return bad(
            "appliance.time_zone",
            &a.time_zone,
            &format!("unknown time zone ({e})"),
        );
    }
    Ok(())
}

fn radio(cfg: &Config) -> Result<(), String> {
    let r = &cfg.radio;
    if r.adapters.is_empty() {
        return bad("radio.adapters", "[]", "at least one adapter is needed");
    }
    let mut ids = HashSet::new();
    for (i, a) in r.adapters.iter().enumerate() {
        if a.id.trim().is_empty() {
            return bad(
                &format!("radio.adapters[{i}].id"),
                &a.id,
                "must not be empty",
            );
        }
        if !ids.insert(a.id.as_str()) {
            return bad(&format!("radio.adapters[{i}].id"), &a.id, "appears twice");
        }
        if !(1..=7).contains(&a.slots) {
            return bad(
                &format!("radio.adapters[{i}].slots"),
                a.slots,
                "must be 1 to 7 (a controller holds at most 7 links)",
            );
        }
    }
    if !r.adapters.iter().any(|a| a.role.scans()) {
        return bad("radio.adapters", "no role scan/both", "no adapter scans");
    }
    if !r.adapters.iter().any(|a| a.role.pushes()) {
        return bad("radio.adapters", "no role push/both", "no adapter pushes");
    }
    let s = &r.sim;
    if s.dwell_min_secs > s.dwell_max_secs {
        return bad(
            "radio.sim.dwell_min_secs",
            s.dwell_min_secs,
            "is larger than radio.sim.dwell_max_secs",
        );
    }
    if s.phones > 1_000_000 {
        return bad("radio.sim.phones", s.phones, "at most 1000000");
    }
    if s.mix.weights().iter().all(|w| *w == 0) {
        return bad(
            "radio.sim.mix",
            "all zero",
            "at least one behaviour needs a weight",
        );
    }
    Ok(())
}

fn obex(cfg: &Config) -> Result<(), String> {
    let o = &cfg.obex;
    for (key, v) in [
        ("obex.connect_timeout_secs", o.connect_timeout_secs),
        ("obex.decision_timeout_secs", o.decision_timeout_secs),
        ("obex.packet_timeout_secs", o.packet_timeout_secs),
    ] {
        if !(1..=600).contains(&v) {
            return bad(key, v, "must be 1 to 600 seconds");
        }
    }
    if !(255..=65535).contains(&o.max_packet) {
        return bad(
            "obex.max_packet",
            o.max_packet,
            "must be 255 to 65535 (IrOBEX limits)",
        );
    }
    Ok(())
}

fn policy(cfg: &Config) -> Result<(), String> {
    let p = &cfg.policy;
    if let Some(r) = p.min_rssi {
        if !(-127..=20).contains(&r) {
            return bad("policy.min_rssi", r, "must be -127 to 20 dBm");
        }
    }
    if p.classes.is_empty() {
        return bad(
            "policy.classes",
            "[]",
            "no device class would ever be offered anything",
        );
    }
    if let Some(both) = p.allow.iter().find(|a| p.deny.contains(a)) {
        return bad("policy.allow", both.to_string(), "is also on policy.deny");
    }
    if p.retry_base_secs == 0 {
        return bad("policy.retry_base_secs", 0, "must be at least 1");
    }
    if p.retry_base_secs > p.retry_max_secs {
        return bad(
            "policy.retry_base_secs",
            p.retry_base_secs,
            "is larger than policy.retry_max_secs",
        );
    }
    if p.retry_limit > 100 {
        return bad("policy.retry_limit", p.retry_limit, "at most 100");
    }
    Ok(())
}

fn limits(cfg: &Config) -> Result<(), String> {
    let e = &cfg.engine;
    if e.max_item_bytes == 0 || e.max_item_bytes > 1 << 30 {
        return bad(
            "engine.max_item_bytes",
            e.max_item_bytes,
            "must be 1 byte to 1 GiB",
        );
    }
    if e.forget_after_secs == 0 {
        return bad("engine.forget_after_secs", 0, "must be at least 1");
    }
    let s = &cfg.store;
    if s.max_age_days == 0 {
        return bad("store.max_age_days", 0, "must be at least 1");
    }
    if s.max_size_mb < 4 {
        return bad("store.max_size_mb", s.max_size_mb, "must be at least 4");
    }
    Ok(())
}

fn watchdog(cfg: &Config) -> Result<(), String> {
    let w = &cfg.watchdog;
    for (key, v) in [
        ("watchdog.scan_stall_secs", w.scan_stall_secs),
        ("watchdog.writer_stall_secs", w.writer_stall_secs),
    ] {
        if !(1..=3600).contains(&v) {
            return bad(key, v, "must be 1 to 3600 seconds");
        }
    }
    Ok(())
}

fn update(cfg: &Config) -> Result<(), String> {
    let u = &cfg.update;
    if !(10..=3600).contains(&u.healthy_secs) {
        return bad(
            "update.healthy_secs",
            u.healthy_secs,
            "must be 10 to 3600 seconds",
        );
    }
    if u.trial_secs < u.healthy_secs + 30 || u.trial_secs > 7200 {
        return bad(
            "update.trial_secs",
            u.trial_secs,
            "must be at least update.healthy_secs + 30 (the time to start) and at most 7200",
        );
    }
    Ok(())
}

fn sync(cfg: &Config) -> Result<(), String> {
    let s = &cfg.sync;
    if s.fleet.is_empty() || s.fleet.len() > 64 || s.fleet.chars().any(char::is_control) {
        return bad(
            "sync.fleet",
            &s.fleet,
            "must be 1 to 64 printable characters",
        );
    }
    if !(1..=5000).contains(&s.batch) {
        return bad("sync.batch", s.batch, "must be 1 to 5000 rows");
    }
    if s.interval_secs == 0 {
        return bad("sync.interval_secs", 0, "must be at least 1");
    }
    if s.backoff_max_secs == 0 {
        return bad("sync.backoff_max_secs", 0, "must be at least 1");
    }
    let Some(url) = &s.mysql_url else {
        return Ok(());
    };
    if !url.expose().starts_with("mysql://") {
        let shown = super::redact_url(url.expose());
        return bad("sync.mysql_url", shown, "must start with mysql://");
    }
    match &s.secret {
        None if !s.raw_macs => bad(
            "sync.secret",
            "none",
            "is needed to pseudonymise phones (or set sync.raw_macs = true)",
        ),
        Some(secret) if secret.expose().len() < 16 => {
            bad("sync.secret", "***", "must be at least 16 characters")
        }
        _ => Ok(()),
    }
}

fn bundle(cfg: &Config) -> Result<(), String> {
    let b = &cfg.bundle;
    for (i, key) in b.trusted_keys.iter().enumerate() {
        if let Err(why) = super::public_key(key) {
            return bad(&format!("bundle.trusted_keys[{i}]"), key, &why);
        }
    }
    if b.max_bundle_bytes == 0 || b.max_bundle_bytes > 4 << 30 {
        return bad(
            "bundle.max_bundle_bytes",
            b.max_bundle_bytes,
            "must be 1 byte to 4 GiB",
        );
    }
    Ok(())
}

fn network(cfg: &Config) -> Result<(), String> {
    let n = &cfg.network;
    for (i, server) in n.ntp.iter().enumerate() {
        if !is_host(server) {
            return bad(
                &format!("network.ntp[{i}]"),
                server,
                "is not a host name or address",
            );
        }
    }
    ethernet(&n.ethernet)?;
    wifi(&n.wifi)
}

fn ethernet(e: &super::EthernetConfig) -> Result<(), String> {
    if let Some(a) = &e.address {
        if !is_cidr(a) {
            return bad(
                "network.ethernet.address",
                a,
                "must be an address with its prefix length, e.g. 192.168.1.50/24",
            );
        }
    }
    if let Some(g) = &e.gateway {
        if g.parse::<std::net::IpAddr>().is_err() {
            return bad("network.ethernet.gateway", g, "is not an IP address");
        }
        if e.address.is_none() {
            return bad(
                "network.ethernet.gateway",
                g,
                "needs network.ethernet.address",
            );
        }
    }
    for (i, d) in e.dns.iter().enumerate() {
        if d.parse::<std::net::IpAddr>().is_err() {
            return bad(
                &format!("network.ethernet.dns[{i}]"),
                d,
                "is not an IP address",
            );
        }
    }
    Ok(())
}

fn wifi(w: &super::WifiConfig) -> Result<(), String> {
    if let Some(c) = &w.country {
        if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
            return bad(
                "network.wifi.country",
                c,
                "must be a two-letter country code in capitals, e.g. DE, GB, US",
            );
        }
    }
    if !w.networks.is_empty() && w.country.is_none() {
        return bad(
            "network.wifi.country",
            "none",
            "is needed with Wi-Fi networks (the channels and power allowed where the box stands)",
        );
    }
    for (i, net) in w.networks.iter().enumerate() {
        let key = format!("network.wifi.networks[{i}]");
        if net.ssid.is_empty() || net.ssid.len() > 32 || net.ssid.chars().any(char::is_control) {
            return bad(
                &format!("{key}.ssid"),
                &net.ssid,
                "must be 1 to 32 bytes of printable text",
            );
        }
        if let Some(p) = &net.passphrase {
            let p = p.expose();
            if !(8..=63).contains(&p.len()) || !p.bytes().all(|b| (0x20..0x7F).contains(&b)) {
                return bad(
                    &format!("{key}.passphrase"),
                    "***",
                    "must be 8 to 63 printable ASCII characters (WPA2/WPA3-personal)",
                );
            }
        }
        if let Some(k) = &net.psk {
            let k = k.expose();
            if k.len() != 64 || !k.bytes().all(|b| b.is_ascii_hexdigit()) {
                return bad(
                    &format!("{key}.psk"),
                    "***",
                    "must be 64 hex digits (the WPA2 key Raspberry Pi Imager writes)",
                );
            }
            if net.passphrase.is_some() {
                return bad(
                    &format!("{key}.psk"),
                    "***",
                    "give the passphrase or the psk, not both",
                );
            }
        }
    }
    Ok(())
}

fn hotspot(cfg: &Config) -> Result<(), String> {
    let h = &cfg.hotspot;
    if !h.enabled {
        return Ok(());
    }
    if cfg.network.wifi.country.is_none() {
        return bad(
            "network.wifi.country",
            "none",
            "is needed with the hotspot (the channels and power allowed where the box stands)",
        );
    }
    if let Some(s) = &h.ssid {
        if s.is_empty() || s.len() > 32 || s.chars().any(char::is_control) {
            return bad("hotspot.ssid", s, "must be 1 to 32 bytes of printable text");
        }
    }
    if let Some(why) = super::channel_problem(h.band, h.channel()) {
        return bad("hotspot.channel", h.channel(), why);
    }
    let d = h.address.octets()[3];
    if !h.address.is_private() || d == 0 || d == 255 {
        return bad(
            "hotspot.address",
            h.address,
            "must be a private address that is not a network or broadcast address, e.g. 10.44.0.1",
        );
    }
    if !(1..=250).contains(&h.max_visitors) {
        return bad("hotspot.max_visitors", h.max_visitors, "must be 1 to 250");
    }
    Ok(())
}

fn access(cfg: &Config) -> Result<(), String> {
    let d = &cfg.dashboard;
    if d.address.parse::<std::net::IpAddr>().is_err() {
        return bad(
            "dashboard.address",
            &d.address,
            "is not an IP address (0.0.0.0: every network)",
        );
    }
    if d.port == 0 {
        return bad("dashboard.port", 0, "must be 1 to 65535");
    }
    if d.http_port == 0 || d.http_port == d.port {
        return bad(
            "dashboard.http_port",
            d.http_port,
            "must be 1 to 65535 and not dashboard.port (the HTTPS port)",
        );
    }
    let u = d.usb_address;
    let [_, _, _, host] = u.octets();
    let hotspot_net = cfg.hotspot.address.octets()[..3] == u.octets()[..3];
    let usable = u.is_private() || u.is_loopback(); // loopback: trying the dashboard on a laptop
    if !usable || host == 0 || host == 255 || (cfg.hotspot.enabled && hotspot_net) {
        return bad(
            "dashboard.usb_address",
            u,
            "must be a private address that is not a network or broadcast address, outside the \
             hotspot's /24, e.g. 10.55.0.1",
        );
    }
    if d.session_idle_secs == 0 || d.session_idle_secs > d.session_max_secs {
        return bad(
            "dashboard.session_idle_secs",
            d.session_idle_secs,
            "must be at least 1 and at most dashboard.session_max_secs",
        );
    }
    for (i, k) in cfg.console.ssh_keys.iter().enumerate() {
        if let Some(why) = super::ssh_key_problem(k) {
            return bad(&format!("console.ssh_keys[{i}]"), shorten(k, 24), why);
        }
    }
    for (key, hash) in [
        ("console.password_hash", &cfg.console.password_hash),
        ("dashboard.password_hash", &cfg.dashboard.password_hash),
    ] {
        if let Some(why) = hash.as_deref().and_then(super::hash_problem) {
            return bad(key, shorten(hash.as_deref().unwrap_or_default(), 6), why);
        }
    }
    Ok(())
}

/// A secret or a key is shown by its first `n` characters only: enough to recognise, not to copy.
fn shorten(s: &str, n: usize) -> String {
    let head: String = s.chars().take(n).collect();
    if s.chars().count() > n {
        format!("{head}…")
    } else {
        head
    }
}

fn is_host(s: &str) -> bool {
    s.parse::<std::net::IpAddr>().is_ok()
        || (!s.is_empty()
            && s.len() <= 253
            && s.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            }))
}

fn is_cidr(s: &str) -> bool {
    let Some((addr, prefix)) = s.split_once('/') else {
        return false;
    };
    match (addr.parse::<std::net::IpAddr>(), prefix.parse::<u8>()) {
        (Ok(std::net::IpAddr::V4(_)), Ok(p)) => p <= 32,
        (Ok(std::net::IpAddr::V6(_)), Ok(p)) => p <= 128,
        _ => false,
    }
}
