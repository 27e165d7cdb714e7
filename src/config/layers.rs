//! The settings in force are layered: the image's own defaults (`/etc/o4send/o4send.toml` on the
//! read-only root), then the operator's `o4send.toml` from the card's boot partition over them.
//!
//! Each layer is checked on its own first, so a mistake is blamed on the file that holds it
//! (the operator's, nearly always), then the merged result is checked as a whole.

use super::{one_line, Config, ConfigError};
use std::path::{Path, PathBuf};

/// The operator's file as it was read, already turned into plain UTF-8 TOML text.
#[derive(Clone, Debug, PartialEq)]
pub struct OperatorFile {
    pub path: PathBuf,
    pub text: String,
}

impl OperatorFile {
    /// Reads and decodes `path`; `Ok(None)` when there is no such file.
    pub fn read(path: &Path) -> Result<Option<OperatorFile>, ConfigError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(ConfigError(format!("{}: cannot read: {e}", path.display()))),
        };
        let text = super::decode(&bytes)
            .map_err(|why| ConfigError(format!("{}: {why}", path.display())))?;
        Ok(Some(OperatorFile {
            path: path.to_path_buf(),
            text,
        }))
    }
}

/// Where the image's defaults come from.
pub enum Layers<'a> {
    /// A defaults file on the appliance (it must exist).
    ImageFile(&'a Path),
    /// The built-in defaults (`o4send config check` on a laptop).
    BuiltIn,
}

impl Config {
    /// The image's defaults with the operator's file (if any) over them, validated.
    pub fn from_layers(
        image: Layers,
        operator: Option<&OperatorFile>,
    ) -> Result<Config, ConfigError> {
        let layers: Vec<&OperatorFile> = operator.into_iter().collect();
        Config::from_stack(image, &layers)
    }

    /// The image's defaults with each layer over the ones before it (the box's own name,
    /// Raspberry Pi Imager's form, the operator's file), validated. A mistake in the whole is
    /// blamed on the top layer.
    pub fn from_stack(image: Layers, layers: &[&OperatorFile]) -> Result<Config, ConfigError> {
        let mut builder = config::Config::builder();
        if let Layers::ImageFile(path) = image {
            let text = std::fs::read_to_string(path)
                .map_err(|e| ConfigError(format!("{}: cannot read: {e}", path.display())))?;
            Config::parse_layer(path, &text)?;
            builder = builder.add_source(toml_source(&text));
        }
        for layer in layers {
            Config::parse_layer(&layer.path, &layer.text)?;
            builder = builder.add_source(toml_source(&layer.text));
        }
        let cfg: Config = builder
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(|e| ConfigError(one_line(&e.to_string())))?;
        let blame = layers
            .last()
            .map_or(Path::new("defaults"), |l| l.path.as_path());
        cfg.validate()
            .map_err(|e| ConfigError(format!("{}: {e}", blame.display())))?;
        Ok(cfg)
    }

    /// One layer on its own, so a syntax, key or type error names its file.
    fn parse_layer(path: &Path, text: &str) -> Result<(), ConfigError> {
        config::Config::builder()
            .add_source(toml_source(text))
            .build()
            .and_then(|c| c.try_deserialize::<Config>())
            .map(drop)
            .map_err(|e| ConfigError(format!("{}: {}", path.display(), one_line(&e.to_string()))))
    }

    /// The settings as one TOML file, for the daemon to load.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("every config value has a TOML form")
    }

    /// These settings with every secret taken out: the fleet database's URL and password and
    /// the phones' pseudonym key, the console's and the dashboard's password hashes, the Wi-Fi
    /// passphrases. What a process that needs none of them is given (the captive page).
    pub fn without_secrets(&self) -> Config {
        let mut c = self.clone();
        c.sync = super::SyncConfig {
            fleet: c.sync.fleet.clone(),
            ..super::SyncConfig::default()
        };
        c.console.password_hash = None;
        c.dashboard.password_hash = None;
        for net in &mut c.network.wifi.networks {
            net.passphrase = None;
            net.psk = None;
        }
        c
    }
}

fn toml_source(text: &str) -> config::File<config::FileSourceString, config::FileFormat> {
    config::File::from_str(text, config::FileFormat::Toml)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn operator(text: &str) -> OperatorFile {
        OperatorFile {
            path: PathBuf::from("/boot/o4send.toml"),
            text: text.into(),
        }
    }

    fn image(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("image.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn the_operator_file_goes_over_the_image() {
        let (_d, img) = image("[appliance]\nname = \"image\"\n[policy]\nretry_limit = 4\n");
        let op = operator("[appliance]\nname = \"Booth 7\"\n");
        let cfg = Config::from_layers(Layers::ImageFile(&img), Some(&op)).unwrap();
        assert_eq!(cfg.appliance.name, "Booth 7");
        assert_eq!(cfg.policy.retry_limit, 4);
    }

    #[test]
    fn a_mistake_is_blamed_on_its_file_with_key_and_value() {
        let (_d, img) = image("");
        let bad = |text: &str| {
            Config::from_layers(Layers::ImageFile(&img), Some(&operator(text)))
                .unwrap_err()
                .0
        };
        assert_eq!(
            bad("[policy]\nmin_rssi = 40\n"),
            "/boot/o4send.toml: policy.min_rssi = 40: must be -127 to 20 dBm"
        );
        assert!(bad("[policy]\nmin_rsi = 4\n")
            .starts_with("/boot/o4send.toml: unknown field `min_rsi`"));
        assert!(bad("[policy\n").starts_with("/boot/o4send.toml: "));
        assert!(bad("[appliance]\nname = \"half").starts_with("/boot/o4send.toml: "));
    }

    #[test]
    fn the_effective_file_loads_back_the_same() {
        let op = operator(
            "[appliance]\nsender_name = \"Booth 7\"\n[policy]\nallow = [\"00:11:22:33:44:55\"]\n\
             [network.wifi]\ncountry = \"DE\"\n[[network.wifi.networks]]\nssid = \"expo\"\npassphrase = \"12345678\"\n",
        );
        let cfg = Config::from_layers(Layers::BuiltIn, Some(&op)).unwrap();
        assert_eq!(Config::from_toml(&cfg.to_toml()).unwrap(), cfg);
        assert_eq!(
            Config::from_toml(&Config::default().to_toml()).unwrap(),
            Config::default()
        );
    }
}
