//! `o4send dashboard`: the operator's web dashboard, its own process (o4send-dashboard.service).

use super::{optional_config, runtime, CliError};
use crate::config::PlainHttp;
use std::path::Path;
use std::process::ExitCode;

pub fn dashboard(config: Option<&Path>) -> Result<ExitCode, CliError> {
    let cfg = optional_config(config)?;
    let d = &cfg.dashboard;
    let https = format!("{}:{}", d.address, d.port);
    let http = format!("{}:{}", d.address, d.http_port);
    let plain = d.http;
    let app = crate::web::App::new(cfg).map_err(CliError::Config)?;
    runtime()?.block_on(async move {
        let https_listener = bind(&https).await?;
        let http_listener = bind(&http).await?;
        tracing::info!("dashboard: listening on https://{https}/");
        match plain {
            PlainHttp::Redirect => tracing::info!("dashboard: http://{http}/ redirects to HTTPS"),
            PlainHttp::Serve => tracing::warn!(
                "dashboard: also served in clear text on http://{http}/ (dashboard.http = \"serve\"): \
                 the password and sessions can be read on the network"
            ),
        }
        crate::web::serve(app, https_listener, http_listener)
            .await
            .map_err(|e| CliError::Failed(format!("dashboard: {e}")))?;
        Ok(ExitCode::SUCCESS)
    })
}

async fn bind(addr: &str) -> Result<tokio::net::TcpListener, CliError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| CliError::Failed(format!("dashboard: cannot listen on {addr}: {e}")))
}
