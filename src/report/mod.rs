//! What a manager reads: the day's figures and charts, computed once from the log for the status
//! command, the dashboard and the day's report (`o4send report`). Definitions of every figure
//! are in [`DEFINITIONS`], shown beside them wherever they appear.
//!
//! It sits above the store (which knows the tables) and below the command line (which knows the
//! commands); it draws with charts-rs and writes HTML with maud, which escapes by construction.

mod charts;
pub mod csv_export;
mod html;
mod period;

use crate::store::{DayFigures, Reader, StoreError};
use serde::Serialize;

pub use html::{body, page, style};
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
}

impl DayReport {
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
    let starts = day.hour_starts();
    let period = crate::store::Period {
        from_ms: day.from_ms(),
        to_ms: day.to_ms(),
        hour_starts: &starts,
        min_rssi,
    };
    Ok(DayReport {
        appliance: appliance.to_string(),
        date: day.date_text(),
        time_zone: day.zone_name().to_string(),
        hours: starts.iter().map(|&ms| day.hour_label(ms)).collect(),
        figures: reader.day(&period)?,
    })
}

/// What each figure means, in the words the page shows.
pub const DEFINITIONS: [(&str, &str); 9] = [
    ("Seen", "phones (Bluetooth devices) heard at least once that day"),
    ("In range", "seen phones heard at least once as strongly as policy.min_rssi (all seen ones when no minimum is set)"),
    ("Offered", "phones asked to accept a file: the attempt ended accepted, declined, ignored or refused the file type"),
    ("Accepted", "phones that took at least one file"),
    ("Declined / ignored", "phones that said no to a file / let the question run out"),
    ("Acceptance rate", "accepted ÷ offered"),
    ("Dwell time", "from the first to the last time a phone was heard that day"),
    ("Passers-by / visitors", "phones around for under 5 minutes / for 5 minutes or more"),
    ("Returning", "phones seen that day that had been seen on an earlier day"),
];
