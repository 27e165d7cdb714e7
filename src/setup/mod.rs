//! `o4send setup`: turns the operator's `o4send.toml` on the card's boot partition into the
//! settings the appliance runs on, at boot and on every reload.
//!
//! The image is the same for everybody and holds no operator secret; everything that makes a box
//! the operator's own (names, keys, lists, Wi-Fi, time servers, passwords) comes from the one file
//! a laptop can edit. A mistake in it must never brick the box: the file is checked as a whole,
//! and a broken one leaves the box on the last settings that worked (kept on the data partition),
//! with the mistake named in one line in the journal, on the console banner and in
//! `o4send status`. Nothing here ever writes to the boot partition.
//!
//! Runs as root before the network, the consoles and the daemon start (`o4send-setup.service`),
//! and again from `o4send.service`'s reload. It writes only under `/run` and the data partition.

pub mod addresses;
pub mod banner;
mod files;
pub mod identity;
pub mod imager;
mod last_good;
pub mod network;
mod shadow;
pub mod ssh;
pub mod usb_link;
pub mod wifi_state;

use crate::config::{Config, ConfigError, Layers, OperatorFile};
use std::path::{Path, PathBuf};

pub use files::{write_atomic, SystemFiles};

/// The image's defaults.
pub const IMAGE_CONFIG: &str = "/etc/o4send/o4send.toml";
/// The operator's file on the boot partition.
pub const BOOT_CONFIG: &str = "/boot/o4send.toml";
/// The settings in force, written for the daemon, under the root.
pub const EFFECTIVE_CONFIG: &str = "run/o4send/o4send.toml";
/// The settings in force without their secrets, for the captive page (`Config::without_secrets`).
pub const PORTAL_CONFIG: &str = "run/o4send/portal.toml";
/// One line: `ok: …` or the mistake and what the box runs on instead, under the root.
pub const CONFIG_STATUS: &str = "run/o4send/config-status";

/// What `o4send setup` reads and where it writes.
#[derive(Clone, Debug)]
pub struct SetupPaths {
    pub image_config: PathBuf,
    pub boot_config: PathBuf,
    /// Every file written is under this directory (`/` on the appliance).
    pub root: PathBuf,
}

impl Default for SetupPaths {
    fn default() -> Self {
        SetupPaths {
            image_config: IMAGE_CONFIG.into(),
            boot_config: BOOT_CONFIG.into(),
            root: "/".into(),
        }
    }
}

/// The verdict on the operator's file and the settings now in force.
pub struct Verdict {
    pub config: Config,
    /// `ok: …`, or the mistake and what the box runs on instead.
    pub line: String,
    pub ok: bool,
}

/// Decides the settings, writes every file the system reads, and returns the verdict.
pub fn run(paths: &SetupPaths) -> Result<Verdict, String> {
    let verdict = decide(paths);
    let files = SystemFiles::new(&paths.root);
    files.write_config(&verdict.config, &verdict.line)?;
    if let Err(e) = identity::set_host_name(&paths.root, &verdict.config.appliance.name) {
        tracing::warn!("setup: the host name: {e}");
    }
    shadow::write(&files, verdict.config.console.password_hash.as_deref())?;
    ssh::write(&files, &verdict.config.console.ssh_keys)?;
    let usb = usb_link::network(verdict.config.dashboard.usb_address);
    files.write_or_remove(usb_link::NETWORK, Some(&usb), 0o644)?;
    let cfg = &verdict.config;
    let first = cfg.network.wifi.networks.first().map(|n| n.ssid.as_str());
    let plan = crate::hotspot::share::plan(cfg.hotspot.enabled, first);
    let hotspot = plan.ap.map(|iface| hotspot(cfg, iface));
    network::write(&files, &cfg.network, hotspot.as_ref(), plan.client)?;
    files.write_or_remove(crate::hotspot::share::LINE, plan.line.as_deref(), 0o644)?;
    let text = banner::render(
        &verdict.config.appliance.name,
        &verdict.line,
        "starting",
        &[],
        verdict.config.console.password_hash.is_some(),
    );
    files.write_banner(&text)?;
    Ok(verdict)
}

/// The visitor access point's files on `iface`, named after the active campaign unless the
/// operator named the network (the radio's best band is chosen when hostapd starts).
fn hotspot(cfg: &Config, iface: &str) -> crate::hotspot::Rendered {
    let h = &cfg.hotspot;
    let campaign = crate::content::name(&cfg.appliance.content_path())
        .unwrap_or_else(|_| cfg.appliance.name.clone());
    let country = cfg.network.wifi.country.as_deref().unwrap_or("00");
    crate::hotspot::render(h, iface, country, &h.ssid_or(&campaign))
}

/// The operator's file over the image's defaults, the box's own name and Imager's form if it
/// is good; else the last good one; else the image's defaults alone. Imager's form is left out,
/// and said so, when the settings refuse it.
fn decide(paths: &SetupPaths) -> Verdict {
    let imager = imager::read(paths.boot_config.parent().unwrap_or(Path::new("/boot")));
    let own = identity::layer(&paths.root);
    let with_form: Vec<&OperatorFile> = own.iter().chain(imager.layer.iter()).collect();
    let mut verdict = decide_over(paths, &with_form);
    let mut form_line = imager.line;
    if imager.layer.is_some() && !verdict.ok {
        let without: Vec<&OperatorFile> = own.iter().collect();
        let alone = decide_over(paths, &without);
        if alone.ok {
            form_line = Some(format!("Imager's form not applied: {}", verdict.line));
            verdict = alone;
        }
    }
    if let Some(l) = form_line {
        verdict.line = format!("{}; {l}", verdict.line);
    }
    verdict
}

/// The operator's file over `lower` (layers over the image's defaults).
fn decide_over(paths: &SetupPaths, lower: &[&OperatorFile]) -> Verdict {
    let store = last_good::LastGood::new(&paths.root);
    let problem = match read_and_check(paths, lower) {
        Ok((config, Some(op))) => {
            let saved = store.save(&op.text).err();
            let line = match saved {
                None => format!("ok: {}", op.path.display()),
                Some(e) => format!("ok: {} (not kept as last good: {e})", op.path.display()),
            };
            return Verdict {
                config,
                line,
                ok: true,
            };
        }
        Ok((config, None)) => {
            let line = format!(
                "ok: no {}, the image's defaults",
                paths.boot_config.display()
            );
            return Verdict {
                config,
                line,
                ok: true,
            };
        }
        Err(e) => e.0,
    };
    let (config, fallback) = fallback(&store, paths, lower);
    let line = format!("{problem}; running on {fallback}");
    Verdict {
        config,
        line,
        ok: false,
    }
}

fn read_and_check(
    paths: &SetupPaths,
    lower: &[&OperatorFile],
) -> Result<(Config, Option<OperatorFile>), ConfigError> {
    let op = OperatorFile::read(&paths.boot_config)?;
    let layers: Vec<&OperatorFile> = lower.iter().copied().chain(op.as_ref()).collect();
    let config = Config::from_stack(Layers::ImageFile(&paths.image_config), &layers)?;
    Ok((config, op))
}

fn fallback(
    store: &last_good::LastGood,
    paths: &SetupPaths,
    lower: &[&OperatorFile],
) -> (Config, String) {
    let image = || Layers::ImageFile(&paths.image_config);
    if let Some((op, saved)) = store.load(&paths.boot_config) {
        let layers: Vec<&OperatorFile> = lower.iter().copied().chain([&op]).collect();
        if let Ok(cfg) = Config::from_stack(image(), &layers) {
            return (cfg, format!("the last good settings (saved {saved})"));
        }
    }
    match Config::from_stack(image(), lower) {
        Ok(cfg) => (cfg, "the image's defaults".into()),
        Err(e) => {
            tracing::error!("config: the image's defaults do not load: {e}");
            (Config::default(), "the built-in defaults".into())
        }
    }
}

/// The line `o4send setup` last wrote, if any (for `o4send status` and the banner).
pub fn config_status(root: &Path) -> Option<String> {
    let text = std::fs::read_to_string(root.join(CONFIG_STATUS)).ok()?;
    Some(text.trim_end().to_string())
}

#[cfg(test)]
mod tests;
