//! `o4send push --tcp HOST[:PORT] FILE`: one Object Push to a real OBEX peer over TCP, for
//! checking a phone stack or a server by hand. Prints the outcome and the raw response code.

use super::{optional_config, runtime, CliError};
use crate::content::mime_for;
use crate::obex::{self, tcp, Object};
use crate::outcome::Outcome;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

pub fn push(
    config: Option<&Path>,
    target: &str,
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
    let result = runtime()?.block_on(async {
        let stream = match tcp::connect(target, opts.connect_timeout).await {
            Ok(s) => s,
            Err(result) => return result,
        };
        let (_never, mut cancel) = tokio::sync::watch::channel(false);
        obex::push(stream, &object, &opts, &mut cancel).await
    });
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
