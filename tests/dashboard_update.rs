//! The system page (issue 25): in a real browser the operator logs in, finds the page, has a file
//! that is not a system update refused, and uploads one, which reaches the update spool whole
//! and byte for byte under its own name while the page says it waits for the installer and
//! reloads itself; what the installer (root, `o4send update --spool`, proved in QEMU by
//! scripts/image/update-test.py) writes as progress and outcome shows on the page. Over plain
//! HTTP, the attacks: an upload or a restart without the session's CSRF token, or without a
//! session, is refused and spools nothing; a restart at a malformed time is refused.

mod common;

use common::appliance::{Appliance, PASSWORD};
use common::browser::Browser;
use common::http::{login, request, send};
use std::time::Duration;

fn spool(app: &Appliance) -> std::path::PathBuf {
    app.data().join("update-spool")
}

/// A multipart body with the CSRF field and one file in the `bundle` field.
fn upload_body(csrf: &str, file: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let b = "o4sendUpdateBoundary";
    let mut body = format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{b}\r\n\
         Content-Disposition: form-data; name=\"bundle\"; filename=\"{file}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={b}"), body)
}

#[test]
fn an_update_uploaded_in_a_browser_reaches_the_installer_whole() {
    let Some(mut browser) = Browser::start() else {
        return; // outside CI without chromium: skipped, and said so on stderr
    };
    let app = Appliance::start(2, 40);
    let page = browser.page();
    page.set_timeout(Duration::from_secs(40));
    page.goto(&app.url("/system"));
    assert!(page.url().ends_with("/login"), "{}", page.url());
    page.fill("input[name=password]", PASSWORD);
    page.submit("form");
    page.click("nav a[href='/system']");
    let text = page.text();
    assert!(text.contains("Install a system update"), "{text}");
    assert!(text.contains("This box: "), "{text}");

    let choose = |page: &mut common::browser::Page, file: &std::path::Path| {
        let doc = page.call("DOM.getDocument", serde_json::json!({}));
        let node = page.call(
            "DOM.querySelector",
            serde_json::json!({"nodeId": doc["root"]["nodeId"], "selector": "input[type=file]"}),
        );
        page.call(
            "DOM.setFileInputFiles",
            serde_json::json!({"nodeId": node["nodeId"], "files": [file]}),
        );
        page.submit("form[enctype='multipart/form-data']");
    };

    // Not a system update by its name: refused, nothing spooled.
    let wrong = app.data().join("flyer.pdf");
    std::fs::write(&wrong, b"%PDF-1.4").unwrap();
    choose(page, &wrong);
    assert!(
        page.text()
            .contains("refused: a system update is a .raucb file"),
        "{}",
        page.text()
    );
    assert!(!spool(&app).join("upload.raucb").exists());

    // A system update: handed over whole, under its name; the page waits and reloads itself.
    let bytes: Vec<u8> = (0..3_000_000u32).map(|i| (i * 31 % 251) as u8).collect();
    let file = app.data().join("o4send-9.9.9-pi.raucb");
    std::fs::write(&file, &bytes).unwrap();
    page.goto(&app.url("/system"));
    choose(page, &file);
    assert!(page.url().ends_with("/system"), "{}", page.url());
    let text = page.text();
    assert!(
        text.contains("Received: the installer starts in a moment"),
        "{text}"
    );
    assert!(
        !text.contains("Install a system update"),
        "no second upload while one waits: {text}"
    );
    assert_eq!(
        page.eval("document.querySelector('meta[http-equiv=refresh]').content"),
        serde_json::json!("3")
    );
    let spooled = std::fs::read(spool(&app).join("upload.raucb")).unwrap();
    assert!(spooled == bytes, "the spooled file differs from the upload");
    let name = std::fs::read_to_string(spool(&app).join("upload.name")).unwrap();
    assert_eq!(name, "o4send-9.9.9-pi.raucb");
    assert!(!spool(&app).join(".upload.part").exists());

    // What the installer writes as it goes, then its verdict.
    let records = app.data().join("update");
    std::fs::create_dir_all(&records).unwrap();
    std::fs::remove_file(spool(&app).join("upload.raucb")).unwrap();
    std::fs::write(
        records.join("progress"),
        "checking the signature and every byte\n",
    )
    .unwrap();
    page.goto(&app.url("/system"));
    assert!(
        page.text()
            .contains("Installing: checking the signature and every byte"),
        "{}",
        page.text()
    );
    std::fs::remove_file(records.join("progress")).unwrap();
    std::fs::write(
        records.join("outcome"),
        "update refused: <b>o4send-9.9.9-pi.raucb</b>: changed after it was signed\n",
    )
    .unwrap();
    page.goto(&app.url("/system"));
    let text = page.text();
    assert!(
        text.contains("Last update: update refused: <b>o4send-9.9.9-pi.raucb</b>: changed after it was signed"),
        "the outcome, as text: {text}"
    );
    assert_eq!(
        page.eval("document.querySelectorAll('main b b').length"),
        serde_json::json!(0)
    );
    assert!(text.contains("Install a system update"), "{text}");
}

#[test]
fn forged_or_anonymous_update_writes_are_refused_and_spool_nothing() {
    let app = Appliance::start(2, 40);
    let (session, csrf) = login(app.port, PASSWORD);
    let (ctype, body) = upload_body("guess", "o4send-9.9.9-pi.raucb", b"not trusted");
    let forged = send(app.port, "POST", "/system/upload", &session, &ctype, &body);
    assert_eq!(forged.status, 403, "{}", forged.body);
    let anonymous = send(app.port, "POST", "/system/upload", "", &ctype, &body);
    assert_ne!(anonymous.status / 100, 2, "{}", anonymous.body);
    assert!(!spool(&app).join("upload.raucb").exists());
    assert!(!spool(&app).join(".upload.part").exists());

    let restart =
        |form: &str, cookies: &str| request(app.port, "POST", "/system/restart", cookies, form);
    assert_eq!(restart("csrf=guess&when=now", &session).status, 403);
    assert_ne!(
        restart(&format!("csrf={csrf}&when=now"), "").status / 100,
        2
    );
    let bad_time = restart(&format!("csrf={csrf}&when=at&time=25:00"), &session);
    assert_eq!(bad_time.status, 400, "{}", bad_time.body);
    assert!(
        bad_time.body.contains("a restart time is"),
        "{}",
        bad_time.body
    );
    assert!(!spool(&app).join("restart").exists());

    // With the token: the request is spooled for the root side, as one strict line.
    let ok = restart(&format!("csrf={csrf}&when=at&time=03:30"), &session);
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(
        std::fs::read_to_string(spool(&app).join("restart")).unwrap(),
        "03:30\n"
    );
    let (ctype, body) = upload_body(&csrf, "o4send-9.9.9-pi.raucb", b"bundle bytes");
    let ok = send(app.port, "POST", "/system/upload", &session, &ctype, &body);
    assert_eq!(ok.status, 303, "{}", ok.body);
    let again = send(app.port, "POST", "/system/upload", &session, &ctype, &body);
    assert_eq!(again.status, 409, "one upload at a time: {}", again.body);
}
