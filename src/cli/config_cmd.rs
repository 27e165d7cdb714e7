//! `o4send config check FILE`, `o4send config default` and `o4send config template`.

use super::CliError;
use crate::config::{Config, ConfigError, Layers, OperatorFile, DEFAULT_TOML, OPERATOR_TEMPLATE};
use std::path::Path;
use std::process::ExitCode;

/// The verdict the appliance would give: the file over the image's defaults (the built-in ones
/// on a laptop, which the image's file equals).
pub fn check(path: &Path) -> Result<ExitCode, CliError> {
    let op = OperatorFile::read(path)?
        .ok_or_else(|| ConfigError(format!("config file {} does not exist", path.display())))?;
    let image = Path::new(crate::config::DEFAULT_PATH);
    let layers = if image.exists() && image != path {
        Layers::ImageFile(image)
    } else {
        Layers::BuiltIn
    };
    let cfg = Config::from_layers(layers, Some(&op))?;
    let adapters: Vec<String> = cfg
        .radio
        .adapters
        .iter()
        .map(|a| format!("{} ({:?}, {} slots)", a.id, a.role, a.slots))
        .collect();
    println!(
        "{}: ok — backend {:?}, adapters {}",
        path.display(),
        cfg.radio.backend,
        adapters.join(", ")
    );
    if let Some(w) = cfg.sync.cleartext_warning() {
        println!("warning: {w}");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn print_default() -> Result<ExitCode, CliError> {
    print!("{DEFAULT_TOML}");
    Ok(ExitCode::SUCCESS)
}

pub fn print_template() -> Result<ExitCode, CliError> {
    print!("{OPERATOR_TEMPLATE}");
    Ok(ExitCode::SUCCESS)
}
