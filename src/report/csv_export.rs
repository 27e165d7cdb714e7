//! The CSV export: every attempt, every visit, or every hotspot visit and download of a period,
//! one row each, for a spreadsheet.
//! Phones are named as the fleet database names them (the fleet secret's pseudonym), or by a
//! secret of this appliance's own when it has no fleet, and by their address only with
//! `sync.raw_macs`. A device name that a spreadsheet would run as a formula is quoted first.

use crate::config::Config;
use crate::store::Reader;
use crate::sync::pseudonym::PhoneKey;
use std::io::Write;
use std::path::Path;

/// What to export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rows {
    Attempts,
    Visits,
    /// What phones did on the hotspot's captive page.
    Wifi,
}

const LOCAL_SECRET: &str = "export-secret";

/// How phones are named in exports under `cfg` (may create the appliance's own secret).
pub fn phone_key(cfg: &Config) -> Result<PhoneKey, String> {
    if cfg.sync.raw_macs {
        return Ok(PhoneKey::Raw);
    }
    if let Some(key) = PhoneKey::for_sync(&cfg.sync) {
        return Ok(key);
    }
    local_secret(&cfg.appliance.data_dir).map(PhoneKey::Hmac)
}

fn local_secret(data_dir: &Path) -> Result<Vec<u8>, String> {
    let path = data_dir.join(LOCAL_SECRET);
    if let Ok(bytes) = std::fs::read(&path) {
        if bytes.len() >= 32 {
            return Ok(bytes);
        }
    }
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| format!("no random numbers: {e}"))?;
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let tmp = data_dir.join(format!(".{LOCAL_SECRET}.tmp"));
    std::fs::write(&tmp, &hex)
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(hex.into_bytes())
}

/// Writes the rows of `[from_ms, to_ms)` as CSV with a header line.
pub fn write(
    reader: &Reader,
    rows: Rows,
    from_ms: i64,
    to_ms: i64,
    key: &PhoneKey,
    out: impl Write,
) -> Result<(), String> {
    let mut w = csv::Writer::from_writer(out);
    let fail = |e: csv::Error| e.to_string();
    match rows {
        Rows::Attempts => {
            w.write_record([
                "id",
                "phone",
                "device_name",
                "item",
                "item_sha256",
                "campaign",
                "radio",
                "started",
                "ended",
                "outcome",
                "reason",
                "bytes",
                "clock_synced",
            ])
            .map_err(fail)?;
            reader.each_attempt(from_ms, to_ms, &mut |a| {
                w.write_record([
                    a.id.to_string(),
                    key.phone_text(&a.addr),
                    cell(a.name.as_deref()),
                    cell(Some(&a.item_name)),
                    a.item_hash,
                    cell(Some(&a.campaign)),
                    a.radio,
                    time(a.started_ms),
                    time(a.ended_ms),
                    a.outcome,
                    cell(Some(&a.reason)),
                    a.bytes.to_string(),
                    a.clock_synced.to_string(),
                ])
                .map_err(fail)
            })?;
        }
        Rows::Visits => {
            w.write_record([
                "id",
                "phone",
                "device_name",
                "radio",
                "first_seen",
                "last_seen",
                "seconds",
                "sightings",
                "rssi_max",
                "clock_synced",
            ])
            .map_err(fail)?;
            reader.each_visit(from_ms, to_ms, &mut |v| {
                w.write_record([
                    v.id.to_string(),
                    key.phone_text(&v.addr),
                    cell(v.name.as_deref()),
                    v.radio,
                    time(v.first_seen_ms),
                    time(v.last_seen_ms),
                    ((v.last_seen_ms - v.first_seen_ms) / 1000).to_string(),
                    v.count.to_string(),
                    v.rssi_max.map(|r| r.to_string()).unwrap_or_default(),
                    v.clock_synced.to_string(),
                ])
                .map_err(fail)
            })?;
        }
        Rows::Wifi => {
            w.write_record(["id", "phone", "kind", "item", "at", "bytes", "clock_synced"])
                .map_err(fail)?;
            reader.each_wifi(from_ms, to_ms, &mut |e| {
                w.write_record([
                    e.id.to_string(),
                    key.phone_text(&e.visitor),
                    e.kind,
                    cell(e.item.as_deref()),
                    time(e.at_ms),
                    e.bytes.to_string(),
                    e.clock_synced.to_string(),
                ])
                .map_err(fail)
            })?;
        }
    }
    w.flush().map_err(|e| e.to_string())
}

/// A text cell a spreadsheet shows as text: a leading `=`, `+`, `-`, `@`, tab or CR would
/// make it a formula, so it gets a `'` in front.
fn cell(text: Option<&str>) -> String {
    let text = text.unwrap_or("");
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_string(),
    }
}

fn time(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn formulas_stay_text() {
        assert_eq!(cell(Some("=HYPERLINK(\"x\")")), "'=HYPERLINK(\"x\")");
        assert_eq!(cell(Some("Anna's phone")), "Anna's phone");
        assert_eq!(cell(None), "");
    }
}
