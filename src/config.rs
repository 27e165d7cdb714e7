//! The typed configuration, loaded with the `config` crate from `/etc/o4send/o4send.toml` and
//! `O4SEND_SECTION__KEY` environment overrides, and validated before anything starts.
//!
//! An appliance nobody watches must refuse a broken config at once, with one line that names the
//! key and the bad value, rather than run half-configured for a week. Unknown keys are errors too:
//! a misspelt `min_rsi` silently ignored is a filter that never filters.

mod access;
mod bundle;
mod default_toml;
mod hotspot;
mod layers;
mod network;
pub mod password;
mod ssh_key;
mod sync;
mod template;
mod text;
mod update;
mod validate;
mod watchdog;

use crate::model::device::{BdAddr, MajorClass};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use access::{hash_problem, ConsoleConfig, DashboardConfig, PlainHttp};
pub use bundle::{public_key, BundleConfig};
pub use default_toml::DEFAULT_TOML;
pub use hotspot::{channel_problem, Band, HotspotConfig};
pub use layers::{Layers, OperatorFile};
pub use network::{EthernetConfig, NetworkConfig, WifiConfig, WifiNetwork};
pub use ssh_key::ssh_key_problem;
pub use sync::{redact_url, url_has_password, Secret, SyncConfig};
pub use template::OPERATOR_TEMPLATE;
pub use text::decode;
pub use update::UpdateConfig;
pub use watchdog::WatchdogConfig;

/// The image's defaults: where the appliance looks when `o4send setup` has not run.
pub const DEFAULT_PATH: &str = "/etc/o4send/o4send.toml";
/// The settings in force, written by `o4send setup` (the boot partition's file over the image's).
pub const EFFECTIVE_PATH: &str = "/run/o4send/o4send.toml";

/// The config commands use when none is given: the settings in force if setup wrote them,
/// else the image's defaults.
pub fn default_path() -> PathBuf {
    let effective = Path::new(EFFECTIVE_PATH);
    if effective.exists() {
        effective.to_path_buf()
    } else {
        PathBuf::from(DEFAULT_PATH)
    }
}

/// The whole configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub appliance: Appliance,
    pub radio: RadioConfig,
    pub obex: ObexConfig,
    pub policy: PolicyConfig,
    pub engine: EngineConfig,
    pub store: StoreConfig,
    pub sync: SyncConfig,
    pub watchdog: WatchdogConfig,
    pub update: UpdateConfig,
    pub bundle: BundleConfig,
    pub network: NetworkConfig,
    pub hotspot: HotspotConfig,
    pub console: ConsoleConfig,
    pub dashboard: DashboardConfig,
}

/// Identity of this box and where its data lives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Appliance {
    /// This appliance's name in logs and, later, in the fleet database.
    pub name: String,
    /// The Bluetooth name phones show as the sender; when set, over the campaign's own.
    pub sender_name: Option<String>,
    /// The writable data directory (database, content).
    pub data_dir: PathBuf,
    /// The SQLite log; default `<data_dir>/o4send.db`.
    pub db: Option<PathBuf>,
    /// The active campaign; default `<data_dir>/content`.
    pub content_dir: Option<PathBuf>,
    /// IANA time zone of the campaign's dates and daily hours.
    pub time_zone: String,
    /// Where the daemon publishes its live state for the dashboard and the LED (tmpfs).
    pub live_dir: PathBuf,
    /// The status LED `o4send led` drives (the kernel's LED class; the Pi's green ACT LED).
    pub status_led: PathBuf,
}

impl Default for Appliance {
    fn default() -> Self {
        Appliance {
            name: "o4send".into(),
            sender_name: None,
            data_dir: PathBuf::from("/var/lib/o4send"),
            db: None,
            content_dir: None,
            time_zone: "UTC".into(),
            live_dir: PathBuf::from("/run/o4send/live"),
            status_led: PathBuf::from("/sys/class/leds/ACT"),
        }
    }
}

impl Appliance {
    pub fn db_path(&self) -> PathBuf {
        self.db
            .clone()
            .unwrap_or_else(|| self.data_dir.join("o4send.db"))
    }
    pub fn content_path(&self) -> PathBuf {
        self.content_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("content"))
    }
}

/// Which radios exist and what each does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RadioConfig {
    pub backend: Backend,
    pub adapters: Vec<AdapterConfig>,
    pub sim: SimConfig,
}

impl Default for RadioConfig {
    fn default() -> Self {
        RadioConfig {
            backend: Backend::Bluez,
            adapters: vec![AdapterConfig::default()],
            sim: SimConfig::default(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// Real controllers through BlueZ over D-Bus.
    Bluez,
    /// Simulated phones in-process (demo, tests, benchmarks).
    Sim,
}

/// One radio: which controller and what it is used for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdapterConfig {
    /// `hci0`, or the controller's address.
    pub id: String,
    pub role: Role,
    /// Concurrent pushes on this radio (1..=7: one controller holds at most 7 links).
    pub slots: usize,
}

impl AdapterConfig {
    /// Two simulated radios: `sim0` scans, `sim1` pushes with the most slots a controller has.
    pub fn sim_scan_and_push() -> Vec<AdapterConfig> {
        vec![
            AdapterConfig {
                id: "sim0".into(),
                role: Role::Scan,
                slots: 1,
            },
            AdapterConfig {
                id: "sim1".into(),
                role: Role::Push,
                slots: 7,
            },
        ]
    }
}

impl Default for AdapterConfig {
    fn default() -> Self {
        AdapterConfig {
            id: "hci0".into(),
            role: Role::Both,
            slots: 3,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Scan,
    Push,
    Both,
}

impl Role {
    pub fn scans(self) -> bool {
        matches!(self, Role::Scan | Role::Both)
    }
    pub fn pushes(self) -> bool {
        matches!(self, Role::Push | Role::Both)
    }
}

/// The simulated hall: how many phones, when they come, how they behave.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimConfig {
    pub seed: u64,
    pub phones: usize,
    /// Phones arrive uniformly within this many seconds of the start.
    pub arrival_window_secs: u64,
    pub dwell_min_secs: u64,
    pub dwell_max_secs: u64,
    /// Relative weights of the behaviours.
    pub mix: BehaviourMix,
    /// Also write what each phone receives into this folder, one subfolder per phone (tests).
    pub inbox: Option<PathBuf>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 1,
            phones: 50,
            arrival_window_secs: 600,
            dwell_min_secs: 1200,
            dwell_max_secs: 2400,
            mix: BehaviourMix::default(),
            inbox: None,
        }
    }
}

/// Relative weights of simulated phone behaviours.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BehaviourMix {
    pub accept: u32,
    pub decline: u32,
    pub ignore: u32,
    pub prompt_expires: u32,
    pub no_opp: u32,
    pub refuse_connection: u32,
    pub drop_mid_transfer: u32,
    pub refuse_type: u32,
    pub slow_link: u32,
    pub out_of_range: u32,
}

impl BehaviourMix {
    /// The weights in a fixed order: accept, decline, ignore, prompt_expires, no_opp,
    /// refuse_connection, drop_mid_transfer, refuse_type, slow_link, out_of_range.
    pub fn weights(&self) -> [u32; 10] {
        [
            self.accept,
            self.decline,
            self.ignore,
            self.prompt_expires,
            self.no_opp,
            self.refuse_connection,
            self.drop_mid_transfer,
            self.refuse_type,
            self.slow_link,
            self.out_of_range,
        ]
    }
}

impl Default for BehaviourMix {
    fn default() -> Self {
        BehaviourMix {
            accept: 40,
            decline: 14,
            ignore: 6,
            prompt_expires: 4,
            no_opp: 10,
            refuse_connection: 4,
            drop_mid_transfer: 5,
            refuse_type: 4,
            slow_link: 7,
            out_of_range: 6,
        }
    }
}

/// OBEX client limits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ObexConfig {
    /// Connection set-up and the OBEX CONNECT exchange.
    pub connect_timeout_secs: u64,
    /// How long the phone's user may take to decide before we ABORT and record "ignored".
    pub decision_timeout_secs: u64,
    /// Every other response.
    pub packet_timeout_secs: u64,
    /// A Forbidden reply this late is Android's expired prompt, so "ignored" (0 = never).
    pub ignored_after_secs: u64,
    /// The largest OBEX packet we offer (255..=65535).
    pub max_packet: u32,
}

impl Default for ObexConfig {
    fn default() -> Self {
        ObexConfig {
            connect_timeout_secs: 20,
            decision_timeout_secs: 60,
            packet_timeout_secs: 15,
            ignored_after_secs: 48,
            max_packet: 65535,
        }
    }
}

/// Who is offered what, and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// Ignore devices heard more weakly than this (dBm).
    pub min_rssi: Option<i16>,
    /// Major device classes that are offered content.
    pub classes: Vec<MajorClass>,
    /// Always offered again (the operator's own test phones), past every filter but the deny list.
    pub allow: Vec<BdAddr>,
    /// Never contacted (opt-outs, staff phones).
    pub deny: Vec<BdAddr>,
    /// Treat "ignored" as an answer (never asked again).
    pub ignored_is_answer: bool,
    /// When ignored is not an answer: wait this long before asking again.
    pub ignored_retry_secs: u64,
    /// Retries after transient failures (unreachable, failed) before giving up on an item.
    pub retry_limit: u32,
    pub retry_base_secs: u64,
    pub retry_max_secs: u64,
    /// Allow-listed phones are offered again this long after their last attempt ended.
    pub allow_resend_secs: u64,
    /// After a phone declines one item, offer it the campaign's next item.
    pub offer_next_after_decline: bool,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            min_rssi: None,
            classes: vec![MajorClass::Phone],
            allow: Vec::new(),
            deny: Vec::new(),
            ignored_is_answer: true,
            ignored_retry_secs: 3600,
            retry_limit: 3,
            retry_base_secs: 30,
            retry_max_secs: 600,
            allow_resend_secs: 300,
            offer_next_after_decline: false,
        }
    }
}

/// Task wiring.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineConfig {
    /// On SIGTERM, in-flight pushes get this long to finish before they are aborted.
    pub shutdown_grace_secs: u64,
    /// Forget a device (in memory and in bluetoothd) this long after it was last seen.
    pub forget_after_secs: u64,
    /// Largest item held in memory for pushing (bytes).
    pub max_item_bytes: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            shutdown_grace_secs: 20,
            forget_after_secs: 300,
            max_item_bytes: 8 << 20,
        }
    }
}

/// Log retention.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    pub max_age_days: u32,
    pub max_size_mb: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            max_age_days: 90,
            max_size_mb: 256,
        }
    }
}

/// A config that could not be used: one line naming the key and the value.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Loads `path` (required unless `optional`), applies `O4SEND_SECTION__KEY` overrides, validates.
    pub fn load(path: &Path, optional: bool) -> Result<Config, ConfigError> {
        let env = env_overrides(std::env::vars());
        Config::load_with_env(path, optional, env)
    }

    fn load_with_env(
        path: &Path,
        optional: bool,
        env: config::Map<String, String>,
    ) -> Result<Config, ConfigError> {
        if !optional && !path.exists() {
            return Err(ConfigError(format!(
                "config file {} does not exist",
                path.display()
            )));
        }
        let file = config::File::from(path)
            .format(config::FileFormat::Toml)
            .required(!optional);
        let source = config::Environment::with_prefix("O4SEND")
            .prefix_separator("_")
            .separator("__")
            .try_parsing(true)
            .list_separator(",")
            .with_list_parse_key("policy.allow")
            .with_list_parse_key("policy.deny")
            .with_list_parse_key("policy.classes")
            .with_list_parse_key("bundle.trusted_keys")
            .source(Some(env));
        let built = config::Config::builder()
            .add_source(file)
            .add_source(source)
            .build();
        let mut cfg: Config = built.and_then(|c| c.try_deserialize()).map_err(|e| {
            ConfigError(format!("{}: {}", path.display(), one_line(&e.to_string())))
        })?;
        cfg.validate()
            .map_err(|e| ConfigError(format!("{}: {e}", path.display())))?;
        if let Some(keys) = sync::world_readable_secrets(path) {
            cfg.sync.refused = Some(format!(
                "{}: holds {} but every user can read it; sync refused (chmod o-r the file: the image ships it root:o4send 0640, \
                 or pass secrets as O4SEND_SYNC__SECRET / O4SEND_SYNC__PASSWORD)",
                path.display(),
                keys.join(", ")
            ));
        }
        Ok(cfg)
    }

    /// Parses a TOML text (no environment), validated.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let cfg: Config = config::Config::builder()
            .add_source(config::File::from_str(text, config::FileFormat::Toml))
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(|e| ConfigError(one_line(&e.to_string())))?;
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        validate::check(self).map_err(ConfigError)
    }

    pub fn obex_options(&self) -> crate::obex::PushOptions {
        let o = &self.obex;
        crate::obex::PushOptions {
            connect_timeout: Duration::from_secs(o.connect_timeout_secs),
            decision_timeout: Duration::from_secs(o.decision_timeout_secs),
            packet_timeout: Duration::from_secs(o.packet_timeout_secs),
            max_packet: o.max_packet as u16,
            ignored_after: (o.ignored_after_secs > 0)
                .then(|| Duration::from_secs(o.ignored_after_secs)),
            ..crate::obex::PushOptions::default()
        }
    }
}

/// Only `O4SEND_SECTION__KEY` variables are config: `O4SEND_SKIP_VM` and friends are not.
fn env_overrides(vars: impl Iterator<Item = (String, String)>) -> config::Map<String, String> {
    vars.filter(|(k, _)| k.starts_with("O4SEND_") && k.contains("__"))
        .collect()
}

/// Error texts from TOML parsers span lines; a log line must not.
pub fn one_line(s: &str) -> String {
    s.split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != "|")
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests;
