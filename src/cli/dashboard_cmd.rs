//! `o4send dashboard`: the operator's web dashboard, its own process (o4send-dashboard.service).

use super::{optional_config, runtime, CliError};
use std::path::Path;
use std::process::ExitCode;

pub fn dashboard(config: Option<&Path>) -> Result<ExitCode, CliError> {
    let cfg = optional_config(config)?;
    let addr = format!("{}:{}", cfg.dashboard.address, cfg.dashboard.port);
    let app = crate::web::App::new(cfg).map_err(CliError::Config)?;
    runtime()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .map_err(|e| CliError::Failed(format!("dashboard: cannot listen on {addr}: {e}")))?;
        tracing::info!("dashboard: listening on http://{addr}/");
        crate::web::serve(app, listener)
            .await
            .map_err(|e| CliError::Failed(format!("dashboard: {e}")))?;
        Ok(ExitCode::SUCCESS)
    })
}
