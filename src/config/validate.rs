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
    sync(cfg)?;
    bundle(cfg)
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
        if let Err(why) = crate::content::bundle::TrustedKey::parse(key) {
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
