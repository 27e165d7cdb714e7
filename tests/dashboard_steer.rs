//! Acceptance (issue 13): steering the appliance from the dashboard over plain HTTP, against
//! the real daemon on simulated phones and the real dashboard process — a deny-list edit the
//! daemon honours, a campaign upload a phone then receives byte for byte, a rollback, each an
//! event in the log naming the session; the CSV export against SQL; forged and hostile writes
//! refused; and the status LED (a stand-in sysfs folder) following the daemon and a refused
//! stick. The same flows in a real browser are in tests/dashboard_browser.rs.

mod common;

use common::appliance::{Appliance, PASSWORD};
use common::http::{login, multipart, request, send};
use std::time::Duration;

fn verdict(app: &Appliance, session: &str, reply: &common::http::Reply) -> String {
    assert_eq!(reply.status, 303, "{}", reply.body);
    let page = request(app.port, "GET", reply.location().unwrap(), session, "");
    let at = page
        .body
        .find("class=\"note\"")
        .unwrap_or_else(|| panic!("no verdict on {}", page.body));
    page.body[at..].split("</p>").next().unwrap().to_string()
}

#[test]
fn the_operator_steers_the_box_from_the_dashboard() {
    let app = Appliance::start(40, 30);
    let port = app.port;
    let (session, csrf) = login(port, PASSWORD);
    app.wait_until("a first push ends", || {
        app.count("SELECT COUNT(*) FROM attempts") > 0
    });

    // Forged and hostile writes change nothing.
    let phone = app
        .db()
        .query_row(
            "SELECT addr FROM devices ORDER BY last_seen DESC LIMIT 1",
            [],
            |r| r.get::<_, String>(0),
        )
        .unwrap();
    let form = format!("csrf=forged&phone={phone}&action=deny");
    assert_eq!(
        request(port, "POST", "/phones", &session, &form).status,
        403
    );
    assert_eq!(request(port, "POST", "/phones", "", &form).status, 403);
    let (ct, body) = multipart(&[("name", "x"), ("csrf", &csrf)], &[("a.txt", b"a")]);
    assert_eq!(
        send(port, "POST", "/campaign", &session, &ct, &body).status,
        403,
        "the token must come first"
    );
    let (ct, body) = multipart(&[("csrf", &csrf), ("name", "x")], &[("../evil.txt", b"a")]);
    let evil = send(port, "POST", "/campaign", &session, &ct, &body);
    assert_eq!(evil.status, 400, "{}", evil.body);
    assert!(evil.body.contains("plain file name"), "{}", evil.body);
    let bad_phone = request(
        port,
        "POST",
        "/phones",
        &session,
        &format!("csrf={csrf}&phone=<b>&action=deny"),
    );
    assert_eq!(bad_phone.status, 400);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM events WHERE kind = 'dashboard'"),
        0
    );

    // Deny the phone heard last: the daemon honours it from its verdict on.
    let denied = request(
        port,
        "POST",
        "/phones",
        &session,
        &format!("csrf={csrf}&phone={phone}&action=deny"),
    );
    let line = verdict(&app, &session, &denied);
    assert!(
        line.contains("Done: ") && line.contains("deny list"),
        "{line}"
    );
    let deny_at = jiff::Timestamp::now().as_millisecond();
    app.wait_until("the phones page shows the phone on the deny list", || {
        let page = request(port, "GET", "/phones", &session, "").body;
        let deny = page.split("Deny list").nth(1).unwrap_or("");
        deny.split("Allow list")
            .next()
            .unwrap_or("")
            .contains(&phone)
    });

    // A campaign whose rules are broken is refused, in one line naming the key and the value.
    let map: Vec<u8> = (0..40_000u32).map(|i| (i * 7 % 251) as u8).collect();
    for (rules, why) in [
        (
            "[[items]]\nfile = \"map.bin\"\ncap_total = 0",
            "rules: items[0]: cap_total = 0",
        ),
        (
            "[[items]]\nfile = \"other.bin\"",
            "rules: file = \"other.bin\": no uploaded file",
        ),
        (
            "name_include = [\"/(/\"]",
            "rules: name_include = \"/(/\": not a regular expression",
        ),
    ] {
        let (ct, body) = multipart(
            &[("csrf", &csrf), ("name", "x"), ("rules", rules)],
            &[("map.bin", &map)],
        );
        let refused = send(port, "POST", "/campaign", &session, &ct, &body);
        assert_eq!(refused.status, 400, "{}", refused.body);
        assert!(refused.body.contains(why), "{why}: {}", refused.body);
    }

    // Upload a campaign with rules: installed like a stick, then a phone receives the file byte
    // for byte, and the dashboard shows the rules and the cap.
    let rules = "name_exclude = [\"[TV]*\"]\n[[items]]\nfile = \"map.bin\"\ncap_total = 1\ncap_per_day = 900";
    let (ct, body) = multipart(
        &[
            ("csrf", &csrf),
            ("name", "Summer <fair>"),
            ("sender_name", "Booth 7"),
            ("start", ""),
            ("end", ""),
            ("hours", ""),
            ("rules", rules),
        ],
        &[("map.bin", &map)],
    );
    let line = verdict(
        &app,
        &session,
        &send(port, "POST", "/campaign", &session, &ct, &body),
    );
    assert!(line.contains("installed campaign"), "{line}");
    app.wait_until("a phone receives the uploaded file", || {
        !app.phones_holding("map.bin").is_empty()
    });
    for (addr, got) in app.phones_holding("map.bin") {
        assert_eq!(got, map, "{addr} received other bytes");
        assert_ne!(addr, phone, "the denied phone was pushed to");
    }
    app.wait_until("the overview shows the item capped", || {
        let page = request(port, "GET", "/", &session, "").body;
        page.contains("map.bin: at most 1 accepted in total; at most 900 accepted a day")
            && page.contains(
                "<b>Capped: </b>map.bin: accepted 1 of 1 in total, 1 of 900 today: capped",
            )
            && page.contains("all items: names not [TV]*")
    });
    let accepted =
        "SELECT count(*) FROM attempts WHERE item_name = 'map.bin' AND outcome = 'accepted'";
    assert_eq!(app.count(accepted), 1, "a cap of 1 lets one phone accept");
    let page = request(port, "GET", "/campaign", &session, "").body;
    assert!(
        page.contains("What each rule does"),
        "the campaign page explains the rules"
    );
    let after_deny = app.count(&format!(
        "SELECT COUNT(*) FROM attempts a JOIN devices d ON d.id = a.device_id \
         WHERE d.addr = '{phone}' AND a.started_at > {}",
        deny_at + 1000
    ));
    assert_eq!(after_deny, 0, "attempts on the denied phone after the deny");

    // Roll back: the first campaign again.
    let back = request(
        port,
        "POST",
        "/campaign/rollback",
        &session,
        &format!("csrf={csrf}"),
    );
    let line = verdict(&app, &session, &back);
    assert!(line.contains("rolled back to campaign"), "{line}");

    // Every change is an event naming the session.
    let events: Vec<String> = app
        .db()
        .prepare("SELECT message FROM events WHERE kind = 'dashboard' ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(events.len(), 3, "{events:?}");
    for e in &events {
        assert!(
            e.contains("by session ") && e.contains(" from 127.0.0.1"),
            "{e}"
        );
    }
    assert!(
        events[0].starts_with(&format!("deny list + {phone} by session")),
        "{events:?}"
    );

    // The CSV: every attempt of today, phones pseudonymised.
    let today = jiff::Zoned::now()
        .with_time_zone(jiff::tz::TimeZone::UTC)
        .date();
    let csv = request(
        port,
        "GET",
        &format!("/export.csv?from={today}&to={today}&rows=attempts"),
        &session,
        "",
    );
    assert_eq!(csv.status, 200, "{}", csv.body);
    assert!(csv.head.contains("content-type: text/csv"), "{}", csv.head);
    let mut reader = csv::Reader::from_reader(csv.body.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let in_log = app.count("SELECT COUNT(*) FROM attempts");
    assert!(
        rows.len() as i64 <= in_log && rows.len() as i64 >= in_log - 8,
        "{} rows, {in_log} in the log",
        rows.len()
    );
    assert!(
        rows.iter().all(|r| r[1].len() == 64 && !r[1].contains(':')),
        "pseudonymised"
    );
    let visits = request(
        port,
        "GET",
        &format!("/export.csv?from={today}&to={today}&rows=visits"),
        &session,
        "",
    );
    assert!(
        visits
            .body
            .starts_with("id,phone,device_name,radio,first_seen"),
        "{}",
        visits.body
    );
    let report = request(port, "GET", "/report", &session, "");
    assert!(
        report.status == 200 && report.body.contains("<svg"),
        "{}",
        report.status
    );

    led_follows_the_daemon_and_a_refused_stick(&app);
}

/// `o4send led` on a stand-in LED folder: idle or pushing while the daemon works, a fast
/// flicker after a refused stick.
fn led_follows_the_daemon_and_a_refused_stick(app: &Appliance) {
    let led = app.data().join("led");
    std::fs::create_dir(&led).unwrap();
    std::fs::write(led.join("trigger"), "mmc0").unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_o4send"))
        .args(["led", "--config", app.config.to_str().unwrap()])
        .env("O4SEND_APPLIANCE__STATUS_LED", &led)
        .spawn()
        .unwrap();
    let read = |n: &str| std::fs::read_to_string(led.join(n)).unwrap_or_default();
    app.wait_until("the LED blinks for a working box", || {
        read("trigger") == "timer" && ["100", "125"].contains(&read("delay_on").as_str())
    });
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_o4send"))
        .args([
            "import",
            "--config",
            app.config.to_str().unwrap(),
            "/nonexistent-stick",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    app.wait_until("the LED flickers for a refused stick", || {
        read("delay_on") == "40"
    });
    std::thread::sleep(Duration::from_millis(10));
    let _ = child.kill();
    let _ = child.wait();
}
