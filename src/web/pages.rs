//! The dashboard's pages, written with maud (every value escaped by construction) and sized for a
//! phone as well as a laptop.

use crate::config::Config;
use crate::report::{self, LocalDay};
use crate::store::Reader;
use maud::{html, Markup, PreEscaped, DOCTYPE};

fn frame(title: &str, refresh: bool, content: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if refresh { meta http-equiv="refresh" content="5"; }
                title { (title) }
                style { (PreEscaped(report::style())) }
            }
            body { (content) }
        }
    }
    .into_string()
}

pub fn login(csrf: &str, message: Option<&str>) -> String {
    frame(
        "o4send — log in",
        false,
        html! {
            h1 { "o4send dashboard" }
            @if let Some(m) = message { p role="alert" { (m) } }
            form method="post" action="/login" {
                input type="hidden" name="csrf" value=(csrf);
                label { "Password " input type="password" name="password" autofocus required; }
                " "
                button type="submit" { "Log in" }
            }
        },
    )
}

/// Today at a glance; the page reloads itself every 5 s.
pub fn overview(cfg: &Config, csrf: &str) -> String {
    let name = &cfg.appliance.name;
    let content = match today(cfg) {
        Ok(r) => html! {
            p.sub { (r.date) " (" (r.time_zone) ")" }
            (report::body(&r))
        },
        Err(e) => html! { p role="alert" { "The log cannot be read: " (e) } },
    };
    frame(
        &format!("o4send — {name}"),
        true,
        html! {
            form method="post" action="/logout" style="float:right" {
                input type="hidden" name="csrf" value=(csrf);
                button type="submit" { "Log out" }
            }
            h1 { "Today at " (name) }
            (content)
        },
    )
}

fn today(cfg: &Config) -> Result<report::DayReport, String> {
    let day = LocalDay::new(None, &cfg.appliance.time_zone)?;
    let reader = Reader::open(&cfg.appliance.db_path()).map_err(|e| e.to_string())?;
    report::day(&reader, &cfg.appliance.name, &day, cfg.policy.min_rssi).map_err(|e| e.to_string())
}
