//! What a manager reads: the day's figures and charts, computed once from the log for the status
//! command, the dashboard and the day's report (`o4send report`). Definitions of every figure
//! are in [`DEFINITIONS`], shown beside them wherever they appear.
//!
//! It sits above the store (which knows the tables) and below the command line (which knows the
//! commands); it draws with charts-rs and writes HTML with maud, which escapes by construction.

pub mod ab;
mod charts;
pub mod csv_export;
pub mod fleet;
mod html;
mod period;
pub mod poster;

use crate::store::{DayFigures, Reader, RunningDay, StoreError};
use serde::Serialize;

pub use fleet::FleetReport;
pub use html::{body, fleet_page, page, style};
pub use period::LocalDay;

/// One appliance's day.
#[derive(Clone, Debug, Serialize)]
pub struct DayReport {
    pub appliance: String,
    /// `2026-11-29`, in the appliance's time zone.
    pub date: String,
    pub time_zone: String,
    /// The local hour each entry of `figures.per_hour` starts at (`09:00`).
    pub hours: Vec<String>,
    pub figures: DayFigures,
    /// The visitor hotspot's captive page that day (zero where there is none).
    pub hotspot: crate::store::WifiStatus,
    /// The active campaign's rules in words, and its A/B tests' figures that day.
    pub rules: Vec<String>,
    pub ab: Vec<ab::AbResult>,
}

impl DayReport {
    /// The report of `day`, whose hours start at `starts`.
    pub fn new(appliance: &str, day: &LocalDay, starts: &[i64], figures: DayFigures) -> DayReport {
        DayReport {
            appliance: appliance.to_string(),
            date: day.date_text(),
            time_zone: day.zone_name().to_string(),
            hours: starts.iter().map(|&ms| day.hour_label(ms)).collect(),
            figures,
            hotspot: Default::default(),
            rules: Vec::new(),
            ab: Vec::new(),
        }
    }

    /// Adds the campaign's rules and its A/B tests' results (from the day's per-item figures).
    pub fn with_rules(mut self, rules: &crate::content::rules::RulesSummary) -> DayReport {
        self.rules = rules.lines.clone();
        self.ab = ab::results(&rules.ab_tests, &self.figures.per_item);
        self
    }

    /// The acceptance rate: phones that took a file, of the phones asked (None when nobody was).
    pub fn acceptance(&self) -> Option<f64> {
        let f = &self.figures;
        (f.offered > 0).then(|| f.accepted as f64 / f.offered as f64)
    }
}

/// The day's report of the log `reader` reads.
pub fn day(
    reader: &Reader,
    appliance: &str,
    day: &LocalDay,
    min_rssi: Option<i16>,
) -> Result<DayReport, StoreError> {
    counted(reader, appliance, day, min_rssi, |p| reader.day(p))
}

/// The same, kept current in `running` across calls (the dashboard's today): after the first
/// call only the rows written since are read.
pub fn day_running(
    reader: &Reader,
    appliance: &str,
    day: &LocalDay,
    min_rssi: Option<i16>,
    running: &mut Option<RunningDay>,
) -> Result<DayReport, StoreError> {
    counted(reader, appliance, day, min_rssi, |p| {
        reader.day_running(p, running)
    })
}

fn counted(
    reader: &Reader,
    appliance: &str,
    day: &LocalDay,
    min_rssi: Option<i16>,
    count: impl FnOnce(&crate::store::Period) -> Result<DayFigures, StoreError>,
) -> Result<DayReport, StoreError> {
    let starts = day.hour_starts();
    let period = crate::store::Period {
        from_ms: day.from_ms(),
        to_ms: day.to_ms(),
        hour_starts: &starts,
        min_rssi,
    };
    let mut report = DayReport::new(appliance, day, &starts, count(&period)?);
    report.hotspot = reader.hotspot(day.from_ms(), day.to_ms())?;
    Ok(report)
}

/// What each figure means, in the words the page shows.
pub const DEFINITIONS: [(&str, &str); 11] = [
    ("Seen", "phones (Bluetooth devices) heard at least once that day"),
    ("In range", "seen phones heard at least once as strongly as policy.min_rssi (all seen ones when no minimum is set)"),
    ("Offered", "phones asked to accept a file: the attempt ended accepted, declined, ignored or refused the file type"),
    ("Accepted", "phones that took at least one file"),
    ("Declined / ignored", "phones that said no to a file / let the question run out"),
    ("Acceptance rate", "accepted ÷ offered"),
    ("Dwell time", "from the first to the last time a phone was heard that day"),
    ("Passers-by / visitors", "phones around for under 5 minutes / for 5 minutes or more"),
    ("Returning", "phones seen that day that had been seen on an earlier day"),
    ("A/B test", "two variants of one item, each phone given one by a hash of its pseudonym (the same at every appliance of a fleet); per variant the attempts that asked and those accepted, the acceptance rate with its 95 % confidence interval (Wilson), and whether the difference is significant at 95 % (two-proportion z-test)"),
    ("Visitor hotspot", "phones that opened the captive page on the box's open Wi-Fi (each by its Wi-Fi address, which phones choose anew per network), the page visits and the files taken there, each phone counted once per page or file in ten minutes; shown when the hotspot was used"),
];

/// What the fleet's figures mean besides [`DEFINITIONS`], shown once on the fleet's page.
pub const FLEET_DEFINITIONS: [(&str, &str); 3] = [
    ("Fleet together", "every phone counted once, however many appliances heard or asked it: seen, in range, offered, accepted, declined, ignored, passers-by, visitors and returning are the union of the appliances' phones, not the sum of their figures (attempts and the per-item and per-radio bars are sums)"),
    ("Fleet dwell time", "from the first time any appliance heard the phone that day to the last time any did; a returning phone had been seen by any appliance of the fleet on an earlier day"),
    ("Phones", "told apart by the key the appliances uploaded: a pseudonym shared by the fleet (the same phone has the same key on every appliance), or its address with sync.raw_macs"),
];
