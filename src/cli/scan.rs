//! `o4send scan`: the Bluetooth devices in range now, from one discovery run through BlueZ —
//! for checking a site before the expo opens, and for finding a test phone's address.

use super::{optional_config, pick_adapter, runtime, CliError};
use crate::model::device::{printable, BdAddr};
use crate::radio::bluez::{Bluez, BluezRadio};
use crate::radio::{Radio, Sighting, Sightings};
use crate::supervise::Heartbeat;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Serialize)]
struct Found {
    addr: String,
    name: String,
    class: String,
    rssi: Option<i16>,
    opp_advertised: Option<bool>,
}

pub fn scan(
    config: Option<&Path>,
    seconds: f64,
    adapter: Option<String>,
    json: bool,
) -> Result<ExitCode, CliError> {
    let cfg = optional_config(config)?;
    let adapter = pick_adapter(&cfg, adapter, |r| r.scans())?;
    let listen = Duration::from_secs_f64(seconds.clamp(1.0, 600.0));
    let found = runtime()?.block_on(async {
        let bluez = Bluez::connect()
            .await
            .map_err(|e| CliError::Failed(e.to_string()))?;
        let radio = BluezRadio::new(&adapter, bluez);
        let (tx, mut rx) = tokio::sync::mpsc::channel(256);
        let mut found: BTreeMap<BdAddr, Sighting> = BTreeMap::new();
        let deadline = tokio::time::sleep(listen);
        tokio::pin!(deadline);
        let discovery = radio.discover(Sightings::new(tx, Heartbeat::unwatched()));
        tokio::pin!(discovery);
        loop {
            tokio::select! {
                Some(s) = rx.recv() => { found.insert(s.addr, s); }
                r = &mut discovery => {
                    r.map_err(|e| CliError::Failed(e.to_string()))?;
                    break;
                }
                () = &mut deadline => break,
            }
        }
        Ok::<_, CliError>(found)
    })?;
    let rows: Vec<Found> = found.values().map(row).collect();
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).map_err(|e| CliError::Failed(e.to_string()))?
        );
    } else {
        print_table(&rows);
    }
    Ok(ExitCode::SUCCESS)
}

fn row(s: &Sighting) -> Found {
    Found {
        addr: s.addr.to_string(),
        name: s.name.to_string(),
        class: s.class.major().as_str().to_string(),
        rssi: s.rssi,
        opp_advertised: s.opp_advertised,
    }
}

fn print_table(rows: &[Found]) {
    println!(
        "{:<17}  {:>5}  {:<13}  {:<4}  name",
        "address", "rssi", "class", "opp"
    );
    for r in rows {
        let rssi = r.rssi.map(|v| v.to_string()).unwrap_or_else(|| "-".into());
        let opp = match r.opp_advertised {
            Some(true) => "yes",
            Some(false) => "no",
            None => "?",
        };
        println!(
            "{:<17}  {rssi:>5}  {:<13}  {opp:<4}  {}",
            r.addr,
            r.class,
            printable(&r.name)
        );
    }
    println!("{} device(s)", rows.len());
}
