//! The fleet's day's report (`o4send report --mysql URL --fleet NAME`) against a real MariaDB
//! (tests/common/mariadb.rs): three appliances with overlapping phones sync their demo logs, and
//! the report's figures are checked against each appliance's own report and against SQL over
//! the fleet database; the page escapes a hostile appliance name and stands alone; every
//! failure is one line naming its cause.

mod common;

use common::mariadb::{MariaDb, PASSWORD};
use o4send::report::{self, fleet, LocalDay};
use o4send::store::Reader;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

const SECRET: &str = "fleet-secret-for-report-tests";
const HOSTILE: &str = "<script>alert(1)</script> & Co";

/// Appliance `name`'s config in fleet "expo", syncing to `url`, written to `file`.
fn config(dir: &Path, file: &str, name: &str, url: &str) -> PathBuf {
    let path = dir.join(file);
    let text = format!(
        "[appliance]\nname = {name:?}\ndata_dir = \"{}\"\n\
         [radio]\nbackend = \"sim\"\n\
         [[radio.adapters]]\nid = \"sim0\"\nrole = \"scan\"\nslots = 1\n\
         [[radio.adapters]]\nid = \"sim1\"\nrole = \"push\"\nslots = 7\n\
         [policy]\nclasses = [\"phone\", \"computer\"]\n\
         [sync]\nmysql_url = \"{url}\"\nfleet = \"expo\"\nsecret = \"{SECRET}\"\n",
        dir.display()
    );
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

fn ok(args: &[&str]) -> String {
    let out = common::cli::o4send(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One appliance's log: a demo of `phones` phones, synced. The same seed gives the same phones:
/// the first `phones` of that seed's hall.
struct Booth {
    name: &'static str,
    log: PathBuf,
}

fn booth(dir: &Path, db: &MariaDb, name: &'static str, phones: u32, seed: u32) -> Booth {
    let stem: String = name.chars().filter(char::is_ascii_alphanumeric).collect();
    let cfg = config(dir, &format!("{stem}.toml"), name, &db.url());
    let log = dir.join(format!("{stem}.db"));
    let (cfg_s, log_s) = (cfg.to_str().unwrap(), log.to_str().unwrap());
    let (phones, seed) = (phones.to_string(), seed.to_string());
    ok(&[
        "demo", "--config", cfg_s, "--db", log_s, "--phones", &phones, "--seed", &seed,
    ]);
    hotspot_visits(&log, &stem);
    ok(&["sync", "--once", "--config", cfg_s, "--db", log_s]);
    Booth { name, log }
}

/// Two phones on the booth's captive page at its first attempt: one that every booth sees (the
/// same Wi-Fi address) and one of its own, as the daemon writes them from the visit spool.
fn hotspot_visits(log: &Path, stem: &str) {
    let conn = rusqlite::Connection::open(log).unwrap();
    let at: i64 = conn
        .query_row("SELECT min(ended_at) FROM attempts", [], |r| r.get(0))
        .unwrap();
    for (i, (visitor, kind)) in [
        ("3A:5F:01:22:9B:C4".to_string(), "visit"),
        ("3A:5F:01:22:9B:C4".to_string(), "download"),
        (format!("ip:{stem}"), "visit"),
    ]
    .into_iter()
    .enumerate()
    {
        conn.execute(
            "INSERT INTO wifi_events(event_id, at, visitor, kind, item, bytes, boot_id, clock_synced)
             VALUES (?1, ?2, ?3, ?4, NULL, 0, 'boot', 1)",
            rusqlite::params![format!("{stem}-{i}"), at, visitor, kind],
        )
        .unwrap();
    }
}

/// The UTC day of the first attempt of `log`.
fn first_day(log: &Path) -> String {
    let conn = rusqlite::Connection::open(log).unwrap();
    let first: i64 = conn
        .query_row("SELECT min(ended_at) FROM attempts", [], |r| r.get(0))
        .unwrap();
    jiff::Timestamp::from_millisecond(first)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .to_string()
}

fn fleet_report(db: &MariaDb, date: &str) -> report::FleetReport {
    let day = LocalDay::new(Some(date), "UTC").unwrap();
    let url = db.url();
    let source = fleet::Source {
        url: &url,
        password: None,
        fleet: "expo",
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(fleet::day(&source, &day, None)).unwrap()
}

/// A count over the fleet's rows of the day.
fn sql(db: &MariaDb, day: &LocalDay, query: &str) -> u64 {
    let q = query
        .replace("FROM_MS", &day.from_ms().to_string())
        .replace("TO_MS", &day.to_ms().to_string());
    db.count(&q) as u64
}

#[test]
fn fleet_figures_are_each_log_and_the_union_of_phones() {
    let Some(db) = MariaDb::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let booths = [
        booth(dir.path(), &db, "booth-a", 100, 7),
        booth(dir.path(), &db, "booth-b", 160, 7),
        booth(dir.path(), &db, HOSTILE, 60, 11),
    ];
    let date = first_day(&booths[0].log);
    let day = LocalDay::new(Some(&date), "UTC").unwrap();
    let r = fleet_report(&db, &date);

    // Each appliance: exactly its own log's report.
    let mut names: Vec<&str> = booths.iter().map(|b| b.name).collect();
    names.sort();
    let shown: Vec<&str> = r.appliances.iter().map(|a| a.appliance.as_str()).collect();
    assert_eq!(shown, names);
    for b in &booths {
        let own = report::day(&Reader::open(&b.log).unwrap(), b.name, &day, None).unwrap();
        let here = r.appliances.iter().find(|a| a.appliance == b.name).unwrap();
        assert_eq!(here.figures, own.figures, "{}", b.name);
        assert_eq!(here.hotspot, own.hotspot, "{}", b.name);
        assert_eq!(own.hotspot.visitors, 2, "{}", b.name);
        assert!(
            own.figures.seen > 0 && own.figures.offered > 0,
            "{}",
            b.name
        );
    }

    // Together: distinct phones across appliances, checked against SQL.
    let f = &r.together.figures;
    let seen_sum: u64 = r.appliances.iter().map(|a| a.figures.seen).sum();
    let seen_max = r.appliances.iter().map(|a| a.figures.seen).max().unwrap();
    eprintln!(
        "fleet {date}: seen {} (appliances {:?}, sum {seen_sum}), offered {}, accepted {}",
        f.seen,
        r.appliances
            .iter()
            .map(|a| a.figures.seen)
            .collect::<Vec<_>>(),
        f.offered,
        f.accepted
    );
    let in_day = "fleet = 'expo' AND last_seen_ms >= FROM_MS AND first_seen_ms < TO_MS";
    let ended = "fleet = 'expo' AND ended_ms >= FROM_MS AND ended_ms < TO_MS";
    let asked = "outcome IN ('accepted','declined','ignored','unsupported_type')";
    assert_eq!(
        f.seen,
        sql(
            &db,
            &day,
            &format!("SELECT count(DISTINCT phone) FROM sightings WHERE {in_day}")
        )
    );
    assert!(
        f.seen < seen_sum && f.seen > seen_max,
        "the union, not the sum"
    );
    for (figure, filter) in [
        (f.offered, asked),
        (f.accepted, "outcome = 'accepted'"),
        (f.declined, "outcome = 'declined'"),
        (f.ignored, "outcome = 'ignored'"),
    ] {
        let q = format!("SELECT count(DISTINCT phone) FROM attempts WHERE {ended} AND {filter}");
        assert_eq!(figure, sql(&db, &day, &q), "{filter}");
    }
    let attempts = sql(
        &db,
        &day,
        &format!("SELECT count(*) FROM attempts WHERE {ended}"),
    );
    assert_eq!(f.outcomes.values().sum::<u64>(), attempts);
    let each: u64 = r
        .appliances
        .iter()
        .map(|a| a.figures.outcomes.values().sum::<u64>())
        .sum();
    assert_eq!(each, attempts, "attempts are summed");
    assert_eq!(f.passers_by + f.visitors, f.seen);
    // The hotspot: the address every booth saw counts once for the fleet.
    let h = &r.together.hotspot;
    assert_eq!((h.visitors, h.visits, h.downloads), (4, 6, 3), "{h:?}");
    assert_eq!(f.dwell.iter().sum::<u64>(), f.seen);
    assert_eq!(f.per_radio.len(), 3, "one bar per appliance's push radio");
    assert!(f
        .per_radio
        .iter()
        .any(|s| s.name == format!("{HOSTILE} / sim1")));
}

#[test]
fn the_fleet_page_escapes_and_stands_alone() {
    let Some(db) = MariaDb::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let a = booth(dir.path(), &db, "booth-a", 40, 7);
    booth(dir.path(), &db, HOSTILE, 30, 7);
    let date = first_day(&a.log);
    let html = dir.path().join("fleet.html");
    let url = db.url();
    // The campaign folder the marketer made the stick from: its A/B test over the demo's two
    // items shows for the fleet together and for each booth, its rules once.
    let campaign = dir.path().join("campaign");
    std::fs::create_dir(&campaign).unwrap();
    let toml = "name = \"Expo\"\n[[items]]\nfile = \"o4send-expo.html\"\nab_test = \"demo\"\n\
                [[items]]\nfile = \"o4send.vcf\"\nab_test = \"demo\"\n";
    std::fs::write(campaign.join("campaign.toml"), toml).unwrap();
    std::fs::write(campaign.join("o4send-expo.html"), "<p>expo</p>").unwrap();
    std::fs::write(campaign.join("o4send.vcf"), "BEGIN:VCARD").unwrap();
    let out = ok(&[
        "report",
        "--mysql",
        &url,
        "--fleet",
        "expo",
        "--date",
        &date,
        "--html",
        html.to_str().unwrap(),
        "--campaign",
        campaign.to_str().unwrap(),
    ]);
    assert!(out.contains("fleet expo, 2 appliances — seen "), "{out}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"));
    assert!(!page.contains("<script>"), "the appliance name is escaped");
    for outside in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(
            !page.contains(outside),
            "the page must stand alone: {outside}"
        );
    }
    assert_eq!(page.matches("What the figures mean").count(), 1);
    assert_eq!(page.matches("<section class=\"part\">").count(), 3);
    assert!(page.find("Fleet together").unwrap() < page.find("booth-a").unwrap());
    assert!(page.matches("<svg").count() >= 3 * 8, "every chart, inline");
    assert!(page.contains("@media print"));
    assert_eq!(
        page.matches("Test &quot;demo&quot;").count(),
        3,
        "the A/B test, together and per booth"
    );
    assert_eq!(page.matches("The campaign's rules").count(), 1);
}

/// The one line a failing command printed, checked to name no password.
fn one_line_error(out: &Output) -> String {
    assert!(!out.status.success(), "expected a failure");
    let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert_eq!(err.lines().count(), 1, "not one line: {err}");
    assert!(!err.contains(PASSWORD), "the password leaked: {err}");
    err
}

fn fleet_cli(url: &str, fleet: &str, date: &str, html: &Path) -> Output {
    common::cli::o4send(&[
        "report",
        "--mysql",
        url,
        "--fleet",
        fleet,
        "--date",
        date,
        "--html",
        html.to_str().unwrap(),
    ])
}

#[test]
fn fleet_report_failures_are_one_line() {
    let Some(db) = MariaDb::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("fleet.html");
    let url = db.url();
    let err = one_line_error(&fleet_cli(&url, "expo", "2026-11-29", &html));
    assert!(err.contains("holds no o4send fleet database"), "{err}");

    let a = booth(dir.path(), &db, "booth-a", 20, 7);
    let date = first_day(&a.log);
    let err = one_line_error(&fleet_cli("postgres://u:x@h/db", "expo", &date, &html));
    assert!(err.contains("is not a usable MySQL URL"), "{err}");
    let closed = format!("mysql://o4send:{PASSWORD}@127.0.0.1:1/o4send");
    let err = one_line_error(&fleet_cli(&closed, "expo", &date, &html));
    assert!(
        err.contains("cannot connect to mysql://o4send:***@127.0.0.1:1/o4send"),
        "{err}"
    );
    let err = one_line_error(&fleet_cli(&url, "no-such-fleet", &date, &html));
    assert!(
        err.contains("fleet \"no-such-fleet\" is not in") && err.contains("its fleets: expo"),
        "{err}"
    );
    let err = one_line_error(&fleet_cli(&url, "expo", "2001-01-01", &html));
    assert!(
        err.contains("fleet \"expo\" has no visits or attempts on 2001-01-01 (UTC)"),
        "{err}"
    );
    assert!(!html.exists(), "no page is written on failure");
}
