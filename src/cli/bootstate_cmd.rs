//! `o4send bootstate`: reads and changes the boot state (which root slot U-Boot tries and how
//! often) for RAUC, whose `custom` bootloader backend it is, and for a person at the console.

use super::{BootStateAction, CliError};
use crate::update::bootstate::{self, BootState, Slot};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

pub fn bootstate(disk: Option<PathBuf>, action: BootStateAction) -> Result<ExitCode, CliError> {
    let disk = match disk {
        Some(disk) => disk,
        None => crate::update::disk_of(Path::new("/boot"))
            .map_err(|e| CliError::Failed(format!("the boot disk: /boot: {e}")))?,
    };
    let found = bootstate::read(&disk).map_err(|e| failed(&disk, "cannot read", e))?;
    let mut state = found.state.clone();
    match action {
        BootStateAction::Show => {
            show(&disk, &found);
            return Ok(ExitCode::SUCCESS);
        }
        BootStateAction::GetPrimary => {
            let primary = state.primary().ok_or_else(|| {
                CliError::Failed(format!("{}: no slot has tries left", disk.display()))
            })?;
            println!("{primary}");
            return Ok(ExitCode::SUCCESS);
        }
        BootStateAction::GetState { slot } => {
            println!("{}", if state.is_good(slot) { "good" } else { "bad" });
            return Ok(ExitCode::SUCCESS);
        }
        BootStateAction::GetCurrent => {
            println!("{}", booted()?);
            return Ok(ExitCode::SUCCESS);
        }
        BootStateAction::Confirm { healthy_for } => {
            let slot = booted()?;
            tracing::info!(
                "slot {slot}: waiting for o4send.service to run {healthy_for} s without a restart"
            );
            crate::update::health::wait_healthy("o4send.service", Duration::from_secs(healthy_for));
            // Read again: U-Boot's count is what it was at boot, but an install may have run since.
            let mut now = bootstate::read(&disk)
                .map_err(|e| failed(&disk, "cannot read", e))?
                .state;
            now.set_good(slot, true);
            bootstate::write(&disk, &now).map_err(|e| failed(&disk, "cannot write", e))?;
            println!(
                "slot {slot} ran healthy for {healthy_for} s: the boot loader keeps booting it"
            );
            return Ok(ExitCode::SUCCESS);
        }
        BootStateAction::SetPrimary { slot } => state.set_primary(slot),
        BootStateAction::SetState { slot, state: good } => state.set_good(slot, good.is_good()),
    }
    bootstate::write(&disk, &state).map_err(|e| failed(&disk, "cannot write", e))?;
    Ok(ExitCode::SUCCESS)
}

fn show(disk: &Path, found: &bootstate::Found) {
    let s: &BootState = &found.state;
    let order: Vec<&str> = s.order.iter().map(|s| s.name()).collect();
    let from = match found.copy {
        Some(n) => format!("copy {n}"),
        None => "neither copy holds: a fresh card's".into(),
    };
    println!(
        "{}: order {}, tries left A {} B {} ({from})",
        disk.display(),
        order.join(" "),
        s.left(Slot::A),
        s.left(Slot::B)
    );
    for why in &found.passed_over {
        println!("  passed over: {why}");
    }
}

fn booted() -> Result<Slot, CliError> {
    let cmdline = std::fs::read_to_string("/proc/cmdline").unwrap_or_default();
    crate::update::booted_slot(&cmdline).ok_or_else(|| {
        CliError::Failed(
            "no rauc.slot= on the kernel's command line: not booted by o4send's boot script".into(),
        )
    })
}

fn failed(disk: &Path, what: &str, e: std::io::Error) -> CliError {
    CliError::Failed(format!("{what} the boot state on {}: {e}", disk.display()))
}
