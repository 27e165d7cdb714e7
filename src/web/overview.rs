//! The overview page: is the box working (from the daemon's live state), today's figures and
//! charts (from the log), and what the status LED is saying. It renews itself every 2 s
//! (`/live.js`), so a push that ends shows within 5 s.

use super::pages::{ago, clock_time, frame};
use crate::live::led;
use crate::live::{LiveState, StickNote};
use crate::report::{self, DayReport};
use jiff::tz::TimeZone;
use maud::{html, Markup};

/// Everything the overview shows.
pub struct Overview {
    pub name: String,
    pub tz: TimeZone,
    pub now_ms: i64,
    pub live: Result<LiveState, String>,
    pub stick: Option<StickNote>,
    pub today: Result<DayReport, String>,
}

pub fn page(o: &Overview, csrf: &str) -> String {
    let today = match &o.today {
        Ok(r) => html! {
            h2 { "Today, " (r.date) " (" (r.time_zone) ")" }
            (report::body(r))
        },
        Err(e) => html! { p role="alert" { "The log cannot be read: " (e) } },
    };
    frame(
        &format!("o4send — {}", o.name),
        Some(csrf),
        true,
        html! {
            h1 { (o.name) }
            (verdict(o))
            (status(o))
            (today)
            (led_mapping())
        },
    )
}

/// One line: working, pushing, a fault, or the daemon not running.
fn verdict(o: &Overview) -> Markup {
    let live = o.live.as_ref().ok().filter(|l| l.fresh(o.now_ms));
    let pattern = led::choose(live, o.stick.as_ref(), o.now_ms);
    let (class, text) = match (&o.live, live) {
        (Err(e), _) => ("verdict off", format!("The daemon is not running ({e})")),
        (Ok(l), None) => (
            "verdict off",
            format!(
                "The daemon is not answering: its last word was {}",
                ago(l.at_ms, o.now_ms)
            ),
        ),
        (Ok(_), Some(l)) if !l.faults().is_empty() => {
            ("verdict fault", format!("Fault: {}", l.faults().join("; ")))
        }
        (Ok(_), Some(l)) if l.in_flight > 0 => (
            "verdict",
            format!("Working: offering a file to {} phone(s) now", l.in_flight),
        ),
        (Ok(_), Some(_)) => ("verdict", "Working: waiting for phones".to_string()),
    };
    html! {
        p class=(class) role="status" { (text) }
        p { "Status LED now: " b { (pattern.name()) } }
    }
}

fn status(o: &Overview) -> Markup {
    let Ok(l) = &o.live else { return html! {} };
    let when = |ms: Option<i64>| match ms {
        Some(ms) => format!(
            "{} ({})",
            clock_time(ms, o.now_ms, &o.tz),
            ago(ms, o.now_ms)
        ),
        None => "not yet".into(),
    };
    let c = &l.campaign;
    html! {
        table.status {
            tr { th { "Radios" } td {
                @for r in &l.radios { (r.id) " (" (r.role) "): " (r.busy) " of " (r.slots) " slots pushing" br; }
                @if l.radios.is_empty() { "none" }
            } }
            tr { th { "Pushes in flight" } td { (l.in_flight) } }
            tr { th { "Last sighting" } td { (when(l.last_sighting_ms)) } }
            tr { th { "Last push ended" } td { (when(l.last_push_end_ms)) } }
            tr { th { "Watchdog" } td {
                @if l.stalls.is_empty() { "every loop healthy" } @else { (l.stalls.join("; ")) }
            } }
            tr { th { "Clock" } td { @if l.clock_synced { "synchronised" } @else { "not synchronised (times may be off)" } } }
            tr { th { "Fleet sync" } td { (sync_words(l, o)) } }
            tr { th { "Campaign" } td {
                b { (c.name) } " — sender name " (c.sender_name) br;
                "Dates: " (c.start.as_deref().unwrap_or("any")) " to " (c.end.as_deref().unwrap_or("any"))
                "; hours: " @if c.hours.is_empty() { "all day" } @else { (c.hours.join(", ")) } br;
                @if c.open_now { "Inside its dates and hours now: pushing." } @else { b { "Outside its dates or hours now: not pushing." } }
                ul { @for i in &c.items { li { (i.name) " (" (i.mime) ", " (i.bytes) " bytes)" } } }
                (super::rules_view::rules(c))
            } }
            @if let Some(s) = &l.config_status { tr { th { "Settings" } td { (s) } } }
            @if let Some(s) = &l.system_status { tr { th { "System" } td { (s) } } }
            @if let Some(s) = &o.stick { tr { th { "Last USB stick" } td {
                (clock_time(s.at_ms, o.now_ms, &o.tz)) ": " @if s.accepted { "accepted" } @else { "refused" } " — " (s.line)
            } } }
        }
    }
}

fn sync_words(l: &LiveState, o: &Overview) -> String {
    if !l.sync.on {
        return "off".into();
    }
    let backlog = l.sync.backlog.map_or("?".into(), |b| b.to_string());
    let last = l.sync.last_success_ms.map_or("never".into(), |ms| {
        format!(
            "{} ({})",
            clock_time(ms, o.now_ms, &o.tz),
            ago(ms, o.now_ms)
        )
    });
    format!("{backlog} rows waiting; last success {last}")
}

/// What the LED's patterns mean (also in docs/dashboard.md).
fn led_mapping() -> Markup {
    html! {
        h2 { "The status LED" }
        table {
            tr { th { "It is" } th { "It means" } }
            @for (_, look, meaning) in &led::MAPPING { tr { td { (look) } td { (meaning) } } }
        }
    }
}
