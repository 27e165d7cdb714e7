//! `o4send portal`: the visitors' captive page on the hotspot's address, its own process
//! (o4send-portal.service). Without `[hotspot] enabled = true` it refuses to start.

use super::{optional_config, runtime, CliError};
use crate::web::portal::{self, Portal};
use std::path::Path;
use std::process::ExitCode;

pub fn portal(
    config: Option<&Path>,
    listen: Option<String>,
    leases: &Path,
) -> Result<ExitCode, CliError> {
    let cfg = optional_config(config)?;
    if !cfg.hotspot.enabled && listen.is_none() {
        return Err(CliError::Config(
            "hotspot.enabled is false in o4send.toml: no visitor network, no captive page".into(),
        ));
    }
    let addr = listen.unwrap_or_else(|| format!("{}:80", cfg.hotspot.address));
    let page = Portal::new(&cfg, leases);
    runtime()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .map_err(|e| CliError::Failed(format!("portal: cannot listen on {addr}: {e}")))?;
        let bound = listener
            .local_addr()
            .map_or(addr.clone(), |a| a.to_string());
        tracing::info!("portal: the visitors' page on http://{bound}/");
        portal::serve(page, listener)
            .await
            .map_err(|e| CliError::Failed(format!("portal: {e}")))?;
        Ok(ExitCode::SUCCESS)
    })
}
