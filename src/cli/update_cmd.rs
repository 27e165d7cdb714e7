//! `o4send update FILE` and `o4send update --stick ROOT`: a system update from the console or a
//! USB stick, through the one install path (`update::install`). The box restarts into the new
//! system only with `--reboot` (the stick's way); until then the daemon keeps working.

use super::import_cmd::note_stick;
use super::CliError;
use crate::config::{default_path, Config};
use crate::update::install::{self, Done, Request, System};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

pub fn update(
    config: Option<&Path>,
    file: Option<PathBuf>,
    stick: Option<PathBuf>,
    named_version: Option<String>,
    reboot: bool,
) -> Result<ExitCode, CliError> {
    let from_stick = stick.is_some();
    let result = install_from(file, stick, named_version);
    if from_stick {
        // The LED and the dashboard's "last USB stick" say what the stick's update did.
        let cfg = Config::load(config.unwrap_or(&default_path()), true).unwrap_or_default();
        match &result {
            Ok(Some(done)) => note_stick(&cfg, true, line(done)),
            Ok(None) => {}
            Err(e) => note_stick(&cfg, false, e.to_string()),
        }
    }
    match result? {
        Some(done @ Done::Installed(_)) if reboot => {
            println!("{}: restarting into it", line(&done));
            restart()
        }
        Some(done) => {
            println!("{}", line(&done));
            Ok(ExitCode::SUCCESS)
        }
        None => Ok(ExitCode::SUCCESS),
    }
}

fn line(done: &Done) -> String {
    match done {
        Done::Installed(v) => format!("system update {v} installed: it runs after a restart"),
        Done::AlreadyRunning(v) => format!("system update {v} is already running: nothing to do"),
    }
}

/// Finds the file (on the stick) and installs it; None when a stick holds no update.
fn install_from(
    file: Option<PathBuf>,
    stick: Option<PathBuf>,
    named_version: Option<String>,
) -> Result<Option<Done>, CliError> {
    let file = match (file, stick) {
        (Some(file), None) => file,
        (None, Some(root)) => match on_stick(&root).map_err(CliError::Failed)? {
            Some(file) => file,
            None => {
                println!("{}: no system update (*.raucb) on it", root.display());
                return Ok(None);
            }
        },
        _ => {
            return Err(CliError::Failed(
                "give a FILE or --stick ROOT, not both".into(),
            ))
        }
    };
    let sys = System::this().map_err(CliError::Failed)?;
    println!(
        "o4send update: {} (this box: {}, release {})",
        file.display(),
        sys.compatible,
        sys.running
    );
    let req = Request {
        named_version: named_version.as_deref(),
        ..Request::file(&file)
    };
    let done = install::install(&sys, &req, &mut |line| println!("  {line}"));
    done.map(Some).map_err(CliError::Failed)
}

fn restart() -> Result<ExitCode, CliError> {
    match Command::new("systemctl").arg("reboot").status() {
        Ok(s) if s.success() => Ok(ExitCode::SUCCESS),
        other => Err(CliError::Failed(format!(
            "installed, but the restart failed ({other:?}): restart the box"
        ))),
    }
}

/// The one system update on a stick: a `*.raucb` at its top or in its o4send/ folder. macOS's
/// `._` companions and other hidden files are not updates; two updates are refused by name.
pub fn on_stick(root: &Path) -> Result<Option<PathBuf>, String> {
    let mut found = Vec::new();
    for dir in [root.to_path_buf(), root.join("o4send")] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_file = entry.file_type().map(|t| t.is_file()).unwrap_or(false);
            if is_file && !name.starts_with('.') && name.to_lowercase().ends_with(".raucb") {
                found.push(entry.path());
            }
        }
    }
    found.sort();
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        _ => Err(format!(
            "update refused: more than one system update on the stick ({}): leave one",
            found
                .iter()
                .map(|p| p.strip_prefix(root).unwrap_or(p).display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_update_on_a_stick() {
        let stick = tempfile::tempdir().unwrap();
        let root = stick.path();
        assert_eq!(on_stick(root), Ok(None));
        std::fs::create_dir(root.join("o4send")).unwrap();
        std::fs::write(root.join("._o4send-1.4.0-pi.raucb"), b"AppleDouble").unwrap();
        std::fs::write(root.join("o4send/.hidden.raucb"), b"x").unwrap();
        std::fs::write(root.join("o4send-1.4.0-pi.raucb"), b"x").unwrap();
        assert_eq!(on_stick(root), Ok(Some(root.join("o4send-1.4.0-pi.raucb"))));
        std::fs::write(root.join("o4send/o4send-1.5.0-pi.RAUCB"), b"x").unwrap();
        let e = on_stick(root).unwrap_err();
        assert!(
            e.contains("(o4send/o4send-1.5.0-pi.RAUCB, o4send-1.4.0-pi.raucb): leave one"),
            "{e}"
        );
    }
}
