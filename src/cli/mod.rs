//! The command line: `run`, `demo`, `push`, `scan`, `status`, `sync`, `config`, `bundle`,
//! `import`, `content`, `bench`. Each command lives in its own file; this one defines the
//! arguments, exit codes and logging. The processes it starts keep their wiring in their own
//! rooms: `run` in [`crate::daemon`], `dashboard` and `portal` in [`crate::web`], `led` in
//! [`crate::live::led`].

#[cfg(target_os = "linux")]
mod bootstate_cmd;
pub mod bundle_cmd;
mod config_cmd;
#[cfg(target_os = "linux")]
mod content_cmd;
#[cfg(target_os = "linux")]
mod dashboard_cmd;
mod demo_cmd;
#[cfg(target_os = "linux")]
mod import_cmd;
#[cfg(target_os = "linux")]
mod led_cmd;
mod passwd_cmd;
#[cfg(target_os = "linux")]
mod portal_cmd;
#[cfg(target_os = "linux")]
mod poster_cmd;
#[cfg(target_os = "linux")]
mod push;
mod report_cmd;
#[cfg(target_os = "linux")]
mod scan;
#[cfg(target_os = "linux")]
mod setup_cmd;
#[cfg(target_os = "linux")]
mod status;
#[cfg(target_os = "linux")]
mod sync_cmd;
#[cfg(target_os = "linux")]
mod update_cmd;
#[cfg(target_os = "linux")]
mod update_spool;

use crate::config::{default_path, Config, ConfigError};
#[cfg(target_os = "linux")]
use crate::model::device::BdAddr;
use clap::{Parser, Subcommand};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit status of a bad config (sysexits' EX_CONFIG).
pub const EXIT_CONFIG: u8 = 78;

#[derive(Parser, Debug)]
#[command(
    name = "o4send",
    version,
    about = "Offers a file to every nearby phone over Bluetooth OBEX Object Push, once."
)]
pub struct Cli {
    /// Config file [default: /etc/o4send/o4send.toml]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// More log output (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    #[cfg(target_os = "linux")]
    /// Run the appliance daemon.
    Run,
    /// The whole appliance against simulated phones, in virtual time.
    Demo {
        /// How many phones visit.
        #[arg(long, default_value_t = 200)]
        phones: usize,
        /// Seed of the simulated hall.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Where to keep the log [default: a new file in the temp directory].
        #[arg(long, value_name = "PATH")]
        db: Option<PathBuf>,
        /// Try a campaign folder (its campaign.toml and files) on the simulated hall, and print
        /// what its rules did.
        #[arg(long, value_name = "DIR")]
        campaign: Option<PathBuf>,
    },
    #[cfg(target_os = "linux")]
    /// Push one file to a phone over Bluetooth (--to) or to an OBEX server over TCP (--tcp);
    /// exit 0 only when accepted.
    Push {
        /// The phone's Bluetooth address.
        #[arg(
            long,
            value_name = "ADDR",
            required_unless_present = "tcp",
            conflicts_with = "tcp"
        )]
        to: Option<BdAddr>,
        /// HOST[:PORT] of an OBEX server (port 650 by default).
        #[arg(long, value_name = "HOST[:PORT]")]
        tcp: Option<String>,
        /// Over TCP, ask for OBEX Single Response Mode (the body streams if the server agrees).
        #[arg(long, requires = "tcp")]
        srm: bool,
        /// Over Bluetooth, use the phone's RFCOMM channel even where it offers L2CAP.
        #[arg(long, requires = "to")]
        rfcomm: bool,
        /// The adapter to push from [default: the config's first pushing adapter].
        #[arg(long, value_name = "NAME|ADDR")]
        adapter: Option<String>,
        /// Seconds to wait for the receiver's decision.
        #[arg(long, value_name = "SECS")]
        timeout: Option<u64>,
        /// The file to push.
        file: PathBuf,
    },
    #[cfg(target_os = "linux")]
    /// List the Bluetooth devices nearby, once.
    Scan {
        /// How long to listen.
        #[arg(long, default_value_t = 10.24)]
        seconds: f64,
        /// The adapter to scan with [default: the config's first scanning adapter].
        #[arg(long, value_name = "NAME|ADDR")]
        adapter: Option<String>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    #[cfg(target_os = "linux")]
    /// What the log says: devices, attempts by outcome, last hour, per item and radio.
    Status {
        /// The SQLite log [default: the config's].
        #[arg(long, value_name = "PATH")]
        db: Option<PathBuf>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        /// Read the system's state (config verdict, Wi-Fi) under this directory instead of /.
        #[arg(long, value_name = "DIR", default_value = "/", hide = true)]
        root: PathBuf,
    },
    #[cfg(target_os = "linux")]
    /// The operator's web dashboard (needs dashboard.password_hash; address and port in
    /// [dashboard]).
    Dashboard,
    #[cfg(target_os = "linux")]
    /// Drive the status LED (appliance.status_led) from the daemon's live state; the patterns
    /// are in docs/dashboard.md.
    Led,
    #[cfg(target_os = "linux")]
    /// The visitors' captive page on the hotspot ([hotspot] address, port 80).
    Portal {
        /// Listen here instead (ADDR:PORT), even with the hotspot off: for trying the page.
        #[arg(long, value_name = "ADDR:PORT")]
        listen: Option<String>,
        /// The DHCP leases that name each visitor's phone (dnsmasq's file); a request from an
        /// address no lease names is served but not noted.
        #[arg(long, value_name = "FILE", default_value = crate::hotspot::LEASES)]
        leases: PathBuf,
    },
    #[cfg(target_os = "linux")]
    /// The stand's A4 poster (SVG): how Android phones get the file by Bluetooth, and with
    /// [hotspot] on, QR codes that join the visitor Wi-Fi and open its page.
    Poster {
        /// Where to write the poster.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// The day's report: figures and charts in one self-contained HTML file (prints to PDF).
    Report {
        /// The SQLite log [default: the config's].
        #[arg(long, value_name = "PATH")]
        db: Option<PathBuf>,
        /// Instead: the fleet's report from the fleet database at this MySQL/MariaDB URL (a
        /// password missing from it comes from sync.password / O4SEND_SYNC__PASSWORD).
        #[arg(long, value_name = "URL", requires = "fleet", conflicts_with = "db")]
        mysql: Option<String>,
        /// The fleet (sync.fleet of its appliances), with --mysql.
        #[arg(long, value_name = "NAME", requires = "mysql")]
        fleet: Option<String>,
        /// The day, YYYY-MM-DD in appliance.time_zone [default: today].
        #[arg(long, value_name = "DATE")]
        date: Option<String>,
        /// Where to write the report.
        #[arg(long, value_name = "FILE")]
        html: PathBuf,
        /// The campaign folder whose rules and A/B tests the report shows [default: the box's
        /// active campaign, where there is one].
        #[arg(long, value_name = "DIR")]
        campaign: Option<PathBuf>,
    },
    #[cfg(target_os = "linux")]
    /// Copy the log to the fleet database (MySQL/MariaDB) and fetch the fleet's answers.
    Sync {
        /// One round, then exit (0 when everything was uploaded).
        #[arg(long)]
        once: bool,
        /// The SQLite log [default: the config's].
        #[arg(long, value_name = "PATH")]
        db: Option<PathBuf>,
    },
    #[cfg(target_os = "linux")]
    /// The boot state: which root slot U-Boot tries first and how many tries each has left
    /// (RAUC's bootloader backend; `show` for people).
    Bootstate {
        /// The boot disk [default: the disk of the partition on /boot].
        #[arg(long, value_name = "DEVICE|IMAGE")]
        disk: Option<PathBuf>,
        #[command(subcommand)]
        action: BootStateAction,
    },
    #[cfg(target_os = "linux")]
    /// The visitors' access point on the radio the box has (hostapd's unit runs these, as
    /// root): `check` whether the radio can serve it beside the Wi-Fi client, `prepare` its
    /// interface, band and channel.
    Hotspot {
        #[command(subcommand)]
        action: HotspotAction,
        /// Read and write under this directory instead of /.
        #[arg(long, value_name = "DIR", default_value = "/", hide = true)]
        root: PathBuf,
    },
    /// Check a config file or print the commented default.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Make, sign and check content bundles for USB sticks (on the operator's laptop).
    Bundle {
        #[command(subcommand)]
        action: BundleAction,
    },
    #[cfg(target_os = "linux")]
    /// Put the settings of the boot partition's o4send.toml into force (as root, at boot and on
    /// reload): check them, keep the last good ones, write what the daemon, the network, the
    /// clock and the consoles read. A broken file is named and the last good settings are used.
    Setup {
        /// The image's defaults.
        #[arg(long, value_name = "PATH", default_value = crate::setup::IMAGE_CONFIG)]
        image_config: PathBuf,
        /// The operator's file on the boot partition.
        #[arg(long, value_name = "PATH", default_value = crate::setup::BOOT_CONFIG)]
        boot_config: PathBuf,
        /// Write every file under this directory instead of /.
        #[arg(long, value_name = "DIR", default_value = "/")]
        root: PathBuf,
    },
    /// Make a password hash for console.password_hash or dashboard.password_hash (SHA-512
    /// crypt): asked twice at a terminal, else read from the first line of standard input.
    Passwd,
    #[cfg(target_os = "linux")]
    /// Install a system update (a signed .raucb from the release) into the other root slot; the
    /// box runs it after the next restart and goes back by itself if it does not run healthy.
    Update {
        /// The bundle.
        #[arg(required_unless_present_any = ["stick", "spool"])]
        file: Option<PathBuf>,
        /// Look for the one *.raucb on a mounted USB stick (its top or its o4send/ folder).
        #[arg(long, value_name = "ROOT", conflicts_with = "file")]
        stick: Option<PathBuf>,
        /// Take the dashboard's upload and restart request from this spool folder (as root, by
        /// o4send-update.path).
        #[arg(long, value_name = "DIR", conflicts_with_all = ["file", "stick"])]
        spool: Option<PathBuf>,
        /// Install this release even though it is not newer than the running one.
        #[arg(long, value_name = "VERSION")]
        version: Option<String>,
        /// Restart into the new system as soon as it is installed.
        #[arg(long)]
        reboot: bool,
    },
    #[cfg(target_os = "linux")]
    /// Verify the signed bundle on a mounted USB stick and make it the active campaign.
    Import {
        /// Where the stick is mounted (the folder holding o4send/).
        stick_root: PathBuf,
        /// Import it even if it is not newer than the active campaign (by its signed sequence):
        /// going back in time on purpose.
        #[arg(long)]
        allow_older: bool,
    },
    #[cfg(target_os = "linux")]
    /// Show the active campaign, or go back to the previous one.
    Content {
        #[command(subcommand)]
        action: ContentAction,
    },
    #[cfg(target_os = "linux")]
    /// Scheduler and memory benchmarks on simulated phones.
    Bench {
        /// Phones in the scheduling scenario.
        #[arg(long, default_value_t = 200)]
        phones: usize,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Sightings in the memory run.
        #[arg(long, default_value_t = 100_000)]
        sightings: u64,
        /// Instead: time syncing a backlog of this many rows to the MySQL URL of --sync.
        #[arg(long, default_value_t = 100_000)]
        rows: u64,
        /// Benchmark the fleet sync against this MySQL/MariaDB URL (its tables are used).
        #[arg(long, value_name = "URL")]
        sync: Option<String>,
        /// With --sync: this many appliances of one fleet, --rows attempts each, syncing side
        /// by side until each knows every other's answers.
        #[arg(long, value_name = "N", requires = "sync")]
        fleet: Option<usize>,
        /// With --fleet: instead, how far the fleet goes over a cap of this many accepted
        /// that its appliances share (every visitor accepting, a sync every 2 s).
        #[arg(long, value_name = "C", requires = "fleet")]
        cap: Option<u64>,
        /// Internal: run only the memory measurement, in this process.
        #[arg(long, hide = true)]
        rss_child: bool,
        #[command(subcommand)]
        what: Option<BenchWhat>,
    },
}

#[derive(Subcommand, Debug)]
pub enum BenchWhat {
    /// Time the day's report (figures and HTML page) on a crowded day's log, against its
    /// budget of 100 ms.
    Report {
        /// Attempts in the day.
        #[arg(long, default_value_t = 1_000_000)]
        attempts: u64,
        /// Visits (sighting rows) in the day.
        #[arg(long, default_value_t = 2_000_000)]
        visits: u64,
        /// Distinct phones.
        #[arg(long, default_value_t = 50_000)]
        phones: u64,
        /// Build the log here and keep it [default: a temporary one].
        #[arg(long, value_name = "PATH")]
        db: Option<PathBuf>,
    },
    /// The dashboard process's resident memory, idle after a login and a few pages, against
    /// its budget of 8 MiB.
    Dashboard,
    /// One 1 MiB push over the simulated link: RFCOMM (stop-and-wait) against L2CAP ERTM with
    /// Single Response Mode, in bytes per second, OBEX packets and round trips.
    Link,
    /// The check of every byte of a system update (its dm-verity hash tree), on a payload of
    /// the Pi release bundle's size, read from a file: seconds and MB/s.
    Update,
    /// The captive page under a crowd: visitors loading the page and the file on loopback,
    /// requests per second, latency, the portal's memory, and the simulated hall beside them.
    Portal {
        /// Visitors at once.
        #[arg(long, default_value_t = 200)]
        visitors: usize,
        /// How long they keep at it.
        #[arg(long, default_value_t = 60)]
        secs: u64,
    },
    /// The captive page and the dashboard under the attacks of issue 26 (oversized logins,
    /// idle and slow-header connections past the units' file limit): how fast a new visitor,
    /// `/health` and a logged-in page are answered meanwhile, and each process's memory.
    Siege {
        /// Logins carrying a 1.5 MB password, at once.
        #[arg(long, default_value_t = 16)]
        logins: usize,
        /// Idle connections held open on each server.
        #[arg(long, default_value_t = 1100)]
        idle: usize,
        /// Connections sending their headers a line every 2 s, on each server.
        #[arg(long, default_value_t = 240)]
        slow: usize,
        /// Seconds of probes while the attack goes on.
        #[arg(long, default_value_t = 30)]
        secs: u64,
    },
}

#[cfg(target_os = "linux")]
#[derive(Subcommand, Debug)]
pub enum BootStateAction {
    /// The order, the tries left and which copy they came from.
    Show,
    /// The slot booted next (RAUC: get-primary).
    GetPrimary,
    /// Try this slot first, with all its tries (RAUC: set-primary, after an install).
    SetPrimary {
        #[arg(value_parser = parse_slot)]
        slot: crate::update::bootstate::Slot,
    },
    /// good or bad (RAUC: get-state).
    GetState {
        #[arg(value_parser = parse_slot)]
        slot: crate::update::bootstate::Slot,
    },
    /// good: all its tries back; bad: out of the order (RAUC: set-state).
    SetState {
        #[arg(value_parser = parse_slot)]
        slot: crate::update::bootstate::Slot,
        state: SlotState,
    },
    /// The slot this system booted from (rauc.slot= on the kernel's command line).
    GetCurrent,
    /// Wait until o4send.service has run this long without a restart, then give the booted slot
    /// its tries back and end an update's trial (o4send-healthy.service).
    Confirm {
        /// [default: the config's update.healthy_secs]
        #[arg(long, value_name = "SECS")]
        healthy_for: Option<u64>,
    },
}

#[cfg(target_os = "linux")]
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum SlotState {
    Good,
    Bad,
}

#[cfg(target_os = "linux")]
impl SlotState {
    pub fn is_good(self) -> bool {
        matches!(self, SlotState::Good)
    }
}

#[cfg(target_os = "linux")]
fn parse_slot(s: &str) -> Result<crate::update::bootstate::Slot, String> {
    crate::update::bootstate::Slot::parse(s).ok_or_else(|| format!("{s:?}: a slot is A or B"))
}

#[derive(Subcommand, Debug)]
pub enum HotspotAction {
    /// Exit 1, saying why, when the settings put the access point beside the Wi-Fi client and
    /// the radio cannot do both (hostapd's unit then does not start).
    Check,
    /// Before hostapd: the access point's interface beside wlan0 on the client's channel, or
    /// alone on the radio's best band.
    Prepare,
}

#[derive(Subcommand, Debug)]
pub enum ConfigAction {
    /// Check an o4send.toml as the appliance would, over the image's defaults (exit 78 naming
    /// the file, key, value and why when it is wrong).
    Check {
        /// The file [default: --config, or the boot partition's /boot/o4send.toml].
        file: Option<PathBuf>,
    },
    /// Print the commented reference of every key and its default.
    Default,
    /// Print the commented o4send.toml the image puts on the boot partition.
    Template,
}

#[derive(Subcommand, Debug)]
pub enum BundleAction {
    /// Make a signing key pair (minisign format); never overwrites.
    Keygen {
        /// The public key, for the appliances' bundle.trusted_keys.
        #[arg(long = "pub", value_name = "PATH", default_value = "o4send.pub")]
        public: PathBuf,
        /// The secret key (written 0600).
        #[arg(long, value_name = "PATH", default_value = "o4send.key")]
        secret: PathBuf,
        /// No password on the secret key (like minisign -W); otherwise the password comes from
        /// O4SEND_KEY_PASSWORD or the terminal.
        #[arg(long)]
        unencrypted: bool,
    },
    /// Hash, describe and sign the files of a folder, and write them to a stick as o4send/.
    Create(bundle_cmd::CreateArgs),
    /// Check a stick as an appliance would (signature, format, names, sizes, hashes).
    Verify {
        /// Where the stick is mounted.
        stick_root: PathBuf,
        /// A public key file to trust [default: the config's bundle.trusted_keys].
        #[arg(long = "pub", value_name = "PATH")]
        public: Vec<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ContentAction {
    /// The active campaign (name, SHA-256, items) and the previous one.
    Show,
    /// Make the previous campaign active again (and tell the daemon).
    Rollback,
}

/// A command that failed, with the exit status it deserves.
#[derive(Debug)]
pub enum CliError {
    Config(String),
    Failed(String),
    /// Already reported on stdout; just the status.
    Quiet(u8),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Config(_) => EXIT_CONFIG,
            CliError::Failed(_) => 1,
            CliError::Quiet(code) => *code,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Config(m) | CliError::Failed(m) => f.write_str(m),
            CliError::Quiet(code) => write!(f, "exit status {code}"),
        }
    }
}

impl From<crate::store::StoreError> for CliError {
    fn from(e: crate::store::StoreError) -> Self {
        CliError::Failed(e.to_string())
    }
}

#[cfg(target_os = "linux")]
impl From<crate::daemon::Stop> for CliError {
    fn from(e: crate::daemon::Stop) -> Self {
        match e {
            crate::daemon::Stop::Config(m) => CliError::Config(m),
            crate::daemon::Stop::Failed(m) => CliError::Failed(m),
        }
    }
}

impl From<ConfigError> for CliError {
    fn from(e: ConfigError) -> Self {
        CliError::Config(e.0)
    }
}

/// What `config check` checks without a file named: the boot partition's on a box, the one
/// in the current folder on a laptop.
#[cfg(target_os = "linux")]
const CHECKED_BY_DEFAULT: &str = crate::setup::BOOT_CONFIG;
#[cfg(not(target_os = "linux"))]
const CHECKED_BY_DEFAULT: &str = "o4send.toml";

/// Runs the chosen command.
pub fn execute(cli: Cli) -> Result<ExitCode, CliError> {
    let config = cli.config.clone();
    match cli.command {
        #[cfg(target_os = "linux")]
        Command::Run => crate::daemon::run(&config_path(&config))
            .map(|()| ExitCode::SUCCESS)
            .map_err(CliError::from),
        Command::Demo {
            phones,
            seed,
            db,
            campaign,
        } => demo_cmd::demo(config.as_deref(), phones, seed, db, campaign.as_deref()),
        #[cfg(target_os = "linux")]
        Command::Push {
            to,
            tcp,
            srm,
            rfcomm,
            adapter,
            timeout,
            file,
        } => {
            let target = match (to, tcp) {
                (Some(addr), _) => push::Target::Bluetooth {
                    addr,
                    adapter,
                    rfcomm,
                },
                (None, Some(host)) => push::Target::Tcp { host, srm },
                (None, None) => {
                    return Err(CliError::Failed(
                        "push needs --to ADDR or --tcp HOST".into(),
                    ))
                }
            };
            push::push(config.as_deref(), &target, timeout, &file)
        }
        #[cfg(target_os = "linux")]
        Command::Scan {
            seconds,
            adapter,
            json,
        } => scan::scan(config.as_deref(), seconds, adapter, json),
        #[cfg(target_os = "linux")]
        Command::Status { db, json, root } => status::status(config.as_deref(), db, json, &root),
        #[cfg(target_os = "linux")]
        Command::Dashboard => dashboard_cmd::dashboard(config.as_deref()),
        #[cfg(target_os = "linux")]
        Command::Led => led_cmd::led(config.as_deref()),
        #[cfg(target_os = "linux")]
        Command::Poster { out } => poster_cmd::poster(config.as_deref(), &out),
        #[cfg(target_os = "linux")]
        Command::Portal { listen, leases } => {
            portal_cmd::portal(config.as_deref(), listen, &leases)
        }
        Command::Report {
            mysql: Some(url),
            fleet: Some(fleet),
            date,
            html,
            campaign,
            ..
        } => report_cmd::fleet(
            config.as_deref(),
            &url,
            &fleet,
            date.as_deref(),
            &html,
            campaign.as_deref(),
        ),
        Command::Report {
            db,
            date,
            html,
            campaign,
            ..
        } => report_cmd::report(
            config.as_deref(),
            db,
            date.as_deref(),
            &html,
            campaign.as_deref(),
        ),
        #[cfg(target_os = "linux")]
        Command::Sync { once, db } => sync_cmd::sync(config.as_deref(), db, once),
        #[cfg(target_os = "linux")]
        Command::Hotspot {
            action: HotspotAction::Check,
            root,
        } => match crate::hotspot::share::check(&root) {
            Ok(()) => Ok(ExitCode::SUCCESS),
            Err(line) => {
                println!("{line}");
                Ok(ExitCode::from(1))
            }
        },
        #[cfg(target_os = "linux")]
        Command::Hotspot {
            action: HotspotAction::Prepare,
            root,
        } => match crate::hotspot::share::prepare(&root) {
            Ok(line) => {
                println!(
                    "{}",
                    line.unwrap_or_else(|| "hotspot: on wlan0 alone".into())
                );
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Err(CliError::Failed(format!("hotspot prepare: {e}"))),
        },
        #[cfg(target_os = "linux")]
        Command::Bootstate { disk, action } => {
            bootstate_cmd::bootstate(config.as_deref(), disk, action)
        }
        Command::Config {
            action: ConfigAction::Check { file },
        } => config_cmd::check(&file.or(config).unwrap_or_else(|| CHECKED_BY_DEFAULT.into())),
        Command::Config {
            action: ConfigAction::Default,
        } => config_cmd::print_default(),
        Command::Config {
            action: ConfigAction::Template,
        } => config_cmd::print_template(),
        #[cfg(target_os = "linux")]
        Command::Setup {
            image_config,
            boot_config,
            root,
        } => setup_cmd::setup(&crate::setup::SetupPaths {
            image_config,
            boot_config,
            root,
        }),
        Command::Passwd => passwd_cmd::passwd(),
        Command::Bundle { action } => bundle(config.as_deref(), action),
        #[cfg(target_os = "linux")]
        Command::Update {
            spool: Some(dir), ..
        } => update_spool::spool(&dir),
        #[cfg(target_os = "linux")]
        Command::Update {
            file,
            stick,
            version,
            reboot,
            ..
        } => update_cmd::update(config.as_deref(), file, stick, version, reboot),
        #[cfg(target_os = "linux")]
        Command::Import {
            stick_root,
            allow_older,
        } => import_cmd::import(config.as_deref(), &stick_root, allow_older),
        #[cfg(target_os = "linux")]
        Command::Content {
            action: ContentAction::Show,
        } => content_cmd::show(config.as_deref()),
        #[cfg(target_os = "linux")]
        Command::Content {
            action: ContentAction::Rollback,
        } => content_cmd::rollback(config.as_deref()),
        #[cfg(target_os = "linux")]
        Command::Bench {
            what:
                Some(BenchWhat::Report {
                    attempts,
                    visits,
                    phones,
                    db,
                }),
            ..
        } => {
            let crowd = crate::bench::report::Crowd {
                attempts,
                visits,
                phones: phones.max(1),
            };
            done(crate::bench::report::run(crowd, db.as_deref()))
        }
        #[cfg(target_os = "linux")]
        Command::Bench {
            sync: Some(url),
            fleet: Some(appliances),
            cap: Some(cap),
            ..
        } => done(crate::bench::fleet_cap::run(&url, appliances, cap)),
        #[cfg(target_os = "linux")]
        Command::Bench {
            rows,
            sync: Some(url),
            fleet: Some(appliances),
            ..
        } => done(crate::bench::fleet::run(&url, appliances, rows)),
        #[cfg(target_os = "linux")]
        Command::Bench {
            rows,
            sync: Some(url),
            ..
        } => done(crate::bench::sync::run(&url, rows)),
        #[cfg(target_os = "linux")]
        Command::Bench {
            what: Some(BenchWhat::Dashboard),
            ..
        } => done(crate::bench::dashboard::run()),
        #[cfg(target_os = "linux")]
        Command::Bench {
            what: Some(BenchWhat::Link),
            ..
        } => done(crate::bench::link::run()),
        #[cfg(target_os = "linux")]
        Command::Bench {
            what: Some(BenchWhat::Update),
            ..
        } => done(crate::bench::update::run()),
        #[cfg(target_os = "linux")]
        Command::Bench {
            what: Some(BenchWhat::Portal { visitors, secs }),
            ..
        } => done(crate::bench::portal::run(visitors, secs)),
        #[cfg(target_os = "linux")]
        Command::Bench {
            what:
                Some(BenchWhat::Siege {
                    logins,
                    idle,
                    slow,
                    secs,
                }),
            ..
        } => done(crate::bench::siege::run(crate::bench::siege::Siege {
            logins,
            idle,
            slow,
            secs,
        })),
        #[cfg(target_os = "linux")]
        Command::Bench {
            phones,
            seed,
            sightings,
            rss_child,
            sync: None,
            ..
        } => done(crate::bench::run(phones, seed, sightings, rss_child)),
    }
}

/// A command whose output is all printed: success, or its one-line failure.
#[cfg(target_os = "linux")]
fn done(result: Result<(), String>) -> Result<ExitCode, CliError> {
    result.map(|()| ExitCode::SUCCESS).map_err(CliError::Failed)
}

fn bundle(config: Option<&Path>, action: BundleAction) -> Result<ExitCode, CliError> {
    match action {
        BundleAction::Keygen {
            public,
            secret,
            unencrypted,
        } => bundle_cmd::keygen(&public, &secret, unencrypted),
        BundleAction::Create(args) => bundle_cmd::create(config, args),
        BundleAction::Verify { stick_root, public } => {
            bundle_cmd::verify(config, &stick_root, &public)
        }
    }
}

#[cfg(target_os = "linux")]
fn config_path(given: &Option<PathBuf>) -> PathBuf {
    given.clone().unwrap_or_else(default_path)
}

/// The config for commands that work without one: the given file (which must exist), else the
/// default path if it exists, else the defaults.
pub fn optional_config(given: Option<&Path>) -> Result<Config, CliError> {
    match given {
        Some(path) => Ok(Config::load(path, false)?),
        None => Ok(Config::load(&default_path(), true)?),
    }
}

/// The adapter to use: the one given, else the first configured adapter that does `job`.
pub fn pick_adapter(
    cfg: &Config,
    given: Option<String>,
    job: fn(crate::config::Role) -> bool,
) -> Result<String, CliError> {
    given
        .or_else(|| {
            cfg.radio
                .adapters
                .iter()
                .find(|a| job(a.role))
                .map(|a| a.id.clone())
        })
        .ok_or_else(|| CliError::Config("radio.adapters: no adapter for this job".into()))
}

/// The long-running services, which log at info by default.
#[cfg(target_os = "linux")]
fn is_service(c: &Command) -> bool {
    matches!(
        c,
        Command::Run | Command::Dashboard | Command::Portal { .. } | Command::Led
    )
}
#[cfg(not(target_os = "linux"))]
fn is_service(_: &Command) -> bool {
    false
}

/// Logs go to stderr (the journal, under systemd); `RUST_LOG` (`debug`, `o4send::engine=debug,warn`)
/// overrides the level set by `-v`. Targets, not EnvFilter: EnvFilter's regular expressions
/// would add half a megabyte to the binary.
pub fn init_logging(cli: &Cli) {
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::prelude::*;
    let default = match (cli.verbose, &cli.command) {
        (0, c) if is_service(c) => "info",
        (0, _) => "warn",
        (1, _) => "info",
        _ => "debug",
    };
    let from_env = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse::<Targets>().ok());
    let filter = from_env.unwrap_or_else(|| default.parse().unwrap_or_default());
    // Colours only for a person at a terminal: the journal (and a test reading stderr) gets
    // plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    // The builder's own level (INFO unless told) would hide what the targets let through.
    let _ = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .finish()
        .with(filter)
        .try_init();
}

/// A single-threaded tokio runtime: the appliance is small and its work is I/O.
pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    crate::engine::runtime().map_err(CliError::Failed)
}
