//! The phones page: the phones heard lately, each with a button to put it on the deny list (an
//! opt-out) or the allow list (a test phone), the lists in force, and a form for an address
//! typed in. Every button is a POST with the session's CSRF token; the daemon applies it.

use super::pages::{ago, clock_time, frame, verdict_note};
use crate::orders::Verdict;
use crate::store::RecentDevice;
use jiff::tz::TimeZone;
use maud::{html, Markup};

pub struct Phones {
    pub recent: Result<Vec<RecentDevice>, String>,
    /// The lists in force (from the daemon's live state), when it is running.
    pub allow: Vec<String>,
    pub deny: Vec<String>,
    pub verdict: Option<Verdict>,
    pub tz: TimeZone,
    pub now_ms: i64,
}

pub fn page(p: &Phones, csrf: &str) -> String {
    frame(
        "o4send — phones",
        Some(csrf),
        false,
        html! {
            h1 { "Phones" }
            (verdict_note(p.verdict.as_ref()))
            h2 { "Add by address" }
            form method="post" action="/phones" {
                input type="hidden" name="csrf" value=(csrf);
                label { "Bluetooth address " input name="phone" placeholder="00:11:22:33:44:55" required; }
                " " (buttons())
            }
            h2 { "Deny list (never contacted)" }
            (list(&p.deny, csrf))
            h2 { "Allow list (test phones, offered again)" }
            (list(&p.allow, csrf))
            h2 { "Heard lately" }
            (recent(p, csrf))
        },
    )
}

fn buttons() -> Markup {
    html! {
        button name="action" value="deny" { "Deny" }
        button name="action" value="allow" { "Allow" }
    }
}

fn list(phones: &[String], csrf: &str) -> Markup {
    html! {
        @if phones.is_empty() { p { "none" } }
        ul { @for a in phones { li {
            code { (a) } " "
            form method="post" action="/phones" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="phone" value=(a);
                button name="action" value="unlist" { "Remove" }
            }
        } } }
    }
}

fn recent(p: &Phones, csrf: &str) -> Markup {
    let rows = match &p.recent {
        Ok(rows) => rows,
        Err(e) => return html! { p role="alert" { "The log cannot be read: " (e) } },
    };
    html! {
        table.recent {
            tr { th { "Phone" } th { "Name" } th { "Last heard" } th { "Signal" } th { "Last answer" } th {} }
            @for d in rows { tr {
                td { code { (d.addr) } }
                td.name { (d.name.as_deref().unwrap_or("")) }
                td { (clock_time(d.last_seen_ms, p.now_ms, &p.tz)) " (" (ago(d.last_seen_ms, p.now_ms)) ")" }
                td { (d.rssi.map_or(String::new(), |r| format!("{r} dBm"))) }
                td { (d.last_outcome.as_deref().unwrap_or("–")) }
                td { form method="post" action="/phones" {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="phone" value=(d.addr);
                    (buttons())
                } }
            } }
        }
    }
}
