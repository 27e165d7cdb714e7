//! Acceptance: `o4send demo --phones 200 --seed 7` ends with a log that matches the simulated
//! hall's ground truth exactly. The expected outcome of each phone is derived here from its
//! behaviour and the demo's rules, independently of the policy code; the log is read with SQL.

use o4send::config::Config;
use o4send::demo::{demo_config, run, DemoOptions, DEMO_MIN_RSSI};
use o4send::model::device::{BdAddr, MajorClass};
use o4send::radio::sim::{Behaviour, Phone};
use rusqlite::Connection;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// Outcomes of one phone's attempts, in order.
type Log = BTreeMap<String, Vec<(String, String)>>;

fn read_log(db: &Path) -> Log {
    let conn = Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT d.addr, a.item_name, a.outcome FROM attempts a JOIN devices d ON d.id = a.device_id ORDER BY a.id")
        .unwrap();
    let mut log = Log::new();
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .unwrap();
    for row in rows {
        let (addr, item, outcome) = row.unwrap();
        log.entry(addr).or_default().push((item, outcome));
    }
    log
}

/// What must have happened to this phone: `None` = never contacted.
fn expected(p: &Phone, cfg: &Config) -> Option<Vec<&'static str>> {
    let allowed = cfg.policy.allow.contains(&p.addr);
    let class_ok = cfg.policy.classes.contains(&p.class.major());
    if cfg.policy.deny.contains(&p.addr) || (!allowed && (!class_ok || p.rssi < DEMO_MIN_RSSI)) {
        return None;
    }
    let retries = cfg.policy.retry_limit as usize;
    Some(match p.behaviour {
        Behaviour::Accept { .. } | Behaviour::SlowLink { .. } => vec!["accepted"],
        Behaviour::Decline { .. } | Behaviour::RefuseConnection => vec!["declined"],
        Behaviour::Ignore | Behaviour::PromptExpires => vec!["ignored"],
        Behaviour::NoOpp => vec!["no_opp"],
        Behaviour::DropMidTransfer { .. } => vec!["failed", "accepted"],
        Behaviour::RefuseType => vec!["unsupported_type"],
        Behaviour::OutOfRange => vec!["unreachable"; retries + 1],
    })
}

fn item_for(p: &Phone) -> &'static str {
    if p.class.major() == MajorClass::Computer {
        "o4send.vcf"
    } else {
        "o4send-expo.html"
    }
}

fn check_against_truth(log: &Log, phones: &[Phone], cfg: &Config) {
    let mut checked = 0;
    for p in phones {
        let got = log.get(&p.addr.to_string()).cloned().unwrap_or_default();
        let outcomes: Vec<&str> = got.iter().map(|(_, o)| o.as_str()).collect();
        match expected(p, cfg) {
            None => assert!(
                got.is_empty(),
                "phone {} ({:?}) must not be contacted: {got:?}",
                p.index,
                p.behaviour
            ),
            Some(_) if cfg.policy.allow.contains(&p.addr) => {
                assert!(
                    outcomes.len() >= 2,
                    "allow-listed phone {} must be re-asked: {outcomes:?}",
                    p.index
                );
                assert!(outcomes.iter().all(|o| *o == "accepted"), "{outcomes:?}");
            }
            Some(want) => {
                assert_eq!(
                    outcomes,
                    want,
                    "phone {} {:?} rssi {} class {:?}",
                    p.index,
                    p.behaviour,
                    p.rssi,
                    p.class.major()
                );
                assert!(
                    got.iter().all(|(item, _)| item == item_for(p)),
                    "phone {} got {got:?}",
                    p.index
                );
            }
        }
        checked += 1;
    }
    assert_eq!(checked, phones.len());
    assert_eq!(
        log.len(),
        phones.iter().filter(|p| expected(p, cfg).is_some()).count(),
        "attempts only for expected phones"
    );
}

/// No phone was asked twice for the same item after it answered (the allow list aside).
fn check_asked_once(log: &Log, allow: &[BdAddr]) {
    for (addr, attempts) in log {
        if allow.iter().any(|a| a.to_string() == *addr) {
            continue;
        }
        let answers = attempts
            .iter()
            .filter(|(_, o)| !matches!(o.as_str(), "failed" | "unreachable"))
            .count();
        assert!(
            answers <= 1,
            "{addr} answered {answers} times: {attempts:?}"
        );
    }
}

#[test]
fn demo_log_matches_the_simulated_hall() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let cfg = demo_config(200, 7);
    let report = run(DemoOptions {
        cfg: cfg.clone(),
        db: db.clone(),
        live: false,
        campaign: None,
    })
    .unwrap();
    let phones = report.world.phones();
    assert!(!cfg.policy.allow.is_empty() && cfg.policy.deny.len() == 2);
    let log = read_log(&db);
    check_against_truth(&log, phones, &cfg);
    check_asked_once(&log, &cfg.policy.allow);
    for p in phones {
        if cfg.policy.deny.contains(&p.addr) {
            assert_eq!(
                report.world.connects(p.index),
                0,
                "deny-listed phone {} was paged",
                p.index
            );
        }
        let expect = expected(p, &cfg);
        let received = report.world.received(p.index);
        if expect
            .as_deref()
            .is_some_and(|e| e.last() == Some(&"accepted"))
        {
            let item = o4send::content::demo_campaign()
                .items
                .iter()
                .find(|i| i.name == item_for(p))
                .unwrap()
                .clone();
            assert!(
                !received.is_empty(),
                "phone {} accepted but holds nothing",
                p.index
            );
            for (name, body) in received {
                assert_eq!(
                    (name.as_str(), body.as_slice()),
                    (item.name.as_str(), item.body.as_slice())
                );
            }
        } else {
            assert!(
                received.is_empty(),
                "phone {} ({:?}) holds a file",
                p.index,
                p.behaviour
            );
        }
    }
    // The behaviour mix is wide enough to exercise every rule.
    let kinds: std::collections::HashSet<_> = phones.iter().map(|p| p.behaviour.name()).collect();
    assert_eq!(kinds.len(), 10);
}

#[test]
fn the_demo_command_writes_the_same_truth() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let out = Command::new(env!("CARGO_BIN_EXE_o4send"))
        .args(["demo", "--phones", "200", "--seed", "7", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("accepted") && stdout.contains("phone behaviour"),
        "{stdout}"
    );
    let cfg = demo_config(200, 7);
    let phones = o4send::radio::sim::generate(&cfg.radio.sim);
    let log = read_log(&db);
    check_against_truth(&log, &phones, &cfg);
    check_asked_once(&log, &cfg.policy.allow);

    // A second demo on the same log asks nobody again (the allow list aside).
    let again = Command::new(env!("CARGO_BIN_EXE_o4send"))
        .args(["demo", "--phones", "200", "--seed", "7", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(again.status.success());
    let after = read_log(&db);
    for (addr, attempts) in &after {
        if !cfg.policy.allow.iter().any(|a| a.to_string() == *addr) {
            let before = log.get(addr).map(Vec::len).unwrap_or(0);
            assert_eq!(
                attempts.len(),
                before,
                "{addr} was asked again on the second day: {attempts:?}"
            );
        }
    }
}
