//! A calendar day where the appliance stands: its bounds and hours as instants, so the figures
//! follow local time (opening hours, "9 to 10"), daylight-saving days included (23 or 25 hours).

use crate::store;
use jiff::{civil::Date, tz::TimeZone, Timestamp};

#[derive(Debug)]
pub struct LocalDay {
    date: Date,
    zone: TimeZone,
    zone_name: String,
}

impl LocalDay {
    /// `date` (`YYYY-MM-DD`, or today when None) in the IANA zone `zone`.
    pub fn new(date: Option<&str>, zone: &str) -> Result<LocalDay, String> {
        let tz = TimeZone::get(zone).map_err(|e| format!("time zone {zone:?}: {e}"))?;
        let date = match date {
            Some(d) => d
                .parse::<Date>()
                .map_err(|e| format!("date {d:?}: {e} (expected YYYY-MM-DD)"))?,
            None => Timestamp::now().to_zoned(tz.clone()).date(),
        };
        Ok(LocalDay {
            date,
            zone: tz,
            zone_name: zone.to_string(),
        })
    }

    pub fn from_ms(&self) -> i64 {
        store::day_bounds(&self.zone, self.date).0
    }

    pub fn to_ms(&self) -> i64 {
        store::day_bounds(&self.zone, self.date).1
    }

    /// Every hour's start, one hour apart in real time, from midnight to the next.
    pub fn hour_starts(&self) -> Vec<i64> {
        store::hour_starts(self.from_ms(), self.to_ms())
    }

    /// `09:00` for the hour starting at `ms`.
    pub fn hour_label(&self, ms: i64) -> String {
        Timestamp::from_millisecond(ms)
            .map(|t| t.to_zoned(self.zone.clone()).strftime("%H:%M").to_string())
            .unwrap_or_default()
    }

    pub fn date_text(&self) -> String {
        self.date.to_string()
    }

    pub fn zone_name(&self) -> &str {
        &self.zone_name
    }
}

#[cfg(test)]
mod tests {
    use super::LocalDay;

    #[test]
    fn a_day_has_its_local_hours() {
        let day = LocalDay::new(Some("2026-11-29"), "Europe/Berlin").unwrap();
        assert_eq!(day.hour_starts().len(), 24);
        assert_eq!(day.hour_label(day.from_ms()), "00:00");
        let spring = LocalDay::new(Some("2026-03-29"), "Europe/Berlin").unwrap();
        assert_eq!(spring.hour_starts().len(), 23);
        assert_eq!(spring.hour_label(spring.hour_starts()[2]), "03:00");
        assert!(LocalDay::new(Some("29.11.2026"), "UTC")
            .unwrap_err()
            .contains("YYYY-MM-DD"));
    }
}
