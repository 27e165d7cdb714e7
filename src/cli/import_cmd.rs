//! `o4send import STICK_ROOT`: verifies a content stick against the config's trusted keys and
//! caps, installs it atomically (see `content::install`) and tells the running daemon to reload.
//! A refusal is one line naming its cause; the active content is then untouched. A bundle not
//! newer than the active campaign (by its signed sequence) is refused unless `--allow-older`.

use super::bundle_cmd::sequence_words;
use super::CliError;
use crate::config::{default_path, Config};
use crate::content::bundle::{self, Limits, Stick};
use crate::content::install::{self, Layout};
use crate::daemon::pidfile::{self, Reload};
use std::path::Path;
use std::process::ExitCode;

pub fn import(
    config: Option<&Path>,
    stick_root: &Path,
    allow_older: bool,
) -> Result<ExitCode, CliError> {
    let cfg = Config::load(config.unwrap_or(&default_path()), false)?;
    let result = import_with(&cfg, stick_root, allow_older);
    note_for_the_led(&cfg, &result);
    result
}

/// Leaves the verdict where the status LED and the dashboard see it.
fn note_for_the_led(cfg: &Config, result: &Result<ExitCode, CliError>) {
    let line = match result {
        Ok(_) => "imported (or already active)".to_string(),
        Err(e) => e.to_string(),
    };
    note_stick(cfg, result.is_ok(), line);
}

/// The last stick's verdict, one line, for the status LED and the dashboard (also a system
/// update's, `update_cmd`).
pub(super) fn note_stick(cfg: &Config, accepted: bool, line: String) {
    let note = crate::live::StickNote {
        at_ms: crate::model::clock::Clock::system().now_ms(),
        accepted,
        line,
    };
    let dir = &cfg.appliance.live_dir;
    if let Err(e) = std::fs::create_dir_all(dir).and_then(|()| crate::live::note_stick(dir, &note))
    {
        tracing::debug!("no stick verdict for the LED: {}: {e}", dir.display());
    }
}

fn import_with(cfg: &Config, stick_root: &Path, allow_older: bool) -> Result<ExitCode, CliError> {
    let refused = |e: String| CliError::Failed(format!("import refused: {e}"));
    let keys = bundle::trusted_keys(cfg).map_err(CliError::Config)?;
    let limits = Limits::of(cfg);
    let stick = Stick::open(stick_root, &keys, &limits).map_err(refused)?;
    let layout = Layout::new(&cfg.appliance.content_path());
    let installed = install::import(&layout, &stick, cfg.engine.max_item_bytes, allow_older)
        .map_err(refused)?;
    if !installed.changed {
        println!(
            "campaign {:?} (sha256 {}) is already active; nothing changed",
            installed.name, installed.sha256
        );
        return Ok(ExitCode::SUCCESS);
    }
    let m = &stick.manifest;
    let back = if installed.older {
        " (not newer than the campaign it replaced: --allow-older)"
    } else {
        ""
    };
    println!(
        "imported campaign {:?} (sha256 {}, {}{back}) from {}: {} item(s), {} bytes, signed by \
         key {}; the previous campaign is kept for rollback; {}",
        installed.name,
        installed.sha256,
        sequence_words(installed.sequence),
        stick.dir.display(),
        m.items.len(),
        m.total_bytes(),
        stick.signed.key_id,
        tell_daemon(cfg)
    );
    Ok(ExitCode::SUCCESS)
}

/// Asks the running daemon to reload; says what happened, in words for the journal.
pub fn tell_daemon(cfg: &Config) -> String {
    match pidfile::reload(&pidfile::path(&cfg.appliance.data_dir)) {
        Ok(Reload::Signalled(pid)) => format!("daemon told to reload (SIGHUP to pid {pid})"),
        Ok(Reload::NoDaemon) => "no daemon running: it reads the campaign when it starts".into(),
        Err(e) => format!("{e}; reload it by hand (systemctl reload o4send)"),
    }
}
