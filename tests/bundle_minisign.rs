//! Acceptance 4: Debian's own `minisign` (0.11, `apt-get install minisign`) and o4send agree.
//! Keys made by `minisign -G` sign bundles through `o4send bundle create`; bundle.toml signed by
//! `minisign -S` (prehashed `ED`, the default) and `minisign -S -l` (legacy `Ed`) imports; a
//! bundle o4send signed verifies with `minisign -V`; a password-protected minisign key works
//! with its password and is refused without it. Without the `minisign` command these tests fail
//! (scripts/test.sh installs it).

mod common;

use common::stick::{o4send, ok, stick_items, Rig};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn minisign(args: &[&str]) -> Command {
    let found = Command::new("minisign")
        .arg("-v")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "Debian's minisign is needed: apt-get install minisign (scripts/test.sh does it)"
    );
    let mut c = Command::new("minisign");
    c.args(args).stdin(Stdio::null());
    c
}

/// A minisign key pair without a password (`minisign -G -W`), trusted by the rig's config.
fn minisign_key(rig: &Rig) -> (PathBuf, PathBuf) {
    let public = rig.dir.path().join("minisign.pub");
    let secret = rig.dir.path().join("minisign.key");
    ok(minisign(&["-G", "-W"])
        .arg("-p")
        .arg(&public)
        .arg("-s")
        .arg(&secret));
    let line = std::fs::read_to_string(&public).unwrap();
    rig.write_config(&rig.config, &[line.lines().nth(1).unwrap()]);
    (public, secret)
}

/// A stick written by `o4send bundle create` with `key`.
fn create(rig: &Rig, label: &str, key: &Path, body: &[u8]) -> PathBuf {
    let from = rig.dir.path().join(format!("{label}-files"));
    std::fs::create_dir_all(&from).unwrap();
    std::fs::write(from.join(format!("{label}.txt")), body).unwrap();
    let root = rig.dir.path().join(format!("{label}-stick"));
    std::fs::create_dir_all(&root).unwrap();
    ok(rig
        .cmd(&["bundle", "create", "--name", label])
        .arg("--from")
        .arg(&from)
        .arg("--to")
        .arg(&root)
        .arg("--key")
        .arg(key)
        .arg("--sequence")
        .arg(rig.next_sequence()));
    root
}

/// Re-signs the stick's bundle.toml with `minisign -S` (plus `extra` flags); returns the
/// signature's algorithm: `ED` (prehashed) or `Ed` (legacy).
fn minisign_sign(root: &Path, secret: &Path, extra: &[&str]) -> String {
    let manifest = root.join("o4send/bundle.toml");
    let sig = root.join("o4send/bundle.toml.minisig");
    std::fs::remove_file(&sig).unwrap();
    ok(minisign(&["-S"])
        .args(extra)
        .arg("-s")
        .arg(secret)
        .arg("-m")
        .arg(&manifest)
        .args(["-t", "signed with Debian's minisign"]));
    let text = std::fs::read_to_string(&sig).unwrap();
    let line = text.lines().nth(1).unwrap();
    let bytes = <ct_codecs::Base64 as ct_codecs::Decoder>::decode_to_vec(line, None).unwrap();
    String::from_utf8_lossy(&bytes[..2]).to_string()
}

fn imports(rig: &Rig, root: &Path, name: &str) {
    let out = ok(rig.cmd(&["import"]).arg(root));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.starts_with(&format!("imported campaign {name:?}")),
        "{said}"
    );
    assert_eq!(rig.snapshot().items(), stick_items(root));
}

#[test]
fn bundles_signed_by_debian_minisign_import() {
    let rig = Rig::new();
    let (_, secret) = minisign_key(&rig);

    let prehashed = create(&rig, "prehashed", &secret, b"signed ED");
    assert_eq!(minisign_sign(&prehashed, &secret, &[]), "ED");
    imports(&rig, &prehashed, "prehashed");

    let legacy = create(&rig, "legacy", &secret, b"signed Ed");
    assert_eq!(minisign_sign(&legacy, &secret, &["-l"]), "Ed");
    imports(&rig, &legacy, "legacy");

    // Tampering after minisign signed is caught like any other.
    let tampered = create(&rig, "tampered", &secret, b"signed, then changed");
    minisign_sign(&tampered, &secret, &[]);
    let manifest = tampered.join("o4send/bundle.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("tampered", "tampereD")).unwrap();
    let out = rig.import(&tampered);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("does not match: changed after signing"),
        "{err}"
    );
    assert_eq!(rig.snapshot().items(), stick_items(&legacy));
}

#[test]
fn bundles_signed_by_o4send_verify_with_debian_minisign() {
    let rig = Rig::new();
    let root = create(&rig, "ours", &rig.secret, b"signed by o4send");
    ok(minisign(&["-V"])
        .arg("-p")
        .arg(&rig.public)
        .arg("-m")
        .arg(root.join("o4send/bundle.toml")));
    let out = ok(o4send()
        .args(["bundle", "verify"])
        .arg(&root)
        .arg("--pub")
        .arg(&rig.public));
    assert!(String::from_utf8_lossy(&out.stdout).contains(": ok — campaign \"ours\""));
}

#[test]
fn a_password_protected_minisign_key_needs_its_password() {
    let rig = Rig::new();
    let public = rig.dir.path().join("enc.pub");
    let secret = rig.dir.path().join("enc.key");
    let mut gen = minisign(&["-G"]);
    gen.arg("-p").arg(&public).arg("-s").arg(&secret);
    let mut child = gen
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"expo-pass\nexpo-pass\n")
        .unwrap();
    assert!(child.wait().unwrap().success());

    let from = rig.dir.path().join("files");
    std::fs::create_dir(&from).unwrap();
    std::fs::write(from.join("map.png"), "png").unwrap();
    let root = rig.dir.path().join("stick");
    std::fs::create_dir(&root).unwrap();
    let run = |password: &str| {
        o4send()
            .args(["bundle", "create", "--from"])
            .arg(&from)
            .arg("--to")
            .arg(&root)
            .arg("--key")
            .arg(&secret)
            .env("O4SEND_KEY_PASSWORD", password)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let wrong = run("guess");
    let err = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        !wrong.status.success() && err.trim_end().ends_with("(Wrong password for that key)"),
        "{err}"
    );
    let right = run("expo-pass");
    assert!(right.status.success(), "{:?}", right);
    ok(minisign(&["-V"])
        .arg("-p")
        .arg(&public)
        .arg("-m")
        .arg(root.join("o4send/bundle.toml")));
}
