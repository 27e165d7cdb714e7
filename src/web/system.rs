//! The system page: which release runs and how the last update went, an upload of a system
//! update (installed by the root side through the same path as a stick's, while the box keeps
//! working), its progress, and the restart into it, now or at a time the operator sets. It reads
//! and writes only through `update::{status, trial, spool}`.

use super::pages::frame_refreshing;
use maud::{html, Markup};

pub struct SystemPage {
    /// "slot A, release 1.3.2: …", or None on a system without slots.
    pub line: Option<String>,
    /// What the installer does now.
    pub progress: Option<String>,
    /// The last update's outcome.
    pub outcome: Option<String>,
    /// An upload waits for the installer.
    pub waiting: bool,
    /// An installed update waits for a restart.
    pub restart_due: bool,
    /// The dashboard's password was chosen here (else the settings give it).
    pub password_changeable: bool,
}

pub fn page(s: &SystemPage, csrf: &str) -> String {
    let busy = s.waiting || s.progress.is_some();
    frame_refreshing(
        "o4send — system",
        csrf,
        busy.then_some(3),
        html! {
            h1 { "System" }
            p { "This box: " b { (s.line.as_deref().unwrap_or("one system, no update slots (updates are for the Pi image)")) } }
            @if s.waiting { p.note role="status" { "Received: the installer starts in a moment…" } }
            @if let Some(p) = &s.progress { p.note role="status" { "Installing: " (p) } }
            @if let Some(o) = s.outcome.as_deref().filter(|_| !busy) { p { "Last update: " (o) } }
            @if s.restart_due && !busy { (restart_form(csrf)) }
            @if !busy { (upload_form(csrf)) }
            (password_form(csrf, s.password_changeable))
        },
    )
}

fn restart_form(csrf: &str) -> Markup {
    html! {
        h2 { "Restart into the new system" }
        form method="post" action="/system/restart" {
            input type="hidden" name="csrf" value=(csrf);
            p {
                label { input type="radio" name="when" value="now" checked; " now" } " "
                label { input type="radio" name="when" value="at"; " at " }
                input type="time" name="time" value="03:00" aria-label="restart time";
            }
            button type="submit" { "Restart" }
        }
        p { "Phones are served until the restart; it takes about two minutes. If the new system does not run healthy, the box goes back to this one by itself." }
    }
}

fn password_form(csrf: &str, changeable: bool) -> Markup {
    let max = crate::config::password::MAX_LEN;
    html! {
        h2 { "The dashboard's password" }
        @if changeable {
            form method="post" action="/system/password" {
                input type="hidden" name="csrf" value=(csrf);
                p { label { "Current password " input type="password" name="current" autocomplete="current-password" maxlength=(max) required; } }
                (super::pages::new_password_fields())
                button type="submit" { "Change the password" }
            }
        } @else {
            p { "It comes from Raspberry Pi Imager's form or " code { "o4send.toml" } " on the card: change it there." }
        }
    }
}

fn upload_form(csrf: &str) -> Markup {
    html! {
        h2 { "Install a system update" }
        form method="post" action="/system/upload" enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(csrf);
            p { label { "Update file (o4send-VERSION-pi.raucb) " input type="file" name="bundle" accept=".raucb" required; } }
            button type="submit" { "Upload and install" }
        }
        p { "Checked (its signature and every byte) before anything is written; the box keeps working and restarts only when you say so." }
    }
}
