//! The operator's dashboard over HTTPS (`o4send dashboard`, its own process and systemd unit):
//! is the box working, today's figures and charts, straight from the log, which it opens
//! read-only. Nothing here can stall the pushes: it is another process, and SQLite lets the
//! daemon write while it reads.
//!
//! Safe by default: no page and no data without logging in with the password whose hash is in
//! the settings (Imager's form or `o4send.toml`), or which the first visit chose with the code
//! shown on the box's screen (`first_visit`; only `/health` answers anyone, with one word); failed
//! logins make that client wait longer each time; sessions end when idle and after a maximum;
//! every form that changes anything carries the session's CSRF token; pages are written with
//! maud, which escapes by construction, and sent with a strict Content-Security-Policy.

mod auth;
mod campaign;
mod export;
pub mod first_visit;
mod host_check;
mod overview;
mod pages;
mod password_steer;
mod phones;
pub mod portal;
mod routes;
mod rules_view;
pub mod serve;
mod sessions;
mod steer;
mod system;
mod system_steer;
mod throttle;
pub mod tls;
mod to_https;
mod transport;
mod views;

use crate::config::Config;
use std::sync::Arc;
use std::time::Duration;

/// What every request handler shares.
pub struct App {
    pub cfg: Config,
    password: first_visit::Password,
    sessions: sessions::Sessions,
    throttle: throttle::Throttle,
    /// Where orders for the daemon go.
    spool: crate::orders::Spool,
    /// The appliance's time zone, for the times pages show.
    tz: jiff::tz::TimeZone,
    /// Today's figures, kept current: each page reads only the rows written since the last.
    today: std::sync::Mutex<Option<crate::store::RunningDay>>,
    /// The box's certificate, as the login page shows it.
    fingerprint: String,
    tls: Arc<rustls::ServerConfig>,
}

impl App {
    /// The dashboard of `cfg`; refused (one line) when its password is not one it can check.
    /// Without any password it starts for the first visit (`first_visit`).
    /// Whether a request came over the laptop's USB cable link (`setup::usb_link`).
    pub fn over_usb(&self, local: serve::Local, peer: std::net::SocketAddr) -> bool {
        crate::setup::usb_link::over_link(local.0.ip(), peer.ip(), self.cfg.dashboard.usb_address)
    }

    pub fn new(cfg: Config) -> Result<App, String> {
        let password = first_visit::Password::load(
            cfg.dashboard.password_hash.as_deref(),
            &cfg.appliance.data_dir,
        )?;
        let identity =
            tls::Identity::load_or_make(&cfg.appliance.data_dir, &host_check::host_name())?;
        let fingerprint = identity.fingerprint();
        let tls = identity.server()?;
        let d = &cfg.dashboard;
        let sessions = sessions::Sessions::new(
            Duration::from_secs(d.session_idle_secs),
            Duration::from_secs(d.session_max_secs),
        );
        Ok(App {
            spool: crate::orders::Spool::new(&cfg.appliance.data_dir),
            today: std::sync::Mutex::new(None),
            tz: jiff::tz::TimeZone::get(&cfg.appliance.time_zone)
                .unwrap_or(jiff::tz::TimeZone::UTC),
            password,
            sessions,
            throttle: throttle::Throttle::default(),
            fingerprint,
            tls,
            cfg,
        })
    }
}

impl App {
    /// Keeps `new` as the dashboard's password, hashed on a blocking thread (slow on purpose).
    async fn keep_password(self: &Arc<Self>, new: String) -> Result<(), String> {
        let app = self.clone();
        tokio::task::spawn_blocking(move || app.password.set(&new))
            .await
            .unwrap_or_else(|e| Err(e.to_string()))
    }
}

/// Serves until the process ends: HTTPS on `https`, and on `http` a redirect to it or, when the
/// operator asked for it, the dashboard in clear text.
pub async fn serve(
    app: App,
    https: tokio::net::TcpListener,
    http: tokio::net::TcpListener,
) -> std::io::Result<()> {
    use crate::config::PlainHttp;
    let plain_mode = app.cfg.dashboard.http;
    let tls = app.tls.clone();
    let router = router(app);
    let https_port = https.local_addr()?.port();
    let plain = match plain_mode {
        PlainHttp::Redirect => to_https::router(https_port),
        PlainHttp::Serve => router.clone(),
    };
    let limits = serve::Limits::DASHBOARD.within_files(2);
    tokio::try_join!(
        serve::serve(https, router, limits, Some(tls), serve::forever()),
        serve::serve(http, plain, limits, None, serve::forever()),
    )?;
    Ok(())
}

/// Every route of the dashboard, without the server under it (the fuzz targets send it requests).
pub fn router(app: App) -> axum::Router {
    routes::router(Arc::new(app))
}
