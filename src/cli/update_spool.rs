//! `o4send update --spool DIR`, run as root by `o4send-update.path` when the dashboard has left
//! an upload or a restart request in the spool (`update::spool`): the upload goes through the one
//! install path and is removed whatever the verdict; the restart is done now or scheduled, and
//! only when an installed update waits for it.

use super::CliError;
use crate::update::install::{self, Done, Request, System};
use crate::update::spool::{RestartAt, Spool};
use crate::update::trial::Records;
use std::path::Path;
use std::process::{Command, ExitCode};

pub fn spool(dir: &Path) -> Result<ExitCode, CliError> {
    let spool = Spool::at(dir);
    let mut failed = None;
    if let Some(upload) = spool.upload() {
        let result = install_upload(&upload, spool.name().as_deref());
        spool.clear_upload();
        match result {
            Ok(line) => println!("{line}"),
            Err(e) => failed = Some(e),
        }
    }
    if let Some(request) = spool.take_restart() {
        if let Err(e) = request.and_then(restart) {
            let line = format!("restart refused: {e}");
            let _ = Records::new(Path::new(crate::update::trial::DIR)).set_outcome(&line);
            failed = Some(line);
        }
    }
    match failed {
        Some(e) => Err(CliError::Failed(e)),
        None => Ok(ExitCode::SUCCESS),
    }
}

fn install_upload(upload: &Path, name: Option<&str>) -> Result<String, String> {
    let sys = System::this()?;
    let req = Request {
        move_in: true,
        shown_name: name,
        ..Request::file(upload)
    };
    match install::install(&sys, &req, &mut |line| println!("  {line}"))? {
        Done::Installed(v) => Ok(format!("installed {v} from the dashboard")),
        Done::AlreadyRunning(v) => Ok(format!("{v} is already running: nothing to do")),
    }
}

/// Restarts into the installed update, now or at the time asked.
fn restart(at: RestartAt) -> Result<(), String> {
    let records = Records::new(Path::new(crate::update::trial::DIR));
    let booted = crate::update::booted_under(Path::new("/"));
    let Some(trial) = records.waiting(booted) else {
        return Err("no installed update waits for a restart".into());
    };
    let mut cmd = match at {
        RestartAt::Now => {
            let mut c = Command::new("systemctl");
            c.arg("reboot");
            c
        }
        RestartAt::At(..) => {
            let mut c = Command::new("shutdown");
            c.args(["-r", &at.text()]);
            c
        }
    };
    let line = format!(
        "installed {}: restarting into it at {}",
        trial.version,
        at.text()
    );
    let _ = records.set_outcome(&line);
    println!("{line}");
    let status = cmd.status().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !status.success() {
        return Err(format!("{cmd:?} failed ({status})"));
    }
    Ok(())
}
