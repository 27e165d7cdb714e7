//! Issue 12, item 6: a signed stick cannot take the appliance back in time. Every bundle carries a
//! signed `sequence` (`o4send bundle create`: the signing time); `o4send import` refuses one that
//! is not newer than the active campaign's with one line saying so, and leaves the content byte
//! for byte as it was, unless the operator goes back on purpose (`--allow-older`, or
//! `o4send content rollback`). Real binaries, real files, real signatures.

mod common;

use common::stick::{ok, stick_items, Rig};
use std::path::{Path, PathBuf};

/// The sequence of a stick made at last year's expo (2024-11-29).
const LAST_YEAR: &str = "1732871234";

fn bundle_toml(root: &Path) -> String {
    std::fs::read_to_string(root.join("o4send/bundle.toml")).unwrap()
}

/// The `sequence = N` line of a stick's bundle.toml.
fn sequence_of(root: &Path) -> Option<u64> {
    bundle_toml(root)
        .lines()
        .find_map(|l| l.strip_prefix("sequence = "))
        .map(|n| n.parse().unwrap())
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Imports `root` (with `extra` flags); returns what it printed.
fn imports(rig: &Rig, root: &Path, extra: &[&str]) -> String {
    let out = ok(rig.cmd(&["import"]).args(extra).arg(root));
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// Imports `root`, which must be refused with one line while the content stays byte for byte
/// as it was; returns that line.
fn refused(rig: &Rig, root: &Path) -> String {
    let before = rig.snapshot();
    let out = rig.import(root);
    let stderr = String::from_utf8_lossy(&out.stderr).trim_end().to_string();
    eprintln!("refused as expected: {stderr}");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line expected: {stderr}");
    assert_eq!(rig.snapshot(), before, "the active content changed");
    stderr
}

fn content_show(rig: &Rig) -> String {
    let out = ok(&mut rig.cmd(&["content", "show"]));
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// An appliance, a stick from last year's expo and one made now with the default sequence.
fn two_expos() -> (Rig, PathBuf, PathBuf) {
    let rig = Rig::new();
    let old = rig.stick_with(
        "expo-2025",
        &[("flyer.pdf", b"%PDF last year")],
        &["--sequence", LAST_YEAR],
    );
    let new = rig.stick_with("expo-2026", &[("flyer.pdf", b"%PDF this year")], &[]);
    (rig, old, new)
}

#[test]
fn an_older_bundle_is_refused_and_a_newer_one_imports() {
    let made = now();
    let (rig, old, new) = two_expos();
    let seq = sequence_of(&new).expect("bundle create writes a sequence");
    assert!(
        made <= seq && seq <= now(),
        "the default sequence is the signing time: {seq}"
    );

    let said = imports(&rig, &old, &[]);
    assert!(said.contains("sequence 1732871234)"), "{said}");
    let said = imports(&rig, &new, &[]);
    assert!(
        said.starts_with("imported campaign \"expo-2026\"")
            && said.contains(&format!("sequence {seq})")),
        "{said}"
    );
    assert!(content_show(&rig).contains(&format!("\n  sequence: {seq}\n")));

    let line = refused(&rig, &old);
    assert_eq!(
        line,
        format!(
            "o4send: import refused: bundle \"expo-2025\" sequence 1732871234 is older than the \
             active campaign \"expo-2026\" (sequence {seq}); to go back on purpose: o4send \
             import --allow-older {}, or o4send content rollback",
            old.display()
        )
    );
    assert_eq!(rig.snapshot().items(), stick_items(&new));
}

#[test]
fn allow_older_goes_back_on_purpose() {
    let (rig, old, new) = two_expos();
    imports(&rig, &new, &[]);
    let with_new = rig.snapshot();

    let said = imports(&rig, &old, &["--allow-older"]);
    assert!(
        said.starts_with("imported campaign \"expo-2025\"")
            && said.contains(
                "sequence 1732871234 (not newer than the campaign it replaced: --allow-older)"
            ),
        "{said}"
    );
    let back = rig.snapshot();
    assert_eq!(back.items(), stick_items(&old));
    assert_eq!(back.previous_link, with_new.content_link);
    assert!(content_show(&rig).contains("\n  sequence: 1732871234\n"));

    // The active campaign is last year's now, so this year's imports again without a flag.
    let said = imports(&rig, &new, &[]);
    assert!(
        said.starts_with("imported campaign \"expo-2026\""),
        "{said}"
    );
    assert_eq!(rig.snapshot().items(), stick_items(&new));
}

#[test]
fn a_hand_edited_sequence_breaks_the_signature() {
    let (rig, old, new) = two_expos();
    imports(&rig, &new, &[]);
    let forged = bundle_toml(&old).replace(
        &format!("sequence = {LAST_YEAR}\n"),
        "sequence = 4102444800\n",
    );
    assert_ne!(forged, bundle_toml(&old));
    std::fs::write(old.join("o4send/bundle.toml"), forged).unwrap();
    let line = refused(&rig, &old);
    assert!(
        line.starts_with("o4send: import refused: ")
            && line.contains("bundle.toml.minisig: the signature by key")
            && line.contains("does not match: changed after signing"),
        "{line}"
    );
    assert_eq!(rig.snapshot().items(), stick_items(&new));
}

#[test]
fn the_same_sequence_with_other_content_is_refused() {
    let rig = Rig::new();
    let seq = ["--sequence", "1764380000"];
    let a = rig.stick_with("booth-a", &[("map.png", b"png of hall A")], &seq);
    let b = rig.stick_with("booth-b", &[("map.png", b"png of hall B")], &seq);
    imports(&rig, &a, &[]);
    // The same bundle again is already active: fine, and nothing changes.
    let before = rig.snapshot();
    let said = imports(&rig, &a, &[]);
    assert!(
        said.contains("is already active; nothing changed"),
        "{said}"
    );
    assert_eq!(rig.snapshot(), before);

    let line = refused(&rig, &b);
    assert_eq!(
        line,
        format!(
            "o4send: import refused: bundle \"booth-b\" sequence 1764380000 is as old as the \
             active campaign \"booth-a\" (sequence 1764380000) but differs from it; make it \
             again with o4send bundle create for a newer sequence, or to replace it on purpose: \
             o4send import --allow-older {}",
            b.display()
        )
    );
    imports(&rig, &b, &["--allow-older"]);
    assert_eq!(rig.snapshot().items(), stick_items(&b));
}

#[test]
fn after_a_rollback_the_newer_bundle_imports_again() {
    let rig = Rig::new();
    let old = rig.stick_with("old", &[("a.txt", b"old campaign")], &["--sequence", "100"]);
    let new = rig.stick_with("new", &[("b.txt", b"new campaign")], &["--sequence", "200"]);
    imports(&rig, &old, &[]);
    imports(&rig, &new, &[]);
    let out = ok(&mut rig.cmd(&["content", "rollback"]));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.starts_with("rolled back to campaign \"old\" (sha256 ")
            && said.contains(", sequence 100);"),
        "{said}"
    );
    assert_eq!(rig.snapshot().items(), stick_items(&old));
    let shown = content_show(&rig);
    assert!(
        shown.contains("\n  sequence: 100\n") && shown.contains("\n  sequence: 200\n"),
        "{shown}"
    );

    let said = imports(&rig, &old, &[]);
    assert!(said.contains("is already active"), "{said}");
    let said = imports(&rig, &new, &[]);
    assert!(said.starts_with("imported campaign \"new\""), "{said}");
    assert_eq!(rig.snapshot().items(), stick_items(&new));
}

/// A stick in the format from before sequences: bundle.toml without one, signed by the rig.
fn legacy(rig: &Rig, label: &str, body: &[u8]) -> PathBuf {
    let root = rig.stick(label, &[("poster.txt", body)]);
    let text: String = bundle_toml(&root)
        .lines()
        .filter(|l| !l.starts_with("sequence = "))
        .map(|l| format!("{l}\n"))
        .collect();
    rig.resign(&root, &text);
    assert_eq!(sequence_of(&root), None);
    root
}

#[test]
fn unsequenced_bundles_import_only_over_unsequenced_campaigns() {
    let rig = Rig::new();
    let by_hand = rig.data.join("content");
    std::fs::create_dir(&by_hand).unwrap();
    std::fs::write(by_hand.join("poster.png"), "png by hand").unwrap();
    assert!(content_show(&rig).contains("\n  sequence: none (any signed bundle may replace it)\n"));

    // Over a campaign made by hand, and over one another: as before sequences existed.
    let first = legacy(&rig, "legacy-1", b"first legacy poster");
    let second = legacy(&rig, "legacy-2", b"second legacy poster");
    let said = imports(&rig, &first, &[]);
    assert!(
        said.contains("(sha256 ") && said.contains(", no sequence (counts as 0))"),
        "{said}"
    );
    imports(&rig, &second, &[]);
    assert_eq!(rig.snapshot().items(), stick_items(&second));
    imports(&rig, &first, &[]);
    assert_eq!(rig.snapshot().items(), stick_items(&first));

    // A sequenced bundle is newer than any unsequenced one, and then they are refused.
    let sequenced = rig.stick_with("sequenced", &[("poster.txt", b"new")], &["--sequence", "1"]);
    imports(&rig, &sequenced, &[]);
    let line = refused(&rig, &second);
    assert_eq!(
        line,
        format!(
            "o4send: import refused: bundle \"legacy-2\" without a sequence (an older bundle \
             format, counted as 0) is older than the active campaign \"sequenced\" (sequence 1); \
             to go back on purpose: o4send import --allow-older {}, or o4send content rollback",
            second.display()
        )
    );
    let verify = ok(rig.cmd(&["bundle", "verify"]).arg(&second));
    let said = String::from_utf8_lossy(&verify.stdout);
    assert!(
        said.contains("campaign \"legacy-2\", no sequence (counts as 0), 1 item(s)"),
        "{said}"
    );
}

#[test]
fn bundle_create_sets_the_sequence_itself() {
    let rig = Rig::new();
    // A campaign.toml copied from an old stick keeps no old sequence: create replaces it.
    let from = rig.dir.path().join("folder");
    std::fs::create_dir(&from).unwrap();
    std::fs::write(from.join("menu.txt"), "today's menu").unwrap();
    std::fs::write(
        from.join("campaign.toml"),
        "name = \"canteen\"\nsequence = 5\n[[items]]\nfile = \"menu.txt\"\n",
    )
    .unwrap();
    let root = rig.dir.path().join("stick");
    std::fs::create_dir(&root).unwrap();
    let create = |extra: &[&str]| {
        let mut c = rig.cmd(&["bundle", "create", "--replace"]);
        c.arg("--key")
            .arg(&rig.secret)
            .arg("--from")
            .arg(&from)
            .arg("--to")
            .arg(&root)
            .args(extra);
        c.output().unwrap()
    };
    let made = now();
    let out = create(&[]);
    assert!(out.status.success(), "{out:?}");
    let seq = sequence_of(&root).unwrap();
    assert!(made <= seq && seq <= now(), "{seq}");
    let warned = String::from_utf8_lossy(&out.stderr);
    assert!(
        warned.contains(&format!("campaign.toml: sequence = 5 is replaced by {seq}")),
        "{warned}"
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains(&format!("campaign \"canteen\", sequence {seq}, 1 item(s)")),
        "{said}"
    );

    let out = create(&["--sequence", "42"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(sequence_of(&root), Some(42));

    let out = create(&["--sequence", "0"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("--sequence"), "{err}");
    assert_eq!(sequence_of(&root), Some(42));
}
