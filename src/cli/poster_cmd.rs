//! `o4send poster --out FILE`: the stand's A4 poster (SVG) for the active campaign, with the QR
//! codes of the visitor Wi-Fi when `[hotspot]` is on.

use super::{optional_config, CliError};
use std::path::Path;
use std::process::ExitCode;

pub fn poster(config: Option<&Path>, out: &Path) -> Result<ExitCode, CliError> {
    let cfg = optional_config(config)?;
    let campaign = crate::content::active(&cfg)
        .map_err(|e| CliError::Failed(format!("poster: no usable campaign: {e}")))?;
    let items = campaign.items.iter().map(|i| i.name.as_str()).collect();
    let svg = crate::report::poster::for_stand(
        &cfg.hotspot,
        &campaign.name,
        &campaign.sender_name,
        items,
    )
    .map_err(CliError::Failed)?;
    std::fs::write(out, svg).map_err(|e| CliError::Failed(format!("{}: {e}", out.display())))?;
    let h = &cfg.hotspot;
    if h.enabled {
        println!(
            "{}: poster of \"{}\" with the QR codes of Wi-Fi \"{}\" and {}",
            out.display(),
            campaign.name,
            h.ssid_or(&campaign.name),
            h.page_url()
        );
    } else {
        println!(
            "{}: poster of \"{}\", Bluetooth only ([hotspot] is off: no Wi-Fi QR codes)",
            out.display(),
            campaign.name
        );
    }
    Ok(ExitCode::SUCCESS)
}
