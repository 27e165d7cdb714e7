//! The campaign page: what is being offered, a form to upload a new campaign (files, name,
//! sender name, dates, hours) that the daemon installs like a USB stick, a rollback button, and
//! the log's record of every change made from the dashboard, with who and when.

use super::pages::{clock_time, frame, verdict_note};
use crate::live::CampaignLive;
use crate::orders::Verdict;
use crate::store::EventRow;
use jiff::tz::TimeZone;
use maud::{html, Markup};

/// The rules field's example: `campaign.toml` keys, as docs/bundles.md explains them.
const RULES_EXAMPLE: &str = "name_exclude = [\"*TV*\", \"DESKTOP-*\"]\n\n[[items]]\nfile = \"voucher.pdf\"\ncap_total = 500\ncap_per_day = 150\n\n[[items]]\nfile = \"evening.pdf\"\nhours = [\"17:00-22:00\"]\nafter = \"voucher.pdf\"";

pub struct CampaignPage {
    pub active: Option<CampaignLive>,
    pub verdict: Option<Verdict>,
    pub changes: Result<Vec<EventRow>, String>,
    pub tz: TimeZone,
    pub now_ms: i64,
}

pub fn page(c: &CampaignPage, csrf: &str) -> String {
    frame(
        "o4send — campaign",
        Some(csrf),
        false,
        html! {
            h1 { "Campaign" }
            (verdict_note(c.verdict.as_ref()))
            (active(c.active.as_ref()))
            form method="post" action="/campaign/rollback" {
                input type="hidden" name="csrf" value=(csrf);
                button type="submit" { "Roll back to the previous campaign" }
            }
            h2 { "Upload a new campaign" }
            (upload_form(csrf))
            (super::rules_view::help())
            h2 { "Changes made from the dashboard" }
            (changes(c))
        },
    )
}

fn active(c: Option<&CampaignLive>) -> Markup {
    let Some(c) = c else {
        return html! { p { "The daemon is not running: the active campaign is not known." } };
    };
    html! {
        p { "Active: " b { (c.name) } " (sender name " (c.sender_name) ")" }
        ul { @for i in &c.items { li { (i.name) " — " (i.mime) ", " (i.bytes) " bytes" } } }
        (super::rules_view::rules(c))
    }
}

fn upload_form(csrf: &str) -> Markup {
    html! {
        form method="post" action="/campaign" enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(csrf);
            p { label { "Name " input name="name" required maxlength="100"; } }
            p { label { "Sender name (what phones show) " input name="sender_name" maxlength="100"; } }
            p { label { "First day " input type="date" name="start"; } " "
                label { "Last day " input type="date" name="end"; } }
            p { label { "Daily hours " input name="hours" placeholder="09:00-18:00, 19:00-21:00"; } }
            p { label { "Files " input type="file" name="files" multiple required; } }
            p { label { "Rules (optional: caps, name filters, an item's own hours, follow-ups, A/B tests; see below) "
                br;
                textarea name="rules" rows="8" cols="60" spellcheck="false" placeholder=(RULES_EXAMPLE) {}
            } }
            button type="submit" { "Install" }
        }
        p { "Installed like a USB stick: checked, swapped in at once, the previous campaign kept for a rollback." }
    }
}

fn changes(c: &CampaignPage) -> Markup {
    match &c.changes {
        Err(e) => html! { p role="alert" { "The log cannot be read: " (e) } },
        Ok(rows) if rows.is_empty() => html! { p { "none yet" } },
        Ok(rows) => html! {
            table { @for e in rows { tr {
                td { (clock_time(e.at_ms, c.now_ms, &c.tz)) } td { (e.level) } td { (e.message) }
            } } }
        },
    }
}
