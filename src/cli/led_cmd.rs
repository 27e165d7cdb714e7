//! `o4send led`: drives the status LED from the daemon's live state (o4send-led.service).

use super::{optional_config, CliError};
use crate::live;
use crate::live::led::{self, Led};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

const EVERY: Duration = Duration::from_millis(500);

pub fn led(config: Option<&Path>) -> Result<ExitCode, CliError> {
    let cfg = optional_config(config)?;
    let mut led = Led::open(&cfg.appliance.status_led).map_err(CliError::Failed)?;
    let dir = &cfg.appliance.live_dir;
    let clock = crate::model::clock::Clock::system();
    tracing::info!("status LED {}", cfg.appliance.status_led.display());
    let mut failing = false;
    loop {
        let state = live::read(dir).ok();
        let pattern = led::choose(state.as_ref(), live::stick(dir).as_ref(), clock.now_ms());
        match led.show(pattern) {
            Ok(()) => failing = false,
            Err(e) if !failing => {
                failing = true;
                tracing::warn!("cannot set the LED to {}: {e}", pattern.name());
            }
            Err(_) => {}
        }
        std::thread::sleep(EVERY);
    }
}
