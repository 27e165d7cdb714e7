//! The campaign's rules on the dashboard: each rule in words, every capped item and where it
//! stands (a reached cap says so in bold), how many phones each rule kept from each item, and
//! the help that explains each rule and its `campaign.toml` key.

use crate::live::CampaignLive;
use maud::{html, Markup};

/// Rules, caps and what they kept back; nothing when the campaign has no rules.
pub fn rules(c: &CampaignLive) -> Markup {
    html! {
        @if !c.rules.lines.is_empty() {
            p { "Rules:" }
            ul.rules { @for line in &c.rules.lines { li { (line) } } }
        }
        @for line in &c.caps {
            p.cap {
                @if line.ends_with(": capped") { b { "Capped: " } } @else { "Cap: " }
                (line)
            }
        }
        @if !c.held.is_empty() {
            p { "Phones kept back by the rules since the campaign started:" }
            ul { @for line in &c.held { li { (line) } } }
        }
    }
}

/// What each rule does, and its key in `campaign.toml` (docs/bundles.md has the same).
pub fn help() -> Markup {
    const RULES: [(&str, &str); 6] = [
        ("Caps", "cap_total = 500 and/or cap_per_day = 150 on an item: no more offers once that many phones accepted it (in total / on the box's day). Pushes under way count as accepted, so one box never goes over; with fleet sync the other boxes' answers count as far as the last sync brought them (see docs/bundles.md for how far a fleet can go over)."),
        ("Name filters", "name_include = [\"Galaxy*\"] and name_exclude = [\"*TV*\", \"DESKTOP-*\"], for the whole campaign or one item: the phone's Bluetooth name, ignoring case; * is any text, ? one character, /…/ a regular expression. A phone that never told its name passes exclude lists but no include list. Test phones on the allow list are not filtered."),
        ("An item's own dates and hours", "start, end and hours on an item, inside the campaign's own: the evening programme only after 17:00."),
        ("Follow-ups", "after = \"voucher.pdf\" (and after_minutes = 10) on an item: offered only to phones that accepted voucher.pdf, that long after; never to a phone that declined or ignored it."),
        ("A/B test", "ab_test = \"flyer\" on two items: each phone is offered one of them, picked by a hash of its pseudonym (the same at every box of a fleet, so nobody gets both); the day's report shows each variant's acceptance rate with its 95 % interval and whether the difference is significant yet."),
        ("Try it first", "o4send demo --campaign DIR runs the simulated hall on a campaign folder and prints what each rule did."),
    ];
    html! {
        details.help {
            summary { "What each rule does" }
            dl { @for (name, words) in RULES { dt { (name) } dd { (words) } } }
        }
    }
}
