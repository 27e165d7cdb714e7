//! The frame every dashboard page shares (navigation, style, the log-out form) and the login
//! page, written with maud (every value escaped by construction) and sized for a phone as well as
//! a laptop; plus the small words pages use for times.

use crate::report;
use jiff::tz::TimeZone;
use maud::{html, Markup, PreEscaped, DOCTYPE};

const STYLE: &str = "
nav{display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:center;margin-bottom:.6rem}
nav a{font-weight:600}nav form{margin-left:auto}
.verdict{font-size:1.2rem;font-weight:700;padding:.6rem;border-radius:.5rem;background:#e8f5e9}
.verdict.fault{background:#ffebee}.verdict.off{background:#eee}
table{border-collapse:collapse;width:100%;margin:.5rem 0}td,th{border-bottom:1px solid #eee;padding:.3rem;text-align:left;vertical-align:top}
.status th{width:11rem}.note{padding:.5rem;border-radius:.4rem;background:#fff8e1}
.warning{padding:.5rem;border-radius:.4rem;background:#ffebee;font-weight:600}
td form,li form{display:inline}button{margin:.1rem}code{word-break:break-all}
";

/// The script that keeps a live page current (`/live.js`).
pub const LIVE_JS: &str = include_str!("static/live.js");

/// A whole page: a `live` one keeps itself current (every 2 s with `/live.js`, every 5 s by
/// reloading when scripts are off).
pub fn frame(title: &str, csrf: Option<&str>, live: bool, content: Markup) -> String {
    let head = html! {
        @if live {
            script src="/live.js" defer {}
            noscript { meta http-equiv="refresh" content="5"; }
        }
    };
    document(title, csrf, head, content)
}

/// A page that reloads itself every `secs` seconds while something runs (no script needed).
pub fn frame_refreshing(title: &str, csrf: &str, secs: Option<u32>, content: Markup) -> String {
    let head = html! { @if let Some(s) = secs { meta http-equiv="refresh" content=(s); } };
    document(title, Some(csrf), head, content)
}

fn document(title: &str, csrf: Option<&str>, head: Markup, content: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                (head)
                title { (title) }
                style { (PreEscaped(report::style())) (PreEscaped(STYLE)) }
            }
            body {
                @if let Some(csrf) = csrf { (nav(csrf)) }
                @if super::transport::is_plain() {
                    p.warning role="alert" {
                        "This page came over plain HTTP: anyone on this network can read the \
                         password and the session. Open the dashboard with https:// instead."
                    }
                }
                main { (content) }
            }
        }
    }
    .into_string()
}

fn nav(csrf: &str) -> Markup {
    html! {
        nav {
            a href="/" { "Overview" }
            a href="/phones" { "Phones" }
            a href="/campaign" { "Campaign" }
            a href="/report" { "Day's report" }
            a href="/export" { "Export" }
            a href="/poster.svg" { "Poster" }
            a href="/system" { "System" }
            form method="post" action="/logout" {
                input type="hidden" name="csrf" value=(csrf);
                button type="submit" { "Log out" }
            }
        }
    }
}

/// The login form, and the certificate's fingerprint to compare with the browser's.
pub fn login(csrf: &str, message: Option<&str>, fingerprint: &str) -> String {
    frame(
        "o4send — log in",
        None,
        false,
        html! {
            h1 { "o4send dashboard" }
            @if let Some(m) = message { p role="alert" { (m) } }
            form method="post" action="/login" {
                input type="hidden" name="csrf" value=(csrf);
                label { "Password " input type="password" name="password" maxlength=(crate::config::password::MAX_LEN) autofocus required; }
                " "
                button type="submit" { "Log in" }
            }
            details {
                summary { "Is this really your box?" }
                p { "The browser warned about this box's certificate because the box made it \
                     itself. Its SHA-256 fingerprint is also on the box's screen and in \
                     " code { "o4send status" } ":" }
                p { code { (fingerprint) } }
                p { "If the browser's certificate details show another, do not log in." }
            }
        },
    )
}

/// The new password and the same again (the first visit's form and the System page's change).
pub fn new_password_fields() -> Markup {
    let (min, max) = (
        super::first_visit::MIN_LEN,
        crate::config::password::MAX_LEN,
    );
    html! {
        p { label { "New password " input type="password" name="password" autocomplete="new-password" minlength=(min) maxlength=(max) required; } }
        p { label { "The same again " input type="password" name="again" autocomplete="new-password" minlength=(min) maxlength=(max) required; } }
    }
}

/// The first visit's form while no password is set: the code from the box's screen and the new
/// password, twice.
pub fn first_visit(csrf: &str, message: Option<&str>, fingerprint: &str, usb: bool) -> String {
    frame(
        "o4send — choose a password",
        None,
        false,
        html! {
            h1 { "o4send dashboard: choose its password" }
            @if usb {
                p { "This box has no dashboard password yet. You are connected to it by the USB cable,                      which only someone at the box can plug in: choose the password here." }
            } @else {
                p { "This box has no dashboard password yet. Its screen (and " code { "o4send status" }
                    ") shows a code of eight digits: enter it here with the password you choose.                      Nobody without the code can do this. (Over a USB cable from your laptop to the box                      no code is needed.)" }
            }
            @if let Some(m) = message { p role="alert" { (m) } }
            form method="post" action="/login" {
                input type="hidden" name="csrf" value=(csrf);
                @if !usb {
                    p { label { "Code from the box's screen " input type="text" name="code" inputmode="numeric" autocomplete="off" maxlength="20" autofocus required; } }
                }
                (new_password_fields())
                button type="submit" { "Set the password and log in" }
            }
            p { "It is kept hashed on the box; change it later on the System page. A password in                  Imager's form or " code { "o4send.toml" } " replaces it." }
            details {
                summary { "Is this really your box?" }
                p { "Its certificate's SHA-256 fingerprint, also on the box's screen: " code { (fingerprint) } }
            }
        },
    )
}

/// A login that was not checked now: the message and the way back to the form (which brings
/// its own token and cookie).
pub fn login_again(message: &str) -> String {
    frame(
        "o4send — log in",
        None,
        false,
        html! {
            h1 { "o4send dashboard" }
            p role="alert" { (message) }
            p { a href="/login" { "Back to the login form" } }
        },
    )
}

/// The verdict of the order just given, when the page was reached after one.
pub fn verdict_note(verdict: Option<&crate::orders::Verdict>) -> Markup {
    html! {
        @if let Some(v) = verdict {
            p.note role="status" { @if v.ok { "Done: " } @else { "Not done: " } (v.line) }
        }
    }
}

/// `14:03:22` in the appliance's time zone, with the date when it is not today.
pub fn clock_time(ms: i64, now_ms: i64, tz: &TimeZone) -> String {
    let (Ok(t), Ok(now)) = (
        jiff::Timestamp::from_millisecond(ms),
        jiff::Timestamp::from_millisecond(now_ms),
    ) else {
        return "–".into();
    };
    let (t, now) = (t.to_zoned(tz.clone()), now.to_zoned(tz.clone()));
    if t.date() == now.date() {
        t.strftime("%H:%M:%S").to_string()
    } else {
        t.strftime("%Y-%m-%d %H:%M").to_string()
    }
}

/// `12 s ago`, `5 min ago`, `3 h ago`.
pub fn ago(ms: i64, now_ms: i64) -> String {
    let s = ((now_ms - ms) / 1000).max(0);
    match s {
        0..=119 => format!("{s} s ago"),
        120..=7199 => format!("{} min ago", s / 60),
        _ => format!("{} h ago", s / 3600),
    }
}
