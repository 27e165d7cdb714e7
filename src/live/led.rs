//! The status LED: the Pi's green ACT LED tells a booth with no screen whether the box works.
//!
//! `o4send led` (o4send-led.service, root, no network) reads the daemon's live state every half
//! second and sets the LED through the kernel's LED class (`/sys/class/leds/ACT`): the `timer`
//! trigger blinks it without any process awake, `none` holds it steady. Run apart from the
//! daemon, it also shows when the daemon is dead or hung (its live state goes stale), which the
//! daemon itself never could. The mapping below is printed in the docs and on the dashboard.

use crate::live::{LiveState, StickNote};
use std::path::{Path, PathBuf};

/// How long the LED shows a stick's verdict.
pub const STICK_SHOW_MS: i64 = 10_000;

/// What the LED shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// Working, nothing in flight: a short flash every two seconds.
    Idle,
    /// At least one push in flight: an even blink, four times a second.
    Pushing,
    /// Something the operator must fix: steadily on.
    Fault,
    /// A stick's content was installed: a slow even blink (1 s on, 1 s off) for 10 s.
    StickAccepted,
    /// A stick was refused: a fast flicker for 10 s.
    StickRefused,
}

/// Every pattern with its look and its meaning, in the order the docs and the dashboard list them.
pub const MAPPING: [(Pattern, &str, &str); 5] = [
    (
        Pattern::Idle,
        "a short flash every 2 seconds",
        "working, waiting for phones",
    ),
    (
        Pattern::Pushing,
        "blinking 4 times a second",
        "offering a file to a phone now",
    ),
    (
        Pattern::Fault,
        "steadily on",
        "a fault: no radio, no content, settings refused, a stalled loop or the daemon not running",
    ),
    (
        Pattern::StickAccepted,
        "slow blink (1 s on, 1 s off) for 10 seconds",
        "a USB stick's campaign was installed",
    ),
    (
        Pattern::StickRefused,
        "fast flicker for 10 seconds",
        "a USB stick was refused (see the dashboard or the journal)",
    ),
];

impl Pattern {
    /// The trigger and, for `timer`, the milliseconds on and off.
    fn settings(self) -> (&'static str, u32, u32) {
        match self {
            Pattern::Idle => ("timer", 100, 1900),
            Pattern::Pushing => ("timer", 125, 125),
            Pattern::Fault => ("none", 0, 0),
            Pattern::StickAccepted => ("timer", 1000, 1000),
            Pattern::StickRefused => ("timer", 40, 40),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Pattern::Idle => "idle",
            Pattern::Pushing => "pushing",
            Pattern::Fault => "fault",
            Pattern::StickAccepted => "stick accepted",
            Pattern::StickRefused => "stick refused",
        }
    }
}

/// What the LED should show at `now_ms`: a recent stick first, then a fault (a stale or missing
/// live state is one), then pushing, else idle.
pub fn choose(live: Option<&LiveState>, stick: Option<&StickNote>, now_ms: i64) -> Pattern {
    if let Some(s) = stick.filter(|s| (0..STICK_SHOW_MS).contains(&(now_ms - s.at_ms))) {
        return if s.accepted {
            Pattern::StickAccepted
        } else {
            Pattern::StickRefused
        };
    }
    match live.filter(|l| l.fresh(now_ms)) {
        None => Pattern::Fault,
        Some(l) if !l.faults().is_empty() => Pattern::Fault,
        Some(l) if l.in_flight > 0 => Pattern::Pushing,
        Some(_) => Pattern::Idle,
    }
}

/// One LED of the kernel's LED class (or a stand-in folder in tests).
#[derive(Debug)]
pub struct Led {
    dir: PathBuf,
    shown: Option<Pattern>,
}

impl Led {
    /// The LED at `dir`; one line naming the cause when it is not an LED we can drive.
    pub fn open(dir: &Path) -> Result<Led, String> {
        let trigger = dir.join("trigger");
        std::fs::metadata(&trigger)
            .map_err(|e| format!("{}: not an LED ({e})", trigger.display()))?;
        Ok(Led {
            dir: dir.to_path_buf(),
            shown: None,
        })
    }

    /// Shows `pattern`; writes nothing when it already shows it.
    pub fn show(&mut self, pattern: Pattern) -> std::io::Result<()> {
        if self.shown == Some(pattern) {
            return Ok(());
        }
        let (trigger, on, off) = pattern.settings();
        self.put("trigger", trigger)?;
        if trigger == "timer" {
            // The kernel creates these files when the timer trigger is set.
            self.put("delay_on", &on.to_string())?;
            self.put("delay_off", &off.to_string())?;
        } else {
            self.put("brightness", "1")?;
        }
        self.shown = Some(pattern);
        Ok(())
    }

    fn put(&self, name: &str, value: &str) -> std::io::Result<()> {
        let path = self.dir.join(name);
        std::fs::write(&path, value)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::{ItemLive, RadioLive};

    fn working(at_ms: i64, in_flight: usize) -> LiveState {
        let mut l = LiveState {
            at_ms,
            in_flight,
            ..LiveState::default()
        };
        l.radios.push(RadioLive {
            id: "hci0".into(),
            role: "both".into(),
            slots: 2,
            busy: in_flight,
        });
        l.campaign.items.push(ItemLive {
            name: "flyer.pdf".into(),
            ..ItemLive::default()
        });
        l
    }

    #[test]
    fn the_led_says_what_matters_most() {
        let now = 100_000;
        assert_eq!(choose(Some(&working(now, 0)), None, now), Pattern::Idle);
        assert_eq!(choose(Some(&working(now, 2)), None, now), Pattern::Pushing);
        assert_eq!(choose(None, None, now), Pattern::Fault);
        let stale = working(now - crate::live::STALE_MS - 1, 0);
        assert_eq!(choose(Some(&stale), None, now), Pattern::Fault);
        let mut empty = working(now, 0);
        empty.campaign.items.clear();
        assert_eq!(choose(Some(&empty), None, now), Pattern::Fault);
        let stick = |ago: i64, accepted| StickNote {
            at_ms: now - ago,
            accepted,
            line: String::new(),
        };
        let live = working(now, 1);
        assert_eq!(
            choose(Some(&live), Some(&stick(2_000, true)), now),
            Pattern::StickAccepted
        );
        assert_eq!(
            choose(Some(&live), Some(&stick(2_000, false)), now),
            Pattern::StickRefused
        );
        assert_eq!(
            choose(Some(&live), Some(&stick(STICK_SHOW_MS, false)), now),
            Pattern::Pushing
        );
    }

    #[test]
    fn the_led_is_set_through_its_trigger() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("trigger"), "mmc0").unwrap();
        let mut led = Led::open(dir.path()).unwrap();
        led.show(Pattern::Pushing).unwrap();
        let read = |n: &str| std::fs::read_to_string(dir.path().join(n)).unwrap();
        assert_eq!(
            (read("trigger"), read("delay_on"), read("delay_off")),
            ("timer".into(), "125".into(), "125".into())
        );
        led.show(Pattern::Fault).unwrap();
        assert_eq!(
            (read("trigger"), read("brightness")),
            ("none".into(), "1".into())
        );
        assert!(Led::open(&dir.path().join("nope"))
            .unwrap_err()
            .contains("not an LED"));
    }
}
