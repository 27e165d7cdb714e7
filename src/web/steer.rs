//! The dashboard's writes: phone list edits, a campaign upload, a rollback. Each checks the
//! session's CSRF token, becomes an order in the daemon's spool (`crate::orders`) naming the
//! session, and waits a little for the daemon's verdict so the page that follows can show it.

use super::auth::Authed;
use super::App;
use crate::content::{check_plain_name, CampaignFile, ItemFile};
use crate::orders::{new_id, Order, What, UPLOADS};
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// How long a page waits for the daemon's verdict before showing "sent".
const VERDICT_WAIT: Duration = Duration::from_secs(20);

#[derive(Deserialize)]
pub struct PhoneForm {
    csrf: String,
    phone: String,
    action: String,
}

pub async fn phone(State(app): State<Arc<App>>, who: Authed, Form(f): Form<PhoneForm>) -> Response {
    if !who.is_ours(&f.csrf) {
        return Authed::forged();
    }
    let phone = match f.phone.trim().parse() {
        Ok(p) => p,
        Err(e) => return bad(format!("{:?}: {e}", f.phone)),
    };
    let what = match f.action.as_str() {
        "deny" => What::Deny { phone },
        "allow" => What::Allow { phone },
        "unlist" => What::Unlist { phone },
        other => return bad(format!("{other:?} is not an action")),
    };
    order(&app, &who, what, "/phones").await
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn rollback(
    State(app): State<Arc<App>>,
    who: Authed,
    Form(f): Form<CsrfForm>,
) -> Response {
    if !who.is_ours(&f.csrf) {
        return Authed::forged();
    }
    order(&app, &who, What::Rollback, "/campaign").await
}

pub async fn upload(State(app): State<Arc<App>>, who: Authed, form: Multipart) -> Response {
    let id = new_id();
    let root = app.cfg.appliance.data_dir.join(UPLOADS).join(&id);
    match receive(&app, &who, form, &root.join("files")).await {
        Ok(()) => order(&app, &who, What::Install { upload: id }, "/campaign").await,
        Err(r) => {
            let _ = std::fs::remove_dir_all(&root);
            r
        }
    }
}

/// Drops the order and waits for its verdict; then back to `page`, which shows it.
async fn order(app: &App, who: &Authed, what: What, page: &str) -> Response {
    let order = Order {
        id: new_id(),
        who: who.who.clone(),
        at_ms: super::views::now(),
        what,
    };
    if let Err(e) = app.spool.submit(&order) {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the order could not be given: {e}"),
        )
            .into_response();
    }
    let deadline = tokio::time::Instant::now() + VERDICT_WAIT;
    let mut verdict = None;
    while tokio::time::Instant::now() < deadline && verdict.is_none() {
        tokio::time::sleep(Duration::from_millis(100)).await;
        verdict = app.spool.verdict(&order.id);
    }
    if let Some(v) = verdict.filter(|v| v.ok) {
        published_after(app, v.at_ms, deadline).await;
    }
    Redirect::to(&format!("{page}?order={}", order.id)).into_response()
}

/// Waits until the daemon has published its live state a second after the order's `at_ms` (it
/// publishes every second and reloads within milliseconds of the verdict), so the page that
/// follows shows the change made (the lists, the campaign).
async fn published_after(app: &App, at_ms: i64, deadline: tokio::time::Instant) {
    let dir = &app.cfg.appliance.live_dir;
    while tokio::time::Instant::now() < deadline {
        if crate::live::read(dir).is_ok_and(|l| l.at_ms > at_ms + 1000) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn bad(why: String) -> Response {
    (StatusCode::BAD_REQUEST, format!("refused: {why}")).into_response()
}

/// The upload's fields, its files written into `files` as they arrive (each within the item
/// limit, all within the bundle limit), and its `campaign.toml`.
async fn receive(
    app: &App,
    who: &Authed,
    mut form: Multipart,
    files: &Path,
) -> Result<(), Response> {
    let fail = |e: String| bad(e);
    std::fs::create_dir_all(files).map_err(|e| fail(format!("{}: {e}", files.display())))?;
    let mut desc = CampaignFile::default();
    let mut rules = String::new();
    let mut csrf_ok = false;
    let mut total = 0u64;
    while let Some(mut field) = form
        .next_field()
        .await
        .map_err(|e| fail(format!("the upload broke off: {e}")))?
    {
        let name = field.name().unwrap_or("").to_string();
        if name == "csrf" {
            let text = text_of(field).await.map_err(fail)?;
            if !who.is_ours(&text) {
                return Err(Authed::forged());
            }
            csrf_ok = true;
            continue;
        }
        if !csrf_ok {
            return Err(Authed::forged());
        }
        if name == "files" {
            let file = field.file_name().unwrap_or("").to_string();
            if file.is_empty() {
                continue;
            }
            check_plain_name(&file).map_err(fail)?;
            let path = files.join(&file);
            let mut out = std::fs::File::create(&path).map_err(|e| fail(format!("{file}: {e}")))?;
            let mut size = 0u64;
            while let Some(chunk) = field
                .chunk()
                .await
                .map_err(|e| fail(format!("the upload broke off: {e}")))?
            {
                size += chunk.len() as u64;
                total += chunk.len() as u64;
                limits(app, &file, size, total).map_err(fail)?;
                out.write_all(&chunk)
                    .map_err(|e| fail(format!("{file}: {e}")))?;
            }
            desc.items.push(ItemFile {
                file,
                ..ItemFile::default()
            });
            continue;
        }
        let text = text_of(field).await.map_err(fail)?;
        if name == "rules" {
            rules = text;
            continue;
        }
        describe(&mut desc, &name, text.trim()).map_err(fail)?;
    }
    if desc.items.is_empty() {
        return Err(fail("no files were uploaded".into()));
    }
    crate::content::rules::apply_form_rules(&mut desc, &rules).map_err(fail)?;
    let text = toml::to_string(&desc).map_err(|e| fail(e.to_string()))?;
    std::fs::write(files.join(crate::content::CAMPAIGN_FILE), text).map_err(|e| fail(e.to_string()))
}

/// A text field as UTF-8 (read as bytes: multer's own `text()` would link every character set
/// of encoding_rs into the binary, a fifth of a megabyte, for forms that are always UTF-8).
async fn text_of(field: axum::extract::multipart::Field<'_>) -> Result<String, String> {
    let bytes = field
        .bytes()
        .await
        .map_err(|e| format!("the upload broke off: {e}"))?;
    String::from_utf8(bytes.to_vec()).map_err(|_| "a form field is not UTF-8".to_string())
}

fn limits(app: &App, file: &str, size: u64, total: u64) -> Result<(), String> {
    let l = crate::content::bundle::Limits::of(&app.cfg);
    if size > l.max_item_bytes {
        return Err(format!(
            "{file}: larger than engine.max_item_bytes ({} bytes)",
            l.max_item_bytes
        ));
    }
    if total > l.max_bundle_bytes {
        return Err(format!(
            "the files together are larger than bundle.max_bundle_bytes ({} bytes)",
            l.max_bundle_bytes
        ));
    }
    Ok(())
}

/// One text field of the form into the campaign's description.
fn describe(desc: &mut CampaignFile, name: &str, value: &str) -> Result<(), String> {
    let some = |v: &str| (!v.is_empty()).then(|| v.to_string());
    match name {
        "name" => desc.name = value.to_string(),
        "sender_name" => desc.sender_name = some(value),
        "start" => desc.start = some(value),
        "end" => desc.end = some(value),
        "hours" => {
            desc.hours = value
                .split([',', ' '])
                .filter(|w| !w.is_empty())
                .map(str::to_string)
                .collect()
        }
        other => return Err(format!("unknown field {other:?}")),
    }
    Ok(())
}
