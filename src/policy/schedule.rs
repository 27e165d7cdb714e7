//! When a campaign may push: start and end dates and daily opening hours, in the appliance's
//! time zone. An expo hall closes at night; phones of cleaners and guards at 3 a.m. are not
//! the audience.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use std::fmt;
use std::str::FromStr;

/// A daily window such as `09:00-18:00`; `22:00-02:00` spans midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DailyWindow {
    pub from: Time,
    pub to: Time,
}

impl DailyWindow {
    fn contains(&self, t: Time) -> bool {
        if self.from <= self.to {
            self.from <= t && t < self.to
        } else {
            t >= self.from || t < self.to
        }
    }
}

impl FromStr for DailyWindow {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| format!("{s:?} is not a daily window like \"09:00-18:00\" ({why})");
        let (a, b) = s.split_once('-').ok_or_else(|| bad("no '-'"))?;
        let from: Time = a.trim().parse().map_err(|e| bad(&format!("{e}")))?;
        let to: Time = b.trim().parse().map_err(|e| bad(&format!("{e}")))?;
        if from == to {
            return Err(bad("empty window"));
        }
        Ok(DailyWindow { from, to })
    }
}

impl fmt::Display for DailyWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}",
            self.from.strftime("%H:%M"),
            self.to.strftime("%H:%M")
        )
    }
}

/// Dates (inclusive) and daily hours. Empty means always open.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schedule {
    pub start: Option<Date>,
    pub end: Option<Date>,
    pub hours: Vec<DailyWindow>,
}

impl Schedule {
    /// Whether pushing is allowed at `wall_ms` (Unix milliseconds) in `tz`.
    pub fn is_open(&self, wall_ms: i64, tz: &TimeZone) -> bool {
        let Ok(ts) = Timestamp::from_millisecond(wall_ms) else {
            return false;
        };
        let local = ts.to_zoned(tz.clone());
        let date = local.date();
        if self.start.is_some_and(|s| date < s) || self.end.is_some_and(|e| date > e) {
            return false;
        }
        self.hours.is_empty() || self.hours.iter().any(|w| w.contains(local.time()))
    }

    /// Builds a schedule from the text forms used in campaign files.
    pub fn parse(
        start: Option<&str>,
        end: Option<&str>,
        hours: &[String],
    ) -> Result<Schedule, String> {
        let date = |key: &str, v: &str| -> Result<Date, String> {
            v.parse()
                .map_err(|e| format!("{key} = {v:?}: not a date like 2026-11-20 ({e})"))
        };
        let schedule = Schedule {
            start: start.map(|v| date("start", v)).transpose()?,
            end: end.map(|v| date("end", v)).transpose()?,
            hours: hours
                .iter()
                .map(|h| h.parse())
                .collect::<Result<_, _>>()
                .map_err(|e| format!("hours: {e}"))?,
        };
        if let (Some(s), Some(e)) = (schedule.start, schedule.end) {
            if e < s {
                return Err(format!("end = \"{e}\" is before start = \"{s}\""));
            }
        }
        Ok(schedule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str, tz: &str) -> i64 {
        let dt: jiff::civil::DateTime = s.parse().unwrap();
        dt.to_zoned(TimeZone::get(tz).unwrap())
            .unwrap()
            .timestamp()
            .as_millisecond()
    }

    #[test]
    fn hours_and_dates_in_the_configured_zone() {
        let s = Schedule::parse(
            Some("2026-11-20"),
            Some("2026-11-22"),
            &["09:00-18:00".into()],
        )
        .unwrap();
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        assert!(s.is_open(ms("2026-11-21T09:00", "Europe/Berlin"), &berlin));
        assert!(!s.is_open(ms("2026-11-21T08:59", "Europe/Berlin"), &berlin));
        assert!(!s.is_open(ms("2026-11-21T18:00", "Europe/Berlin"), &berlin));
        assert!(!s.is_open(ms("2026-11-19T12:00", "Europe/Berlin"), &berlin));
        assert!(s.is_open(ms("2026-11-22T17:59", "Europe/Berlin"), &berlin));
        assert!(!s.is_open(ms("2026-11-23T12:00", "Europe/Berlin"), &berlin));
        // 08:30 UTC is 09:30 in Berlin: open there, closed for a UTC appliance.
        assert!(!s.is_open(ms("2026-11-21T08:30", "UTC"), &TimeZone::UTC));
        assert!(s.is_open(ms("2026-11-21T08:30", "UTC"), &berlin));
    }

    #[test]
    fn window_over_midnight_and_bad_input() {
        let s = Schedule::parse(None, None, &["22:00-02:00".into()]).unwrap();
        assert!(s.is_open(ms("2026-01-01T23:00", "UTC"), &TimeZone::UTC));
        assert!(s.is_open(ms("2026-01-01T01:00", "UTC"), &TimeZone::UTC));
        assert!(!s.is_open(ms("2026-01-01T12:00", "UTC"), &TimeZone::UTC));
        assert!(Schedule::parse(None, None, &["9-5".into()])
            .unwrap_err()
            .contains("9-5"));
        assert!(Schedule::parse(Some("2026-11-22"), Some("2026-11-20"), &[])
            .unwrap_err()
            .contains("before"));
        assert!(Schedule::parse(Some("tomorrow"), None, &[])
            .unwrap_err()
            .contains("start"));
        assert!(Schedule::default().is_open(0, &TimeZone::UTC));
    }
}
