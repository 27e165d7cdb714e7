//! `o4send bootstate`: reads and changes the boot state (which root slot U-Boot tries and how
//! often) for RAUC, whose `custom` bootloader backend it is, and for a person at the console.
//! RAUC's set-primary after an install starts the new slot's trial; confirm ends it.

use super::{BootStateAction, CliError};
use crate::config::{default_path, Config, UpdateConfig};
use crate::update::bootstate::{self, BootState, Slot};
use crate::update::trial::{self, Records, Trial};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

pub fn bootstate(
    config: Option<&Path>,
    disk: Option<PathBuf>,
    action: BootStateAction,
) -> Result<ExitCode, CliError> {
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
            let secs = healthy_for.unwrap_or(update_config(config).healthy_secs);
            confirm(&disk, Duration::from_secs(secs))?;
            return Ok(ExitCode::SUCCESS);
        }
        BootStateAction::SetPrimary { slot } => {
            state.set_primary(slot);
            bootstate::write(&disk, &state).map_err(|e| failed(&disk, "cannot write", e))?;
            begin_trial(config, slot);
            return Ok(ExitCode::SUCCESS);
        }
        BootStateAction::SetState { slot, state: good } => state.set_good(slot, good.is_good()),
    }
    bootstate::write(&disk, &state).map_err(|e| failed(&disk, "cannot write", e))?;
    Ok(ExitCode::SUCCESS)
}

/// Waits until the booted system has run healthy for `period`, keeps its slot, and ends an
/// update's trial: kept, or (booted on the slot it came from) the failed slot out of the order.
fn confirm(disk: &Path, period: Duration) -> Result<(), CliError> {
    let slot = booted()?;
    tracing::info!(
        "slot {slot}: waiting for o4send.service to run {} s without a restart",
        period.as_secs()
    );
    crate::update::health::wait_healthy("o4send.service", period);
    let records = Records::new(Path::new(trial::DIR));
    let verdict = records.trial().map(|t| trial::verdict(&t, slot));
    // Read again: U-Boot's count is what it was at boot, but an install may have run since.
    let mut now = bootstate::read(disk)
        .map_err(|e| failed(disk, "cannot read", e))?
        .state;
    now.set_good(slot, true);
    if let Some((_, Some(failed_slot))) = &verdict {
        now.set_good(*failed_slot, false);
    }
    bootstate::write(disk, &now).map_err(|e| failed(disk, "cannot write", e))?;
    println!(
        "slot {slot} ran healthy for {} s: the boot loader keeps booting it",
        period.as_secs()
    );
    let kept = |e: std::io::Error| CliError::Failed(format!("{}: {e}", trial::DIR));
    match verdict {
        Some((line, failed_slot)) => {
            if failed_slot.is_some() {
                let version = records.trial().map(|t| t.version).unwrap_or_default();
                records.add_failed(&version).map_err(kept)?;
            }
            records.end(&line).map_err(kept)?;
            println!("{line}");
        }
        None => {
            if let Some(line) = records.end_interrupted().map_err(kept)? {
                println!("{line}");
            }
        }
    }
    Ok(())
}

/// RAUC made `slot` the primary after writing it: the next boot puts it on trial. The record is
/// the running system's (its release, its deadline), so the new system's health does not decide
/// whether it is restarted.
fn begin_trial(config: Option<&Path>, slot: Slot) {
    let records = Records::new(Path::new(trial::DIR));
    // Not booted by the boot script (a test, a disk image on a laptop): no trial to watch.
    let Ok(from) = booted() else { return };
    if from == slot {
        return;
    }
    let t = Trial {
        slot,
        version: records.pending().unwrap_or_else(|| "the new system".into()),
        from,
        from_version: crate::update::version::running(),
        deadline_secs: update_config(config).trial_secs,
    };
    if let Err(e) = records.begin(&t) {
        tracing::warn!(
            "{}: cannot record the trial of slot {slot}: {e}",
            trial::DIR
        );
    }
}

/// The update settings in force, or the defaults when the config cannot be read (a boot must
/// never stop on this).
fn update_config(config: Option<&Path>) -> UpdateConfig {
    let path = config.map(Path::to_path_buf).unwrap_or_else(default_path);
    match Config::load(&path, true) {
        Ok(cfg) => cfg.update,
        Err(e) => {
            tracing::warn!(
                "{}: {e}; the update settings' defaults apply",
                path.display()
            );
            UpdateConfig::default()
        }
    }
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
    crate::update::booted_under(Path::new("/")).ok_or_else(|| {
        CliError::Failed(
            "no rauc.slot= on the kernel's command line: not booted by o4send's boot script".into(),
        )
    })
}

fn failed(disk: &Path, what: &str, e: std::io::Error) -> CliError {
    CliError::Failed(format!("{what} the boot state on {}: {e}", disk.display()))
}
