//! Acceptance (issue 13, item 7): the dashboard in a real browser. `o4send run` on simulated
//! phones and `o4send dashboard` run as their own processes; headless Chromium (Debian's, over
//! the DevTools protocol) is refused without a login, logs in, checks the figures against SQL on
//! the same log, sees a push appear within 5 s, denies a phone from the list of recent devices,
//! uploads a campaign that a simulated phone then receives byte for byte, downloads the CSV,
//! shows the hostile device names as text, and has a forged cross-site POST refused. It saves
//! screenshots at phone and laptop widths and the day's report printed to PDF under
//! `target/screenshots/` (for review; nothing is compared by pixels): every page of the
//! navigation and the login page at a laptop's width, each taken after the page was checked.

mod common;

use common::appliance::{Appliance, NAME, PASSWORD};
use common::browser::{Browser, Page};
use serde_json::json;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Duration;

fn shots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The figure boxes of the page, by name.
fn figure(page: &mut Page, name: &str) -> i64 {
    let js = format!(
        "[...document.querySelectorAll('.figure')].find(f => f.querySelector('span').innerText === {:?}).querySelector('b').innerText",
        name
    );
    let text = page.eval(&js);
    text.as_str()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("{name}: {text}"))
}

/// Phones counted the way the definitions on the page say, straight from the log.
fn sql_figures(app: &Appliance) -> [i64; 4] {
    let day = "(SELECT CAST(strftime('%s', 'now', 'start of day') AS INTEGER) * 1000)";
    [
        format!("SELECT COUNT(DISTINCT device_id) FROM sightings WHERE last_seen >= {day}"),
        format!("SELECT COUNT(DISTINCT device_id) FROM attempts WHERE ended_at >= {day} AND outcome IN ('accepted','declined','ignored','unsupported_type')"),
        format!("SELECT COUNT(DISTINCT device_id) FROM attempts WHERE ended_at >= {day} AND outcome = 'accepted'"),
        format!("SELECT COUNT(*) FROM attempts WHERE ended_at >= {day}"),
    ]
    .map(|sql| app.count(&sql))
}

#[test]
fn the_operator_works_the_dashboard_in_a_real_browser() {
    let Some(mut browser) = Browser::start() else {
        return; // outside CI without chromium: skipped, and said so on stderr
    };
    let app = Appliance::start(40, 40);
    let page = browser.page();
    page.set_timeout(Duration::from_secs(40));

    // Refused without login: every page leads to the login form, the data too.
    page.goto(&app.url("/"));
    assert!(page.url().ends_with("/login"), "{}", page.url());
    let csv = page.fetch(&app.url("/export.csv?from=2026-01-01&to=2026-12-31&rows=attempts"));
    assert!(
        !csv.content_type.contains("csv") && !csv.body.contains("phone"),
        "{}",
        csv.body
    );
    // The login page, at a laptop's width (kept until the overview's phone and laptop widths).
    page.set_viewport(1280, 800, false);
    assert_eq!(
        page.eval("document.querySelector('h1').innerText"),
        json!("o4send dashboard")
    );
    assert_eq!(
        page.eval(
            "document.querySelectorAll('form[action=\"/login\"] input[name=password]').length"
        ),
        json!(1)
    );
    page.screenshot(&shots().join("dashboard-login.png"));

    // Log in.
    page.fill("input[name=password]", PASSWORD);
    page.submit("form");
    assert!(page.url().ends_with('/'), "{}", page.url());
    app.wait_until("a first push ends", || {
        app.count("SELECT COUNT(*) FROM attempts") > 0
    });

    // The figures against SQL on the same log (the daemon goes on meanwhile: the page lies
    // between the log before and after it was read).
    let before = sql_figures(&app);
    page.goto(&app.url("/"));
    let shown = ["Seen", "Offered", "Accepted", "Attempts"].map(|n| figure(page, n));
    let after = sql_figures(&app);
    for i in 0..4 {
        assert!(
            before[i] <= shown[i] && shown[i] <= after[i],
            "figure {i}: SQL {} ≤ page {} ≤ SQL {}",
            before[i],
            shown[i],
            after[i]
        );
    }
    let text = page.text();
    assert!(text.contains(NAME), "the appliance's name as text:\n{text}");
    for words in [
        "Working",
        "Radios",
        "sim0",
        "Campaign",
        "What the figures mean",
        "The status LED",
    ] {
        assert!(text.contains(words), "{words} missing:\n{text}");
    }
    assert!(
        page.eval("document.querySelectorAll('figure svg').length")
            .as_u64()
            .unwrap()
            >= 8
    );

    // A push that ends shows within 5 s, without touching the page.
    let n = app.count("SELECT COUNT(*) FROM attempts");
    app.wait_until("another push ends", || {
        app.count("SELECT COUNT(*) FROM attempts") > n
    });
    let ended = std::time::Instant::now();
    let js = "[...document.querySelectorAll('.figure')].find(f => f.querySelector('span').innerText === 'Attempts').querySelector('b').innerText";
    page.wait_until(&format!("Number({js}) > {n}"), Duration::from_secs(5));
    eprintln!(
        "the page showed the push {:?} after it reached the log",
        ended.elapsed()
    );

    for (w, h, mobile, name) in [(390, 844, true, "phone"), (1280, 800, false, "laptop")] {
        page.set_viewport(w, h, mobile);
        page.goto(&app.url("/"));
        page.screenshot(&shots().join(format!("dashboard-overview-{name}.png")));
        // The charts' text as drawn (its size times the SVG's scale): readable on a phone too,
        // and every chart inside the page's width.
        let smallest = page.eval(
            "Math.min(...[...document.querySelectorAll('figure svg text')].map(t => \
             parseFloat(getComputedStyle(t).fontSize) * t.ownerSVGElement.getScreenCTM().a))",
        );
        let smallest = smallest.as_f64().unwrap();
        assert!(smallest >= 11.0, "{name}: chart text {smallest} px");
        let widest = page.eval(
            "Math.max(...[...document.querySelectorAll('figure svg')].map(s => s.getBoundingClientRect().right))",
        );
        assert!(
            widest.as_f64().unwrap() <= w as f64,
            "{name}: a chart ends at {widest}"
        );
        let cut = page.eval(
            "[...document.querySelectorAll('figure svg text')].filter(t => { const b = t.getBBox(); \
             return b.x < 0 || b.x + b.width > t.ownerSVGElement.viewBox.baseVal.width + 0.5; }) \
             .map(t => t.textContent.trim())",
        );
        assert_eq!(cut, json!([]), "{name}: chart labels cut at an edge");
    }

    // Deny a phone from the list of recent devices; its hostile names show as text.
    app.wait_until("a phone named with markup is heard", || {
        app.count("SELECT COUNT(*) FROM devices WHERE name LIKE '%<script>%'") > 0
    });
    page.goto(&app.url("/phones"));
    let first = page.eval("document.querySelector('table.recent tr:nth-child(2) code').innerText");
    let phone = first.as_str().unwrap().to_string();
    page.click("table.recent tr:nth-child(2) button[value=deny]");
    assert!(page.text().contains("Done: "), "{}", page.text());
    let deny_at = jiff::Timestamp::now().as_millisecond();
    let hostile: String = app
        .db()
        .query_row(
            "SELECT name FROM devices WHERE name LIKE '%<script>%' LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let names = page.eval("[...document.querySelectorAll('td.name')].map(td => td.innerText)");
    assert!(
        names
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == &json!(hostile)),
        "{hostile:?} not shown as text in {names}"
    );
    assert_eq!(
        page.eval("document.querySelectorAll('main script, td.name b').length"),
        json!(0)
    );
    page.screenshot(&shots().join("dashboard-phones.png"));

    // Upload a campaign with an A/B test of two maps and a cap; a simulated phone receives
    // its map byte for byte.
    let map: Vec<u8> = (0..30_000u32).map(|i| (i * 13 % 253) as u8).collect();
    let file = app.data().join("hall-map.bin");
    std::fs::write(&file, &map).unwrap();
    let other = app.data().join("hall-map-big.bin");
    std::fs::write(&other, &map[..20_000]).unwrap();
    page.goto(&app.url("/campaign"));
    page.fill("input[name=name]", "Winter fair");
    page.fill("input[name=sender_name]", "Booth 7");
    page.fill(
        "textarea[name=rules]",
        "[[items]]\nfile = \"hall-map.bin\"\nab_test = \"map\"\ncap_total = 500\n\n\
         [[items]]\nfile = \"hall-map-big.bin\"\nab_test = \"map\"\n",
    );
    let doc = page.call("DOM.getDocument", json!({}));
    let node = page.call(
        "DOM.querySelector",
        json!({"nodeId": doc["root"]["nodeId"], "selector": "input[type=file]"}),
    );
    page.call(
        "DOM.setFileInputFiles",
        json!({"nodeId": node["nodeId"], "files": [file, other]}),
    );
    page.submit("form[enctype='multipart/form-data']");
    let text = page.text();
    assert!(
        text.contains("Done: installed campaign \"Winter fair\""),
        "{text}"
    );
    app.wait_until("the campaign page shows the rules", || {
        page.goto(&app.url("/campaign"));
        page.text()
            .contains("hall-map.bin: at most 500 accepted in total; variant of A/B test \"map\"")
    });
    page.screenshot(&shots().join("dashboard-campaign.png"));
    app.wait_until("a phone receives the uploaded map", || {
        !app.phones_holding("hall-map.bin").is_empty()
    });
    for (addr, got) in app.phones_holding("hall-map.bin") {
        assert!(got == map, "{addr} received other bytes");
        assert_ne!(addr, phone, "the denied phone got the new campaign");
    }
    let late = app.count(&format!(
        "SELECT COUNT(*) FROM attempts a JOIN devices d ON d.id = a.device_id WHERE d.addr = '{phone}' AND a.started_at > {}",
        deny_at + 1000
    ));
    assert_eq!(late, 0, "the daemon pushed to the denied phone");

    // The CSV download, against SQL.
    page.goto(&app.url("/export"));
    assert_eq!(
        page.eval("document.querySelector('h1').innerText"),
        json!("Export")
    );
    assert_eq!(
        page.eval(
            "document.querySelectorAll('form[action=\"/export.csv\"] input[type=date]').length"
        ),
        json!(2)
    );
    page.screenshot(&shots().join("dashboard-export.png"));
    let today = page.eval("new Date().toISOString().slice(0, 10)");
    let today = today.as_str().unwrap();
    let got = page.fetch(&app.url(&format!(
        "/export.csv?from={today}&to={today}&rows=attempts"
    )));
    assert!(
        got.content_type.starts_with("text/csv") && got.content_disposition.contains("attachment"),
        "{got:?}"
    );
    let rows = got.body.lines().count() as i64 - 1;
    let in_log = app.count("SELECT COUNT(*) FROM attempts");
    assert!(
        rows <= in_log && rows >= in_log - 8,
        "{rows} CSV rows, {in_log} attempts in the log"
    );

    // The day's report, printed to PDF.
    page.goto(&app.url("/report"));
    let report = page.text();
    assert!(report.contains("The day at"), "{report}");
    assert!(
        report.contains("A/B tests") && report.contains("Test \"map\""),
        "{report}"
    );
    assert!(report.contains("The campaign's rules"), "{report}");
    page.screenshot(&shots().join("dashboard-report.png"));
    page.pdf(&shots().join("dashboard-report.pdf"));

    // The stand's poster: an SVG document, drawn by the browser.
    page.goto(&app.url("/poster.svg"));
    assert_eq!(
        page.eval("document.documentElement.localName"),
        json!("svg")
    );
    let poster = page.eval("document.documentElement.textContent");
    assert!(
        poster.as_str().unwrap().contains("Android: by Bluetooth"),
        "{poster}"
    );
    page.screenshot(&shots().join("dashboard-poster.png"));

    // The system page: this test's box has no update slots, so the upload form shows.
    page.goto(&app.url("/system"));
    assert_eq!(
        page.eval("document.querySelector('h1').innerText"),
        json!("System")
    );
    let text = page.text();
    assert!(
        text.contains("This box: ") && text.contains("Install a system update"),
        "{text}"
    );
    assert_eq!(
        page.eval(
            "document.querySelectorAll('form[action=\"/system/upload\"] input[type=file]').length"
        ),
        json!(1)
    );
    page.screenshot(&shots().join("dashboard-system.png"));

    // A forged cross-site POST: the browser, logged in, submits another site's form.
    let events = app.count("SELECT COUNT(*) FROM events WHERE kind = 'dashboard'");
    let evil = evil_site(&app.url("/phones"), &phone);
    page.goto(&evil);
    page.submit("form");
    let refused = page.text();
    assert!(refused.starts_with("refused"), "{refused}");
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM events WHERE kind = 'dashboard'"),
        events,
        "the forged POST changed something"
    );
    assert!(
        page.dialogs().is_empty(),
        "a device name ran as script: {:?}",
        page.dialogs()
    );
}

/// Another origin (its own port) serving a form that POSTs to the dashboard; its address.
fn evil_site(target: &str, phone: &str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://localhost:{}/",
        listener.local_addr().unwrap().port()
    );
    let page = format!(
        "<!doctype html><form method=post action=\"{target}\"><input name=csrf value=guess>\
         <input name=phone value=\"{phone}\"><input name=action value=allow></form>"
    );
    std::thread::spawn(move || {
        for stream in listener.incoming().take(4) {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}", page.len());
        }
    });
    url
}

/// Issue 27, item 4: a box set up without any password, in a real browser: the login page is the
/// first visit's, asks for the code from the box's screen, and with it and the password twice
/// logs in. Screenshot `dashboard-first-visit.png` (docs/dashboard.md).
#[test]
fn the_first_visit_chooses_the_password_in_a_real_browser() {
    let Some(mut browser) = Browser::start() else {
        return; // outside CI without chromium: skipped, and said so on stderr
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let demo = std::process::Command::new(env!("CARGO_BIN_EXE_o4send"))
        .args(["demo", "--phones", "20", "--db", db.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(demo.status.success());
    let port = common::appliance::free_port();
    let config = dir.path().join("o4send.toml");
    std::fs::write(
        &config,
        format!(
            "[appliance]\nname = \"Booth 7\"\ndb = \"{}\"\ndata_dir = \"{}\"\n[dashboard]\n\
             address = \"127.0.0.1\"\nport = {}\nhttp_port = {port}\nhttp = \"serve\"\n",
            db.display(),
            dir.path().display(),
            common::appliance::free_port()
        ),
    )
    .unwrap();
    let mut dashboard = std::process::Command::new(env!("CARGO_BIN_EXE_o4send"))
        .args(["dashboard", "--config", config.to_str().unwrap()])
        .spawn()
        .unwrap();
    let url = |path: &str| format!("http://127.0.0.1:{port}{path}");
    let until = std::time::Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < until,
            "the dashboard did not listen"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let code = std::fs::read_to_string(dir.path().join("dashboard-first-visit")).unwrap();
    let page = browser.page();
    page.set_viewport(1280, 800, false);
    page.goto(&url("/"));
    assert!(page.url().ends_with("/login"), "{}", page.url());
    assert_eq!(
        page.eval("document.querySelector('h1').innerText"),
        json!("o4send dashboard: choose its password")
    );
    assert_eq!(
        page.eval("document.querySelectorAll('input[name=code]').length"),
        json!(1)
    );
    page.screenshot(&shots().join("dashboard-first-visit.png"));
    page.fill(
        "input[name=code]",
        &format!("{} {}", &code[..4], &code[4..]),
    );
    page.fill("input[name=password]", "booth seven pw");
    page.fill("input[name=again]", "booth seven pw");
    page.submit("form");
    assert!(page.url().ends_with('/'), "{}", page.url());
    assert!(dir.path().join("dashboard-password").exists());
    let _ = dashboard.kill();
    let _ = dashboard.wait();
}
