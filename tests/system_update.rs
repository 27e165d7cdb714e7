//! System updates refused before anything changes: real RAUC bundles (made here with `rauc
//! bundle` and a key of the test's own) through the one install path, each bad kind refused with
//! the one line that names it, and nothing left behind but that line as the last outcome. (The
//! install itself, the reboot and the fall back run in QEMU: scripts/image/boot-test.py update.)

use o4send::update::install::{self, Request, System};
use o4send::update::trial::Records;
use std::path::{Path, PathBuf};
use std::process::Command;

/// rauc and mksquashfs, or why not (a failure under CI=true).
fn tools() -> bool {
    let have = |tool: &str, arg: &str| Command::new(tool).arg(arg).output().is_ok();
    if have("rauc", "--version") && have("mksquashfs", "-version") {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true and no rauc or mksquashfs: apt-get install rauc squashfs-tools (scripts/test.sh does it as root)"
    );
    eprintln!("skipped: needs rauc and mksquashfs (apt-get install rauc squashfs-tools)");
    false
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A self-signed release key in `dir/NAME.{cert,key}.pem`.
fn key(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let (cert, key) = (
        dir.join(format!("{name}.cert.pem")),
        dir.join(format!("{name}.key.pem")),
    );
    run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args([
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/O=o4send test/CN={name}"),
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert));
    (cert, key)
}

/// A verity bundle of a 2 MiB "root file system" for `compatible` at `version`.
fn bundle(dir: &Path, signer: &(PathBuf, PathBuf), compatible: &str, version: &str) -> PathBuf {
    let content = dir.join(format!("content-{compatible}-{version}"));
    std::fs::create_dir_all(&content).unwrap();
    let mut rootfs = vec![0u8; 2 << 20];
    getrandom::fill(&mut rootfs).unwrap(); // does not compress: the payload stays 2 MiB
    std::fs::write(content.join("rootfs.ext4"), rootfs).unwrap();
    std::fs::write(
        content.join("manifest.raucm"),
        format!(
            "[update]\ncompatible={compatible}\nversion={version}\n\n[bundle]\nformat=verity\n\n\
             [image.rootfs]\nfilename=rootfs.ext4\n"
        ),
    )
    .unwrap();
    let out = dir.join(format!("{compatible}-{version}.raucb"));
    let _ = std::fs::remove_file(&out);
    run(Command::new("rauc")
        .arg("bundle")
        .arg("--cert")
        .arg(&signer.0)
        .arg("--key")
        .arg(&signer.1)
        .arg(&content)
        .arg(&out));
    out
}

struct Box_ {
    sys: System,
    dir: PathBuf,
}

fn this_box(dir: &Path, keyring: &Path) -> Box_ {
    let records = dir.join("var-update");
    Box_ {
        sys: System {
            compatible: "o4send-pi".into(),
            keyring: keyring.to_path_buf(),
            running: "1.3.2".into(),
            records: Records::new(&records),
        },
        dir: records,
    }
}

/// A folder for the test's files, the release key, and the box that trusts it.
fn a_box() -> (tempfile::TempDir, (PathBuf, PathBuf), Box_) {
    let tmp = tempfile::tempdir().unwrap();
    let release = key(tmp.path(), "release");
    let b = this_box(tmp.path(), &release.0);
    (tmp, release, b)
}

/// Installs `file` and returns the refusal, checking that nothing but the outcome was left.
fn refused(b: &Box_, file: &Path, named: Option<&str>) -> String {
    let req = Request {
        named_version: named,
        ..Request::file(file)
    };
    let err = install::install(&b.sys, &req, &mut |_| {}).unwrap_err();
    let left: Vec<String> = std::fs::read_dir(&b.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["outcome"], "after {err}");
    assert_eq!(b.sys.records.outcome().as_deref(), Some(err.as_str()));
    eprintln!("{err}");
    err
}

#[test]
fn every_bad_bundle_is_refused_with_its_reason_and_changes_nothing() {
    if !tools() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let release = key(dir, "release");
    let stranger = key(dir, "stranger");
    let b = this_box(dir, &release.0);
    let good = bundle(dir, &release, "o4send-pi", "1.4.0");
    let bytes = std::fs::read(&good).unwrap();

    let unknown = bundle(dir, &stranger, "o4send-pi", "1.4.1");
    let e = refused(&b, &unknown, None);
    assert!(
        e.starts_with(
            "update refused: o4send-pi-1.4.1.raucb: not signed by a key this box trusts: "
        ),
        "{e}"
    );

    let tampered = dir.join("tampered.raucb");
    let mut t = bytes.clone();
    t[1 << 20] ^= 0x40; // a byte of the payload: the signature still verifies
    std::fs::write(&tampered, &t).unwrap();
    let e = refused(&b, &tampered, None);
    assert!(
        e.ends_with("changed after it was signed: its payload does not match the signed root hash"),
        "{e}"
    );

    let truncated = dir.join("truncated.raucb");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let e = refused(&b, &truncated, None);
    assert!(e.contains(": truncated: the file has "), "{e}");

    let squashfs_bytes =
        u64::from_le_bytes(bytes[40..48].try_into().unwrap()).div_ceil(4096) * 4096;
    let unsigned = dir.join("unsigned.raucb");
    std::fs::write(&unsigned, &bytes[..squashfs_bytes as usize]).unwrap();
    let e = refused(&b, &unsigned, None);
    assert!(e.ends_with("unsigned.raucb: unsigned: no signature at the end of the file (or the end was cut off)"), "{e}");

    let pc = bundle(dir, &release, "o4send-pc", "1.4.0");
    let e = refused(&b, &pc, None);
    assert!(
        e.ends_with("it is for o4send-pc, this box is o4send-pi (another board or architecture)"),
        "{e}"
    );

    let older = bundle(dir, &release, "o4send-pi", "1.3.1");
    let e = refused(&b, &older, None);
    assert!(
        e.contains("1.3.1 is older than the running 1.3.2; to go back, name it"),
        "{e}"
    );
    let e = refused(&b, &older, Some("1.3.0"));
    assert!(e.contains("1.3.1 is older"), "{e}");

    let text = dir.join("notes.raucb");
    std::fs::write(&text, "not a bundle at all\n".repeat(10)).unwrap();
    let e = refused(&b, &text, None);
    assert!(
        e.contains("not an o4send system update: it does not start with a SquashFS"),
        "{e}"
    );
}

#[test]
fn a_good_bundle_passes_every_check_and_reaches_rauc_install() {
    if !tools() {
        return;
    }
    let (tmp, release, b) = a_box();
    let dir = tmp.path();
    let good = bundle(dir, &release, "o4send-pi", "1.4.0");
    let info = o4send::update::bundle::inspect(&good, &release.0).unwrap();
    assert_eq!(
        (info.compatible.as_str(), info.version.as_str()),
        ("o4send-pi", "1.4.0")
    );
    // This machine has no slots: RAUC itself refuses, after every check of ours passed.
    let mut steps = Vec::new();
    let req = Request::file(&good);
    let e = install::install(&b.sys, &req, &mut |l| steps.push(l.to_string())).unwrap_err();
    assert!(
        e.starts_with("update failed: o4send-pi-1.4.0.raucb: "),
        "{e}"
    );
    assert!(
        steps
            .iter()
            .any(|s| s == "installing 1.4.0 into the other slot"),
        "{steps:?}"
    );
    assert!(!b.dir.join("incoming.raucb").exists());
    // An older release named by the operator gets as far.
    let older = bundle(dir, &release, "o4send-pi", "1.3.1");
    let req = Request {
        named_version: Some("1.3.1"),
        ..Request::file(&older)
    };
    let e = install::install(&b.sys, &req, &mut |_| {}).unwrap_err();
    assert!(e.starts_with("update failed: "), "{e}");
}

#[test]
fn the_running_release_left_on_a_stick_is_nothing_to_do() {
    if !tools() {
        return;
    }
    let (tmp, release, b) = a_box();
    let dir = tmp.path();
    let same = bundle(dir, &release, "o4send-pi", "1.3.2");
    let req = Request::file(&same);
    let done = install::install(&b.sys, &req, &mut |_| {}).unwrap();
    assert_eq!(done, install::Done::AlreadyRunning("1.3.2".into()));
    assert!(!b.dir.exists(), "nothing written, not even an outcome");
}
