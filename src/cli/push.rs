//! `o4send push --to ADDR FILE` / `--tcp HOST[:PORT] [--srm] FILE`: one Object Push, by hand, to a
//! phone over Bluetooth or to an OBEX server over TCP (`--srm`: asking it for Single Response
//! Mode). Prints the outcome, the raw response code and the time. A phone pushed to over
//! Bluetooth is forgotten by bluetoothd afterwards.

use super::{optional_config, pick_adapter, runtime, CliError};
use crate::content::mime_for;
use crate::model::device::BdAddr;
use crate::model::outcome::AttemptResult;
use crate::model::outcome::Outcome;
use crate::obex::{self, tcp, Object};
use crate::radio::bluez::{Bluez, BluezRadio};
use crate::radio::Radio;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Where to push.
pub enum Target {
    /// A phone; `rfcomm` keeps to its RFCOMM channel where it also offers L2CAP.
    Bluetooth {
        addr: BdAddr,
        adapter: Option<String>,
        rfcomm: bool,
    },
    /// An OBEX server over TCP; `srm` asks it for Single Response Mode.
    Tcp { host: String, srm: bool },
}

pub fn push(
    config: Option<&Path>,
    target: &Target,
    timeout: Option<u64>,
    file: &Path,
) -> Result<ExitCode, CliError> {
    let cfg = optional_config(config)?;
    let mut opts = cfg.obex_options();
    if let Some(secs) = timeout {
        opts.decision_timeout = Duration::from_secs(secs.max(1));
    }
    let body = std::fs::read(file)
        .map_err(|e| CliError::Failed(format!("cannot read {}: {e}", file.display())))?;
    let name = file.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
        CliError::Failed(format!(
            "{}: the file name must be UTF-8 (phones show it)",
            file.display()
        ))
    })?;
    let object = Object {
        name,
        mime: mime_for(name),
        body: &body,
    };
    let started = Instant::now();
    let (_never, mut cancel) = tokio::sync::watch::channel(false);
    let result: Result<AttemptResult, CliError> = runtime()?.block_on(async {
        match target {
            Target::Tcp { host, srm } => match tcp::connect(host, opts.connect_timeout).await {
                Ok(stream) => {
                    let opts = obex::PushOptions {
                        srm: *srm,
                        ..opts.over(obex::Transport::Tcp)
                    };
                    Ok(obex::push(stream, &object, &opts, &mut cancel).await)
                }
                Err(result) => Ok(result),
            },
            Target::Bluetooth {
                addr,
                adapter,
                rfcomm,
            } => {
                let adapter = pick_adapter(&cfg, adapter.clone(), |r| r.pushes())?;
                let bluez = Bluez::connect()
                    .await
                    .map_err(|e| CliError::Failed(e.to_string()))?;
                let radio = BluezRadio::new(&adapter, bluez);
                radio.use_l2cap(!rfcomm);
                let result = over_bluetooth(&radio, *addr, &object, &opts, &mut cancel).await;
                radio.forget(*addr).await;
                Ok(result)
            }
        }
    });
    let result = result?;
    let code = result
        .raw_code
        .map(|c| format!("0x{c:02X}"))
        .unwrap_or_else(|| "none".into());
    println!("outcome: {}", result.outcome);
    println!("response code: {code}");
    println!("bytes: {} of {}", result.bytes, body.len());
    println!("time: {:.2} s", started.elapsed().as_secs_f64());
    println!("reason: {}", result.reason);
    if result.outcome == Outcome::Accepted {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(CliError::Quiet(1))
    }
}

async fn over_bluetooth(
    radio: &BluezRadio,
    addr: BdAddr,
    object: &Object<'_>,
    opts: &obex::PushOptions,
    cancel: &mut tokio::sync::watch::Receiver<bool>,
) -> AttemptResult {
    let find_limit = FIND_LIMIT.max(opts.connect_timeout);
    if !radio.find(addr, find_limit).await {
        let why = format!(
            "not found by discovery within {}s (switched off, out of range, or not discoverable)",
            find_limit.as_secs()
        );
        return AttemptResult::new(Outcome::Unreachable, None, why, 0);
    }
    let started = Instant::now();
    let result = match radio.connect_opp(addr, opts.connect_timeout).await {
        Err(result) => result,
        Ok(link) => {
            let opts = opts.over(link.transport);
            let (result, stats) = obex::push_counted(link.stream, object, &opts, cancel).await;
            print_link(link.transport, &stats);
            result
        }
    };
    println!(
        "push time: {:.2} s (page, SDP, connection, OBEX and transfer; after discovery found the phone)",
        started.elapsed().as_secs_f64()
    );
    result
}

/// What the push cost on the wire, one line for people and the rig's benchmark.
fn print_link(transport: obex::Transport, s: &obex::PushStats) {
    let mtu = match transport {
        obex::Transport::L2capErtm { mtu } => mtu.to_string(),
        _ => "-".into(),
    };
    println!(
        "push link: transport={} l2cap_mtu={mtu} obex_packet_size={} srm={} obex_packets={} put_packets={} round_trips={} obex_bytes={}",
        transport.name(),
        s.packet_size,
        if s.srm { "on" } else { "off" },
        s.packets,
        s.put_packets,
        s.round_trips,
        s.bytes
    );
}

/// How long a one-off push looks for the phone by inquiry before giving up.
const FIND_LIMIT: Duration = Duration::from_secs(30);
