//! `o4send poster --out FILE`: the stand's A4 poster (SVG) for the active campaign, with the QR
//! codes of the visitor Wi-Fi when `[hotspot]` is on.

use super::{optional_config, CliError};
use std::path::Path;
use std::process::ExitCode;

pub fn poster(config: Option<&Path>, out: &Path) -> Result<ExitCode, CliError> {
    if let Some(why) = not_svg(out) {
        return Err(CliError::Failed(why));
    }
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

/// Why `out` cannot hold the poster: it is written as SVG, so a name that promises another
/// format (`poster.pdf`: a PDF viewer cannot open SVG) is refused before anything is written.
fn not_svg(out: &Path) -> Option<String> {
    let ext = out.extension().and_then(|e| e.to_str()).unwrap_or("");
    (!ext.eq_ignore_ascii_case("svg")).then(|| {
        format!(
            "poster: {} must end in .svg: the poster is an SVG (a browser opens and prints it, \
             to paper or to PDF)",
            out.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::not_svg;
    use std::path::Path;

    #[test]
    fn only_an_svg_name_is_taken() {
        assert!(not_svg(Path::new("stand/poster.svg")).is_none());
        assert!(not_svg(Path::new("POSTER.SVG")).is_none());
        let why = not_svg(Path::new("poster.pdf")).unwrap();
        assert!(why.contains("poster.pdf must end in .svg"), "{why}");
        assert!(not_svg(Path::new("poster")).is_some());
    }
}
