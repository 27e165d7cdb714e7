//! The export page and the CSV download: attempts, visits or hotspot events of a date range
//! (local days), with phones named as `report::csv_export` says.

use super::auth::Authed;
use super::pages::frame;
use super::views::reader;
use super::App;
use crate::report::csv_export::{self, Rows};
use crate::report::LocalDay;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use maud::html;
use serde::Deserialize;
use std::sync::Arc;

pub async fn page(who: Authed) -> Html<String> {
    Html(frame(
        "o4send — export",
        Some(&who.csrf),
        false,
        html! {
            h1 { "Export" }
            form method="get" action="/export.csv" {
                p { label { "From " input type="date" name="from" required; } " "
                    label { "to " input type="date" name="to" required; } }
                p { label { input type="radio" name="rows" value="attempts" checked; " attempts (every file offered, with its answer)" } br;
                    label { input type="radio" name="rows" value="visits"; " visits (every phone heard, from when to when)" } br;
                    label { input type="radio" name="rows" value="wifi"; " hotspot (every page visit and file taken on the visitor Wi-Fi)" } }
                button type="submit" { "Download CSV" }
            }
            p { "Phones are named by a pseudonym (as in the fleet database), unless the settings say sync.raw_macs." }
        },
    ))
}

#[derive(Deserialize)]
pub struct Range {
    from: String,
    to: String,
    rows: String,
}

pub async fn csv(State(app): State<Arc<App>>, _who: Authed, Query(q): Query<Range>) -> Response {
    let result = tokio::task::spawn_blocking(move || build(&app, &q)).await;
    match result {
        Ok(Ok((name, body))) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
            ],
            body,
        )
            .into_response(),
        Ok(Err(e)) => (StatusCode::BAD_REQUEST, format!("refused: {e}")).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the export failed: {e}"),
        )
            .into_response(),
    }
}

fn build(app: &App, q: &Range) -> Result<(String, Vec<u8>), String> {
    let rows = match q.rows.as_str() {
        "attempts" => Rows::Attempts,
        "visits" => Rows::Visits,
        "wifi" => Rows::Wifi,
        other => return Err(format!("rows={other:?}: attempts, visits or wifi")),
    };
    let zone = &app.cfg.appliance.time_zone;
    let (from, to) = (
        LocalDay::new(Some(&q.from), zone)?,
        LocalDay::new(Some(&q.to), zone)?,
    );
    if to.to_ms() <= from.from_ms() {
        return Err(format!("{} is before {}", q.to, q.from));
    }
    let key = csv_export::phone_key(&app.cfg)?;
    let mut body = Vec::new();
    csv_export::write(
        &reader(app)?,
        rows,
        from.from_ms(),
        to.to_ms(),
        &key,
        &mut body,
    )?;
    let name = format!(
        "o4send-{}-{}-{}.csv",
        q.rows,
        from.date_text(),
        to.date_text()
    );
    Ok((name, body))
}
