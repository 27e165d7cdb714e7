//! The visitors' captive page on the hotspot (`o4send portal`, its own process and unit).
//!
//! A phone that joins the open visitor network asks its maker's "am I online?" address; the
//! hotspot's DNS answers every name with the appliance, so the question lands here, and any
//! answer but the expected one makes the phone open its sign-in window on this page. The page
//! shows the campaign and its files to open or save: the way to reach iPhones and every Android
//! phone that is not in pairing mode. No login, no cookies, no scripts; every value escaped.
//!
//! It reads only the active campaign's directory, reloaded when an import or rollback swaps it,
//! and knows nothing of the engine, the radios or the log's tables: what visitors did goes to
//! the visit spool (`visits`), which the daemon reads into the log.

mod page;
mod probes;
mod visits;
mod words;

use crate::content::{self, Campaign, Item};
use axum::extract::{ConnectInfo, Path as UrlPath, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

/// What every request shares.
pub struct Portal {
    /// The settings in force: where the active campaign is (a symlink an import swaps).
    cfg: crate::config::Config,
    /// The host visitors reach the page at: the hotspot's address.
    host: String,
    loaded: RwLock<Loaded>,
    visits: Arc<visits::Visits>,
}

/// The campaign as last read, and what it was read from.
struct Loaded {
    from: Option<(PathBuf, SystemTime)>,
    campaign: Arc<Campaign>,
    /// Why there is nothing to offer, when the content could not be read.
    problem: Option<String>,
}

impl Portal {
    /// The page for `cfg`, its visitors named by the DHCP `leases` file.
    pub fn new(cfg: &crate::config::Config, leases: &Path) -> Portal {
        Portal {
            visits: Arc::new(visits::Visits::new(&cfg.appliance.data_dir, leases)),
            cfg: cfg.clone(),
            host: cfg.hotspot.address.to_string(),
            loaded: RwLock::new(Loaded {
                from: None,
                campaign: Arc::new(Campaign::default()),
                problem: None,
            }),
        }
    }

    /// The active campaign, read again when the directory was swapped or changed (once: the
    /// requests that waited for that read take its result).
    fn campaign(&self) -> (Arc<Campaign>, Option<String>) {
        let now = source(&self.cfg.appliance.content_path());
        let current = |l: &Loaded| l.from.is_some() && l.from == now;
        {
            let l = self.loaded.read().unwrap_or_else(|e| e.into_inner());
            if current(&l) {
                return (l.campaign.clone(), l.problem.clone());
            }
        }
        let mut l = self.loaded.write().unwrap_or_else(|e| e.into_inner());
        if current(&l) {
            return (l.campaign.clone(), l.problem.clone());
        }
        match content::active(&self.cfg) {
            Ok(c) => {
                tracing::info!("portal: campaign \"{}\", {} items", c.name, c.items.len());
                *l = Loaded {
                    from: now,
                    campaign: Arc::new(c),
                    problem: None,
                };
            }
            Err(e) => {
                tracing::warn!("portal: {e}");
                *l = Loaded {
                    from: now,
                    campaign: Arc::new(Campaign::default()),
                    problem: Some(e.0),
                };
            }
        }
        (l.campaign.clone(), l.problem.clone())
    }

    /// What the page offers now ([`Campaign::wifi_items`]), in the box's time zone.
    fn wifi_items(&self, campaign: &Campaign) -> Vec<Arc<crate::content::Item>> {
        let tz = jiff::tz::TimeZone::get(&self.cfg.appliance.time_zone)
            .unwrap_or(jiff::tz::TimeZone::UTC);
        campaign.wifi_items(jiff::Timestamp::now().as_millisecond(), &tz)
    }

    /// Whether a request was addressed to this page rather than to a name the DNS redirected.
    fn is_ours(&self, headers: &HeaderMap) -> bool {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
        name == self.host
    }
}

/// Where the content directory points now, and when that directory last changed.
fn source(dir: &Path) -> Option<(PathBuf, SystemTime)> {
    let real = std::fs::canonicalize(dir).ok()?;
    let changed = std::fs::metadata(&real).and_then(|m| m.modified()).ok()?;
    Some((real, changed))
}

pub fn router(portal: Arc<Portal>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/f/{name}", get(open))
        .route("/save/{name}", get(save))
        .fallback(probes::elsewhere)
        .layer(axum::middleware::map_response(headers))
        .with_state(portal)
}

/// Serves the page until SIGTERM or SIGINT (or the listener fails); what visitors did is
/// spooled every two seconds and once more at the end.
pub async fn serve(portal: Portal, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let portal = Arc::new(portal);
    let flusher = tokio::spawn(visits::keep_flushing(portal.visits.clone()));
    let app = router(portal.clone());
    let served = super::serve::serve(
        listener,
        app,
        super::serve::Limits::PORTAL.within_files(1),
        None,
        stopped(),
    )
    .await;
    flusher.abort();
    let visits = portal.visits.clone();
    let _ = tokio::task::spawn_blocking(move || visits.flush()).await;
    served
}

/// Resolves at SIGTERM or SIGINT.
async fn stopped() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

type Visitor = ConnectInfo<SocketAddr>;

async fn home(
    State(p): State<Arc<Portal>>,
    ConnectInfo(from): Visitor,
    headers: HeaderMap,
) -> Response {
    if !p.is_ours(&headers) {
        return probes::to_page(&p);
    }
    let (campaign, problem) = p.campaign();
    p.visits.note(from.ip(), None, 0);
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let items = p.wifi_items(&campaign);
    let page = page::home(&campaign, &items, problem.as_deref(), accept);
    axum::response::Html(page.into_string()).into_response()
}

async fn open(s: State<Arc<Portal>>, v: Visitor, h: HeaderMap, name: UrlPath<String>) -> Response {
    file(s, v, h, name, "inline").await
}

async fn save(s: State<Arc<Portal>>, v: Visitor, h: HeaderMap, name: UrlPath<String>) -> Response {
    file(s, v, h, name, "attachment").await
}

/// One item, shown in the browser (`inline`) or saved (`attachment`), under its own name.
async fn file(
    State(p): State<Arc<Portal>>,
    ConnectInfo(from): Visitor,
    headers: HeaderMap,
    UrlPath(name): UrlPath<String>,
    disposition: &str,
) -> Response {
    if !p.is_ours(&headers) {
        return probes::to_page(&p);
    }
    let (campaign, _) = p.campaign();
    match p.wifi_items(&campaign).iter().find(|i| i.name == name) {
        Some(item) => {
            p.visits
                .note(from.ip(), Some(&item.name), item.body.len() as u64);
            body(item, disposition)
        }
        None => (StatusCode::NOT_FOUND, "no such file here").into_response(),
    }
}

fn body(item: &Arc<Item>, disposition: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, item.mime.clone()),
            (
                header::CONTENT_DISPOSITION,
                page::content_disposition(disposition, &item.name),
            ),
        ],
        // The campaign's own copy, shared: a crowd downloading costs no copies of the file.
        axum::body::Body::from(bytes::Bytes::from_owner(Shared(item.clone()))),
    )
        .into_response()
}

/// An item's body, kept alive for as long as a response sends it.
struct Shared(Arc<Item>);

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        &self.0.body
    }
}

async fn headers(mut r: axum::response::Response) -> Response {
    let h = r.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    r
}
