//! The dashboard's pages, each gathered off the async threads (the log is read with blocking
//! SQLite calls) from the daemon's live state, the log (read-only) and the order verdicts.

use super::auth::Authed;
use super::{campaign, overview, phones, system, App};
use crate::report::{self, LocalDay};
use crate::store::Reader;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use std::sync::Arc;

/// `?order=ID` after a write: the page shows that order's verdict.
#[derive(Deserialize)]
pub struct After {
    order: Option<String>,
}

pub async fn overview(State(app): State<Arc<App>>, who: Authed) -> Response {
    render(app, move |app| {
        let now_ms = now();
        let o = overview::Overview {
            name: app.cfg.appliance.name.clone(),
            tz: app.tz.clone(),
            now_ms,
            live: crate::live::read(&app.cfg.appliance.live_dir),
            stick: crate::live::stick(&app.cfg.appliance.live_dir),
            today: today(app, None),
        };
        Ok(overview::page(&o, &who.csrf))
    })
    .await
}

pub async fn phones(State(app): State<Arc<App>>, who: Authed, Query(q): Query<After>) -> Response {
    render(app, move |app| {
        let live = crate::live::read(&app.cfg.appliance.live_dir).ok();
        let (allow, deny) = live.map(|l| (l.allow, l.deny)).unwrap_or_default();
        let p = phones::Phones {
            recent: reader(app).and_then(|r| r.recent_devices(50).map_err(|e| e.to_string())),
            allow,
            deny,
            verdict: q.order.and_then(|id| app.spool.verdict(&id)),
            tz: app.tz.clone(),
            now_ms: now(),
        };
        Ok(phones::page(&p, &who.csrf))
    })
    .await
}

pub async fn campaign(
    State(app): State<Arc<App>>,
    who: Authed,
    Query(q): Query<After>,
) -> Response {
    render(app, move |app| {
        let c = campaign::CampaignPage {
            active: crate::live::read(&app.cfg.appliance.live_dir)
                .ok()
                .map(|l| l.campaign),
            verdict: q.order.and_then(|id| app.spool.verdict(&id)),
            changes: reader(app).and_then(|r| r.events("dashboard", 30).map_err(|e| e.to_string())),
            tz: app.tz.clone(),
            now_ms: now(),
        };
        Ok(campaign::page(&c, &who.csrf))
    })
    .await
}

/// The system page: release, last update, an upload and its progress, the restart.
pub async fn system(State(app): State<Arc<App>>, who: Authed) -> Response {
    render(app, move |app| {
        let data = &app.cfg.appliance.data_dir;
        let records = crate::update::trial::Records::new(&data.join("update"));
        // The slot and the restart come from the daemon, which may read /proc/cmdline.
        let live = crate::live::read(&app.cfg.appliance.live_dir).ok();
        let s = system::SystemPage {
            line: live.as_ref().and_then(|l| l.system_status.clone()),
            progress: records.progress(),
            outcome: records.outcome(),
            waiting: crate::update::spool::Spool::new(data).is_busy(),
            restart_due: live.is_some_and(|l| l.restart_due),
            password_changeable: app.password.changeable(),
        };
        Ok(system::page(&s, &who.csrf))
    })
    .await
}

/// The stand's poster for the active campaign, an SVG to print (what `o4send poster` writes).
pub async fn poster(State(app): State<Arc<App>>, _who: Authed) -> Response {
    let c = crate::live::read(&app.cfg.appliance.live_dir)
        .map(|l| l.campaign)
        .unwrap_or_default();
    let items = c.items.iter().map(|i| i.name.as_str()).collect();
    match crate::report::poster::for_stand(&app.cfg.hotspot, &c.name, &c.sender_name, items) {
        Ok(svg) => (
            [
                (header::CONTENT_TYPE, "image/svg+xml"),
                (
                    header::CONTENT_DISPOSITION,
                    "inline; filename=\"poster.svg\"",
                ),
            ],
            svg,
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
    }
}

#[derive(Deserialize)]
pub struct ReportQuery {
    date: Option<String>,
}

/// The day's report, the same page `o4send report` writes (today unless `?date=`).
pub async fn report(
    State(app): State<Arc<App>>,
    _who: Authed,
    Query(q): Query<ReportQuery>,
) -> Response {
    render(app, move |app| {
        let date = q.date.filter(|d| !d.is_empty());
        today(app, date.as_deref()).map(|r| report::page(&r))
    })
    .await
}

/// The day's report of `date` from the log; today's is kept current between pages.
pub fn today(app: &App, date: Option<&str>) -> Result<report::DayReport, String> {
    let day = LocalDay::new(date, &app.cfg.appliance.time_zone)?;
    let reader = reader(app)?;
    let (name, min_rssi) = (&app.cfg.appliance.name, app.cfg.policy.min_rssi);
    let result = match date {
        Some(_) => report::day(&reader, name, &day, min_rssi),
        None => {
            let mut running = app.today.lock().unwrap_or_else(|e| e.into_inner());
            report::day_running(&reader, name, &day, min_rssi, &mut running)
        }
    };
    let rules = crate::live::read(&app.cfg.appliance.live_dir)
        .map(|s| s.campaign.rules)
        .unwrap_or_default();
    result
        .map(|r| r.with_rules(&rules))
        .map_err(|e| e.to_string())
}

pub fn reader(app: &App) -> Result<Reader, String> {
    Reader::open(&app.cfg.appliance.db_path()).map_err(|e| e.to_string())
}

pub fn now() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// Runs `make` on a blocking thread; its page, or a plain error naming the cause.
async fn render<F>(app: Arc<App>, make: F) -> Response
where
    F: FnOnce(&App) -> Result<String, String> + Send + 'static,
{
    match super::transport::blocking(move || make(&app)).await {
        Ok(Ok(html)) => Html(html).into_response(),
        Ok(Err(e)) => (StatusCode::BAD_REQUEST, format!("refused: {e}")).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the page failed: {e}"),
        )
            .into_response(),
    }
}
