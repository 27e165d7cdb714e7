use super::*;

fn dir_with(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in files {
        std::fs::write(dir.path().join(name), body).unwrap();
    }
    dir
}

#[test]
fn plain_directory_is_a_campaign() {
    let d = dir_with(&[
        ("b.vcf", b"BEGIN:VCARD"),
        ("a.png", b"png"),
        (".hidden", b"x"),
    ]);
    let c = load(d.path(), 1 << 20).unwrap();
    let names: Vec<_> = c.items.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["a.png", "b.vcf"]);
    assert_eq!(c.items[1].mime, "text/x-vcard");
    assert_eq!(c.items[0].sha256, sha256_hex(b"png"));
}

#[test]
fn campaign_file_with_targeting_and_hours() {
    let toml = r#"
name = "Expo"
sender_name = "Booth 12"
start = "2026-11-20"
end = "2026-11-30"
hours = ["09:00-18:00"]
[[items]]
file = "flyer.pdf"
classes = ["phone"]
[[items]]
file = "card.vcf"
mime = "text/x-vcard"
classes = ["computer"]
size = 4
"#;
    let d = dir_with(&[
        ("campaign.toml", toml.as_bytes()),
        ("flyer.pdf", b"%PDF"),
        ("card.vcf", b"VCRD"),
    ]);
    let c = load(d.path(), 1 << 20).unwrap();
    assert_eq!(c.sender_name, "Booth 12");
    assert_eq!(c.schedule.hours.len(), 1);
    assert!(c.items[0].targets(MajorClass::Phone) && !c.items[0].targets(MajorClass::Computer));
}

#[test]
fn refusals_name_the_cause() {
    let err = load(Path::new("/nonexistent/content"), 100).unwrap_err().0;
    assert!(
        err.contains("/nonexistent/content") && err.contains("No such file"),
        "{err}"
    );
    let empty = dir_with(&[]);
    assert!(load(empty.path(), 100)
        .unwrap_err()
        .0
        .contains("holds no files"));
    let big = dir_with(&[("big.txt", &[b'x'; 200])]);
    assert!(load(big.path(), 100)
        .unwrap_err()
        .0
        .contains("max_item_bytes"));
    let cases = [
        (
            "name = \"x\"\n[[items]]\nfile = \"../etc/passwd\"\n",
            "plain file name",
        ),
        (
            "name = \"x\"\n[[items]]\nfile = \"a.txt\"\nsha256 = \"00\"\n",
            "SHA-256",
        ),
        (
            "name = \"x\"\n[[items]]\nfile = \"a.txt\"\nbogus = 1\n",
            "bogus",
        ),
        (
            "name = \"x\"\nhours = [\"9-5\"]\n[[items]]\nfile = \"a.txt\"\n",
            "9-5",
        ),
        (
            "name = \"x\"\n[[items]]\nfile = \"missing.txt\"\n",
            "missing.txt",
        ),
        ("name = [\n", "campaign.toml"),
    ];
    for (toml, want) in cases {
        let d = dir_with(&[("campaign.toml", toml.as_bytes()), ("a.txt", b"hello")]);
        let err = load(d.path(), 100).unwrap_err().0;
        assert!(err.contains(want) && !err.contains('\n'), "{want}: {err}");
    }
}

#[test]
fn a_file_where_the_directory_should_be_is_named() {
    let d = dir_with(&[("content", b"x")]);
    let err = load(&d.path().join("content"), 100).unwrap_err().0;
    assert!(err.ends_with("content is not a directory"), "{err}");
}

#[test]
fn demo_campaign_targets_phones_and_computers() {
    let c = demo_campaign();
    assert_eq!(c.items.len(), 2);
    assert!(
        c.items[0].body.len() > 16 * 1024,
        "the flyer should need several OBEX packets"
    );
    assert!(android_accepts(&c.items[0].mime));
}
