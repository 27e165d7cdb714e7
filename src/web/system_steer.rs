//! The system page's writes: an uploaded system update, streamed into the update spool and handed
//! over whole to the root side, and the restart request. Both check the session's CSRF token
//! first; the upload must be one `.raucb` file (the root side checks everything else).

use super::auth::Authed;
use super::App;
use crate::update::spool::{RestartAt, Spool};
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use std::io::Write;
use std::sync::Arc;

/// The largest update accepted (a root slot is 1 GiB; its bundle is smaller).
pub const MAX_UPDATE_BYTES: u64 = 1 << 30;

pub async fn upload(State(app): State<Arc<App>>, who: Authed, form: Multipart) -> Response {
    let spool = Spool::new(&app.cfg.appliance.data_dir);
    if spool.is_busy() {
        return refused(
            StatusCode::CONFLICT,
            "an update is already waiting to be installed",
        );
    }
    match receive(&who, form, &spool).await {
        Ok(()) => match spool.hand_over() {
            Ok(()) => Redirect::to("/system").into_response(),
            Err(e) => refused(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("the upload could not be handed over: {e}"),
            ),
        },
        Err(r) => {
            spool.discard_part();
            r
        }
    }
}

/// Streams the form's `bundle` file into the spool's part file, after the CSRF field.
async fn receive(who: &Authed, mut form: Multipart, spool: &Spool) -> Result<(), Response> {
    let broke = |e: axum::extract::multipart::MultipartError| {
        refused(
            StatusCode::BAD_REQUEST,
            &format!("the upload broke off: {e}"),
        )
    };
    let mut csrf_ok = false;
    let mut got = false;
    while let Some(mut field) = form.next_field().await.map_err(broke)? {
        match field.name().unwrap_or("") {
            "csrf" => {
                let text = field.bytes().await.map_err(broke)?;
                if !who.is_ours(&String::from_utf8_lossy(&text)) {
                    return Err(Authed::forged());
                }
                csrf_ok = true;
            }
            "bundle" if csrf_ok && !got => {
                let name = field.file_name().unwrap_or("").to_lowercase();
                if !name.ends_with(".raucb") {
                    return Err(refused(
                        StatusCode::BAD_REQUEST,
                        "a system update is a .raucb file",
                    ));
                }
                let part = spool.part().map_err(|e| io_refused(&e))?;
                let mut out = std::fs::File::create(&part).map_err(|e| io_refused(&e))?;
                let mut size = 0u64;
                while let Some(chunk) = field.chunk().await.map_err(broke)? {
                    size += chunk.len() as u64;
                    if size > MAX_UPDATE_BYTES {
                        return Err(refused(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "larger than any system update (1 GiB)",
                        ));
                    }
                    out.write_all(&chunk).map_err(|e| io_refused(&e))?;
                }
                out.sync_all().map_err(|e| io_refused(&e))?;
                spool
                    .set_name(field.file_name().unwrap_or(""))
                    .map_err(|e| io_refused(&e))?;
                got = true;
            }
            _ if !csrf_ok => return Err(Authed::forged()),
            _ => {}
        }
    }
    if !got {
        return Err(refused(
            StatusCode::BAD_REQUEST,
            "no update file was uploaded",
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
pub struct RestartForm {
    csrf: String,
    when: String,
    #[serde(default)]
    time: String,
}

pub async fn restart(
    State(app): State<Arc<App>>,
    who: Authed,
    Form(f): Form<RestartForm>,
) -> Response {
    if !who.is_ours(&f.csrf) {
        return Authed::forged();
    }
    let at = match f.when.as_str() {
        "now" => Ok(RestartAt::Now),
        "at" => RestartAt::parse(&f.time),
        other => Err(format!("{other:?} is not a choice")),
    };
    let at = match at {
        Ok(at) => at,
        Err(e) => return refused(StatusCode::BAD_REQUEST, &e),
    };
    match Spool::new(&app.cfg.appliance.data_dir).request_restart(at) {
        Ok(()) => Redirect::to("/system").into_response(),
        Err(e) => io_refused(&e),
    }
}

fn refused(status: StatusCode, why: &str) -> Response {
    (status, format!("refused: {why}")).into_response()
}

fn io_refused(e: &std::io::Error) -> Response {
    refused(
        StatusCode::INTERNAL_SERVER_ERROR,
        &format!("the update spool: {e}"),
    )
}
