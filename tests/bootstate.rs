//! The boot state as the other readers and writers of a U-Boot environment see it: what
//! `o4send bootstate` writes, libubootenv's `fw_printenv` reads, and what `fw_setenv` writes,
//! `o4send bootstate` reads (U-Boot itself reads and writes it in the image's boot test). Also:
//! a torn copy 1 falls back to copy 2, and neither copy means a fresh card (slot A only).

mod common;

use common::cli::o4send;
use std::path::{Path, PathBuf};
use std::process::Command;

const COPY1: u64 = 0x10_0000;
const COPY2: u64 = 0x10_4000;

/// fw_printenv, or why there is none (a failure under CI=true).
fn libubootenv() -> bool {
    if Command::new("fw_printenv").arg("-V").output().is_ok() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true and no fw_printenv: apt-get install libubootenv-tool (scripts/test.sh does it as root)"
    );
    eprintln!("skipped: needs libubootenv's fw_printenv (apt-get install libubootenv-tool)");
    false
}

/// A 4 MiB "disk" of zeros (the gap before the first partition, as the image leaves it) and
/// libubootenv configs for each copy.
fn disk(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let disk = dir.join("disk.img");
    std::fs::write(&disk, vec![0u8; 4 << 20]).unwrap();
    let config = |n: u8, offset: u64| {
        let path = dir.join(format!("fw_env{n}.config"));
        std::fs::write(&path, format!("{} {offset:#x} 0x4000\n", disk.display())).unwrap();
        path
    };
    let (c1, c2) = (config(1, COPY1), config(2, COPY2));
    (disk, c1, c2)
}

fn bootstate(disk: &Path, args: &[&str]) -> String {
    let mut all = vec!["bootstate", "--disk", disk.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = o4send(&all);
    assert!(
        out.status.success(),
        "o4send {all:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs libubootenv's `TOOL -c CONFIG ARGS` and returns what it printed.
fn libubootenv_tool(tool: &str, config: &Path, args: &[&str]) -> String {
    let out = Command::new(tool)
        .arg("-c")
        .arg(config)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn printenv(config: &Path) -> String {
    libubootenv_tool("fw_printenv", config, &[])
}

fn setenv(config: &Path, key: &str, value: &str) {
    libubootenv_tool("fw_setenv", config, &[key, value]);
}

#[test]
fn a_fresh_card_boots_slot_a_only() {
    let dir = tempfile::tempdir().unwrap();
    let (disk, _, _) = disk(dir.path());
    let show = bootstate(&disk, &["show"]);
    assert!(
        show.contains("order A, tries left A 3 B 0 (neither copy holds"),
        "{show}"
    );
    assert_eq!(bootstate(&disk, &["get-primary"]), "A\n");
    assert_eq!(bootstate(&disk, &["get-state", "B"]), "bad\n");
}

#[test]
fn libubootenv_reads_what_o4send_writes_and_the_other_way() {
    if !libubootenv() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (disk, c1, c2) = disk(dir.path());
    bootstate(&disk, &["set-primary", "B"]);
    for config in [&c1, &c2] {
        let env = printenv(config);
        for line in ["BOOT_ORDER=B A", "BOOT_A_LEFT=3", "BOOT_B_LEFT=3"] {
            assert!(env.lines().any(|l| l == line), "{line} not in {env}");
        }
    }
    // What U-Boot's script does on each boot of B, here by libubootenv: B's tries run out.
    setenv(&c1, "BOOT_B_LEFT", "0");
    assert_eq!(bootstate(&disk, &["get-primary"]), "A\n");
    assert_eq!(bootstate(&disk, &["get-state", "B"]), "bad\n");
    bootstate(&disk, &["set-state", "B", "bad"]);
    assert!(printenv(&c1).lines().any(|l| l == "BOOT_ORDER=A"));
}

#[test]
fn a_torn_copy_one_falls_back_to_copy_two() {
    let dir = tempfile::tempdir().unwrap();
    let (disk, _, _) = disk(dir.path());
    bootstate(&disk, &["set-primary", "B"]);
    // A power cut while copy 1 was written: half of it is new, its CRC fails.
    let mut bytes = std::fs::read(&disk).unwrap();
    bytes[COPY1 as usize + 8..COPY1 as usize + 12].copy_from_slice(b"TORN");
    std::fs::write(&disk, &bytes).unwrap();
    let show = bootstate(&disk, &["show"]);
    assert!(
        show.contains("order B A, tries left A 3 B 3 (copy 2)"),
        "{show}"
    );
    assert!(show.contains("passed over: copy 1: CRC"), "{show}");
    // The next write repairs both.
    bootstate(&disk, &["set-state", "A", "good"]);
    assert!(bootstate(&disk, &["show"]).contains("(copy 1)"));
}

#[test]
fn a_wrong_slot_is_refused_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let (disk, _, _) = disk(dir.path());
    let out = o4send(&[
        "bootstate",
        "--disk",
        disk.to_str().unwrap(),
        "set-primary",
        "C",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("\"C\": a slot is A or B"), "{err}");
}
