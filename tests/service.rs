//! The service files the image ships (board/common/rootfs-overlay and image-overlay): every unit
//! is rated by systemd's own measure (`systemd-analyze security`, offline, from the systemd
//! package), each that runs as a user of its own rather than root at 2.0 or less; the daemon's
//! unit says what the watchdog and restart policy need, and gives a stopping daemon the time the
//! default config needs; the hardware watchdog stays under the Pi's 15 s.

use o4send::config::Config;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The most a unit that needs no root may expose (issue 26).
const MAX_EXPOSURE: f64 = 2.0;

fn overlay() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("board/common/rootfs-overlay")
}

fn image_overlay() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("board/common/image-overlay")
}

fn unit() -> String {
    std::fs::read_to_string(overlay().join("etc/systemd/system/o4send.service")).unwrap()
}

/// Every value of `key=` in a unit file, in order.
fn values<'a>(text: &'a str, key: &str) -> Vec<&'a str> {
    let prefix = format!("{key}=");
    text.lines()
        .filter_map(|l| l.strip_prefix(prefix.as_str()))
        .map(str::trim)
        .collect()
}

fn secs(value: &str) -> Duration {
    let n = value.trim_end_matches('s');
    Duration::from_secs(n.parse().unwrap_or_else(|_| panic!("{value}: not seconds")))
}

/// systemd's own rating of a shipped unit's sandbox (0 safest, 10 unsandboxed).
fn exposure(unit: &str) -> f64 {
    exposure_in(&overlay(), unit)
}

fn exposure_in(root: &Path, unit: &str) -> f64 {
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(format!("--root={}", root.display()))
        .arg(unit)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run systemd-analyze ({e}): install systemd (apt-get install systemd)")
        });
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .unwrap_or_else(|| {
            panic!(
                "no exposure level in:\n{text}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    eprintln!("systemd-analyze security {unit}: {}", line.trim());
    line.split(':')
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unreadable: {line}"))
}

#[test]
fn systemd_analyze_security_rates_the_unit_at_most_2_0() {
    let figure = exposure("o4send.service");
    assert!(figure <= MAX_EXPOSURE, "o4send.service: {figure}");
}

/// Issue 26: no unit has root walk a tree its unprivileged user can write (the daemon's unit ran
/// `chown -R o4send:o4send /var/lib/o4send` as root before every start; a directory swapped
/// for a symlink during the walk is the classic way to lead such a walk elsewhere). Root may
/// still chown named files, without following them (`-h`).
#[test]
fn no_unit_has_root_walk_a_tree_its_user_can_write() {
    for root in [overlay(), image_overlay()] {
        let dir = root.join("etc/systemd/system");
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for key in ["ExecStartPre", "ExecStart", "ExecStartPost", "ExecReload"] {
                for line in values(&text, key)
                    .into_iter()
                    .filter(|l| l.starts_with('+'))
                {
                    let walks = ["chown -R", "chmod -R", "chgrp -R", "chown --recursive"]
                        .iter()
                        .any(|w| line.contains(w));
                    assert!(!walks, "{}: {key}={line}", path.display());
                    if line.contains("chown ") {
                        assert!(line.contains(" -h "), "{}: {key}={line}", path.display());
                    }
                }
            }
        }
    }
}

/// Every shipped unit's figure, printed; those with a `User=` of their own (no root needed) at
/// 2.0 or less. Root's units (setup, firewall, hostapd, dnsmasq before it drops to its user,
/// imports, updates, growth) need what they are for: mounts, raw disks, netlink.
#[test]
fn every_shipped_unit_is_rated_and_each_without_root_at_most_2_0() {
    let mut rated = Vec::new();
    for root in [overlay(), image_overlay()] {
        let dir = root.join("etc/systemd/system");
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".service"))
            .collect();
        names.sort();
        for name in names {
            let text = std::fs::read_to_string(dir.join(&name)).unwrap();
            let user = values(&text, "User").last().map(|u| u.to_string());
            let unit = name.replace("@.service", "@i.service");
            let figure = exposure_in(&root, &unit);
            println!("{unit}: {figure} ({})", user.as_deref().unwrap_or("root"));
            rated.push((unit, figure, user));
        }
    }
    assert!(rated.len() >= 14, "{rated:?}");
    for (unit, figure, user) in rated {
        if user.is_some_and(|u| u != "root") {
            assert!(figure <= MAX_EXPOSURE, "{unit}: {figure}");
        }
    }
}

/// The dashboard, the LED and the visitors' captive page run beside the daemon and must be boxed
/// in at least as tightly.
#[test]
fn the_dashboard_the_led_and_the_portal_are_sandboxed_as_tightly() {
    for unit in [
        "o4send-dashboard.service",
        "o4send-led.service",
        "o4send-portal.service",
    ] {
        let figure = exposure(unit);
        assert!(figure <= MAX_EXPOSURE, "{unit}: {figure}");
    }
}

#[test]
fn the_unit_asks_for_what_the_watchdog_and_restarts_need() {
    let unit = unit();
    for (key, want) in [
        ("Type", "notify"),
        ("NotifyAccess", "main"),
        ("WatchdogSec", "30"),
        ("Restart", "always"),
        ("RestartPreventExitStatus", "78"),
        ("StartLimitAction", "reboot"),
        ("User", "o4send"),
        ("StateDirectory", "o4send"),
        ("ProtectSystem", "strict"),
        ("PrivateTmp", "yes"),
        ("NoNewPrivileges", "yes"),
        ("CapabilityBoundingSet", ""),
        (
            "RestrictAddressFamilies",
            "AF_UNIX AF_BLUETOOTH AF_INET AF_INET6 AF_NETLINK",
        ),
    ] {
        assert_eq!(values(&unit, key), vec![want], "{key}=");
    }
    let sysusers =
        std::fs::read_to_string(overlay().join("usr/lib/sysusers.d/o4send.conf")).unwrap();
    assert!(sysusers.lines().any(|l| l.starts_with("u o4send ")));
    let policy =
        std::fs::read_to_string(overlay().join("etc/dbus-1/system.d/o4send.conf")).unwrap();
    assert!(policy.contains(r#"<policy user="o4send">"#));
    assert!(policy.contains(r#"<allow send_destination="org.bluez"/>"#));
}

#[test]
fn stopping_fits_in_timeout_stop_sec_with_the_default_config() {
    let unit = unit();
    let stop = secs(values(&unit, "TimeoutStopSec")[0]);
    let cfg = Config::default();
    // The engine's own bound: the grace period, then ABORT and its answer (see engine/core.rs).
    let worst = Duration::from_secs(cfg.engine.shutdown_grace_secs)
        + Duration::from_secs(cfg.obex.packet_timeout_secs) * 2
        + Duration::from_secs(5);
    assert!(
        worst < stop,
        "worst stop {worst:?}, TimeoutStopSec {stop:?}"
    );
}

#[test]
fn the_hardware_watchdog_stays_under_the_pi_maximum() {
    let dropin =
        std::fs::read_to_string(overlay().join("etc/systemd/system.conf.d/o4send-watchdog.conf"))
            .unwrap();
    assert_eq!(values(&dropin, "RuntimeWatchdogSec"), vec!["14s"]);
    assert!(secs("14s") < Duration::from_secs(15));
}

/// Issue 26: the visitors' access point never opens without its firewall. On main 1ba9b26
/// `o4send-hostapd.service` had no dependency on `o4send-firewall.service`: an nft file that
/// failed to load (or was never written) left the open Wi-Fi up with the dashboard reachable.
#[test]
fn the_access_point_never_opens_without_its_firewall() {
    let text = std::fs::read_to_string(overlay().join("etc/systemd/system/o4send-hostapd.service"))
        .unwrap();
    let all = |key: &str| values(&text, key).join(" ");
    assert!(all("Requires")
        .split(' ')
        .any(|u| u == "o4send-firewall.service"));
    assert!(all("After")
        .split(' ')
        .any(|u| u == "o4send-firewall.service"));
    // The table hostapd waits for is the one setup writes.
    let firewall = o4send::hotspot::render(&Default::default(), "wlan0", "DE", "Booth 7").firewall;
    let table = firewall
        .lines()
        .find_map(|l| {
            l.strip_prefix("table inet ")
                .map(|t| t.trim_end_matches(" {"))
        })
        .unwrap();
    // The firewall's table first, then the access point's interface beside the Wi-Fi client.
    assert_eq!(
        values(&text, "ExecStartPre"),
        [
            format!("/usr/sbin/nft list table inet {table}").as_str(),
            "/usr/bin/o4send hotspot prepare"
        ]
    );
}
