//! Whether this system came up healthy: the test a root slot passes before the boot loader is
//! told to keep booting it (`o4send bootstate confirm`, o4send-healthy.service).
//!
//! Healthy means the daemon, not merely the kernel: `o4send.service` active (it reached READY,
//! which needs its store and its config) for a whole period without a single restart. A hung loop
//! misses its watchdog and is restarted by systemd, which starts the count again; a daemon that
//! never gets there is restarted until its start limit reboots the box, and every boot spends one
//! of the slot's tries.

use std::process::Command;
use std::time::Duration;

/// What systemd says about a unit, for the health test.
#[derive(Debug, PartialEq, Eq)]
pub struct UnitState {
    pub active: bool,
    pub restarts: u64,
    /// Seconds since it became active (0 when it is not).
    pub active_for: u64,
}

impl UnitState {
    /// From `systemctl show -p ActiveState,NRestarts,ActiveEnterTimestampMonotonic` and the
    /// monotonic clock's now, in microseconds.
    pub fn parse(show: &str, now_us: u64) -> Option<UnitState> {
        let get = |key: &str| {
            show.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
                .map(str::trim)
        };
        let active = get("ActiveState")? == "active";
        let restarts = get("NRestarts")?.parse().ok()?;
        let since: u64 = get("ActiveEnterTimestampMonotonic")?.parse().ok()?;
        let active_for = if active {
            now_us.saturating_sub(since) / 1_000_000
        } else {
            0
        };
        Some(UnitState {
            active,
            restarts,
            active_for,
        })
    }
}

/// Asks systemd about `unit`.
pub fn unit_state(unit: &str) -> Result<UnitState, String> {
    let out = Command::new("systemctl")
        .args([
            "show",
            "-p",
            "ActiveState,NRestarts,ActiveEnterTimestampMonotonic",
            unit,
        ])
        .output()
        .map_err(|e| format!("systemctl: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    UnitState::parse(&text, monotonic_us())
        .ok_or_else(|| format!("systemctl show {unit} said: {text:?}"))
}

fn monotonic_us() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000 + ts.tv_nsec as u64 / 1000
}

/// Waits until `unit` has been active for `period` without a restart; checks every few seconds.
/// Never gives up: a system that does not get healthy is not confirmed.
pub fn wait_healthy(unit: &str, period: Duration) -> UnitState {
    loop {
        match unit_state(unit) {
            Ok(s) if s.active && s.restarts == 0 && s.active_for >= period.as_secs() => return s,
            Ok(_) => {}
            Err(e) => tracing::warn!("{e}"),
        }
        std::thread::sleep(Duration::from_secs(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systemctl_show_read() {
        let show = "ActiveState=active\nNRestarts=0\nActiveEnterTimestampMonotonic=5000000\n";
        let s = UnitState::parse(show, 125_000_000).unwrap();
        assert_eq!((s.active, s.restarts, s.active_for), (true, 0, 120));
        let restarted = "NRestarts=2\nActiveState=activating\nActiveEnterTimestampMonotonic=0\n";
        let s = UnitState::parse(restarted, 9).unwrap();
        assert_eq!((s.active, s.restarts, s.active_for), (false, 2, 0));
        assert_eq!(UnitState::parse("ActiveState=active\n", 1), None);
    }
}
