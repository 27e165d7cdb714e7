//! Acceptance for the campaign rules: the simulated hall run on a campaign folder with a cap,
//! name filters, a follow-up and an A/B test, and its log read with SQL, independently of the
//! policy: the cap is never exceeded, filtered names get nothing, nobody gets both variants,
//! the follow-up goes only to phones that accepted the voucher, five minutes or more before.
//! Then `o4send demo --campaign DIR` as an operator runs it, and a broken rule refused in one line.

mod common;

use common::cli::o4send;
use o4send::content;
use o4send::demo::{demo_config, run, DemoOptions};
use rusqlite::Connection;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

const CAMPAIGN: &str = r#"
name = "Rules test"
name_exclude = ["[TV]*", "desktop-*"]

[[items]]
file = "voucher.pdf"
cap_total = 12
cap_per_day = 12

[[items]]
file = "short.pdf"
ab_test = "flyer"

[[items]]
file = "long.pdf"
ab_test = "flyer"

[[items]]
file = "evening.pdf"
after = "voucher.pdf"
after_minutes = 5
"#;

fn folder(dir: &Path, campaign: &str) {
    std::fs::write(dir.join("campaign.toml"), campaign).unwrap();
    for f in ["voucher.pdf", "short.pdf", "long.pdf", "evening.pdf"] {
        std::fs::write(dir.join(f), format!("%PDF-1.4 {f}")).unwrap();
    }
}

/// One attempt: phone address, phone name, item, outcome, started, ended.
struct Row {
    addr: String,
    name: String,
    item: String,
    outcome: String,
    started: i64,
    ended: i64,
}

fn attempts(db: &Path) -> Vec<Row> {
    let conn = Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT d.addr, COALESCE(d.name, ''), a.item_name, a.outcome, a.started_at, a.ended_at
             FROM attempts a JOIN devices d ON d.id = a.device_id ORDER BY a.id",
        )
        .unwrap();
    let rows = stmt.query_map([], |r| {
        Ok(Row {
            addr: r.get(0)?,
            name: r.get(1)?,
            item: r.get(2)?,
            outcome: r.get(3)?,
            started: r.get(4)?,
            ended: r.get(5)?,
        })
    });
    rows.unwrap().map(Result::unwrap).collect()
}

#[test]
fn the_simulated_hall_keeps_every_rule() {
    let dir = tempfile::tempdir().unwrap();
    let content_dir = dir.path().join("campaign");
    std::fs::create_dir(&content_dir).unwrap();
    folder(&content_dir, CAMPAIGN);
    let cfg = demo_config(400, 11);
    let campaign = content::load(&content_dir, cfg.engine.max_item_bytes).unwrap();
    let db = dir.path().join("demo.db");
    let report = run(DemoOptions {
        cfg: cfg.clone(),
        db: db.clone(),
        live: false,
        campaign: Some(Arc::new(campaign)),
    })
    .unwrap();
    let rows = attempts(&db);
    let allowed: HashSet<String> = cfg.policy.allow.iter().map(|a| a.to_string()).collect();

    let vouchers = rows
        .iter()
        .filter(|r| r.item == "voucher.pdf" && r.outcome == "accepted")
        .count();
    assert_eq!(vouchers, 12, "the cap is reached and not exceeded");

    for r in rows.iter().filter(|r| !allowed.contains(&r.addr)) {
        let lower = r.name.to_lowercase();
        assert!(
            !lower.starts_with("[tv]") && !lower.starts_with("desktop-"),
            "{} ({:?}) is filtered out but got {}",
            r.addr,
            r.name,
            r.item
        );
    }

    let mut variants: HashMap<&str, HashSet<&str>> = HashMap::new();
    for r in rows
        .iter()
        .filter(|r| r.item == "short.pdf" || r.item == "long.pdf")
    {
        variants.entry(&r.addr).or_default().insert(&r.item);
    }
    assert!(
        variants.values().all(|v| v.len() == 1),
        "a phone got both variants"
    );
    let short = variants
        .values()
        .filter(|v| v.contains("short.pdf"))
        .count();
    assert!(
        short > 20 && variants.len() - short > 20,
        "both variants in use: {short} of {}",
        variants.len()
    );

    let evening: Vec<&Row> = rows.iter().filter(|r| r.item == "evening.pdf").collect();
    assert!(!evening.is_empty(), "the follow-up was offered");
    for e in evening {
        let took = rows
            .iter()
            .find(|r| r.addr == e.addr && r.item == "voucher.pdf" && r.outcome == "accepted");
        let took =
            took.unwrap_or_else(|| panic!("{} got the follow-up without the voucher", e.addr));
        assert!(
            e.started >= took.ended + 5 * 60_000,
            "{} got it before the delay",
            e.addr
        );
    }

    let holds = &report.progress.holds;
    for h in &holds.items {
        let logged = |what: &str| {
            rows.iter()
                .filter(|r| r.item == h.item && (what == "asked" || r.outcome == what))
                .filter(|r| {
                    ["accepted", "declined", "ignored", "unsupported_type"]
                        .contains(&r.outcome.as_str())
                })
                .count() as u64
        };
        assert_eq!(
            (h.offered, h.accepted),
            (logged("asked"), logged("accepted")),
            "{}",
            h.item
        );
    }
    assert!(
        holds.name_filtered > 0,
        "the hall has TVs and laptops: {holds:?}"
    );
    assert!(
        holds.items[0].capped > 0,
        "phones came after the cap: {holds:?}"
    );
    assert!(report.progress.caps[0].capped);
}

#[test]
fn demo_campaign_prints_what_the_rules_did() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples/spring-fair");
    let out = o4send(&[
        "demo",
        "--phones",
        "300",
        "--campaign",
        example.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for want in [
        "campaign rules",
        "voucher.pdf: at most 40 accepted in total; at most 15 accepted a day",
        "item                     offered accepted   capped  filtered    closed",
        "cap: voucher.pdf: accepted ",
        "A/B test \"flyer\"",
        "(95 % interval ",
    ] {
        assert!(text.contains(want), "{want:?} missing in:\n{text}");
    }
    println!("{text}");
}

#[test]
fn a_broken_rule_is_refused_in_one_line_naming_file_key_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let err = refusal(
        dir.path(),
        &CAMPAIGN.replace("cap_total = 12", "cap_total = 0"),
    );
    let line = err
        .lines()
        .find(|l| l.contains("campaign.toml"))
        .unwrap_or_default();
    assert!(
        line.contains("items[0]: cap_total = 0: a cap is at least 1"),
        "{err}"
    );
    let err = refusal(
        dir.path(),
        &CAMPAIGN.replace("\"desktop-*\"", "\"/(a{999}){999}/\""),
    );
    assert!(
        err.contains("name_exclude = \"/(a{999}){999}/\": too complex"),
        "{err}"
    );
    let err = refusal(
        dir.path(),
        &CAMPAIGN.replace("after = \"voucher.pdf\"", "after = \"nope.pdf\""),
    );
    assert!(
        err.contains("items[3]: after = \"nope.pdf\": no item of this campaign"),
        "{err}"
    );
}

/// What `o4send demo --campaign` says on stderr about this campaign, which it must refuse.
fn refusal(dir: &Path, campaign: &str) -> String {
    folder(dir, campaign);
    let out = o4send(&["demo", "--campaign", dir.to_str().unwrap()]);
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn rules_travel_signed_on_a_stick_and_a_changed_rule_breaks_the_signature() {
    let rig = common::stick::Rig::new();
    let files: Vec<(&str, Vec<u8>)> = ["voucher.pdf", "short.pdf", "long.pdf", "evening.pdf"]
        .iter()
        .map(|f| (*f, format!("%PDF-1.4 {f}").into_bytes()))
        .collect();
    let mut with_toml: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_slice())).collect();
    with_toml.push(("campaign.toml", CAMPAIGN.as_bytes()));
    let root = rig.stick("rules", &with_toml);
    let manifest = root.join("o4send/bundle.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    assert!(
        text.contains("cap_total = 12") && text.contains("ab_test = \"flyer\""),
        "{text}"
    );

    // Raising the cap on the stick without the key: refused, nothing changes.
    let before = rig.snapshot();
    std::fs::write(
        &manifest,
        text.replace("cap_total = 12", "cap_total = 12000"),
    )
    .unwrap();
    let out = rig.import(&root);
    assert!(!out.status.success());
    assert_eq!(rig.snapshot(), before);

    std::fs::write(&manifest, &text).unwrap();
    common::stick::ok(rig.cmd(&["import"]).arg(&root));
    let installed = content::load(&rig.data.join("content"), 1 << 20).unwrap();
    assert_eq!(installed.items[0].rules.cap_total, Some(12));
    assert_eq!(
        installed.items[3]
            .rules
            .after
            .as_ref()
            .unwrap()
            .delay_minutes,
        5
    );
    assert!(!installed.names.admits(Some("DESKTOP-7Q2K9LM")));
}

#[test]
fn status_names_the_rules_and_a_capped_item() {
    let dir = tempfile::tempdir().unwrap();
    let content_dir = dir.path().join("campaign");
    std::fs::create_dir(&content_dir).unwrap();
    folder(&content_dir, CAMPAIGN);
    let db = dir.path().join("demo.db");
    let out = o4send(&[
        "demo",
        "--phones",
        "300",
        "--campaign",
        content_dir.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = dir.path().join("o4send.toml");
    let toml = format!(
        "[appliance]\nname = \"stand\"\ndata_dir = {:?}\ncontent_dir = {:?}\n",
        dir.path(),
        content_dir
    );
    std::fs::write(&config, toml).unwrap();
    let out = o4send(&[
        "status",
        "--config",
        config.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("rule: all items: names not [TV]* or desktop-*"),
        "{text}"
    );
    assert!(
        text.contains("rule: short.pdf: variant of A/B test \"flyer\""),
        "{text}"
    );
    assert!(
        text.lines().any(
            |l| l.starts_with("cap: voucher.pdf: accepted 12 of 12 in total")
                && l.ends_with(": capped")
        ),
        "{text}"
    );
    let out = o4send(&[
        "status",
        "--json",
        "--config",
        config.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        json["rules"].as_array().is_some_and(|r| r.len() >= 5),
        "{json}"
    );
}
