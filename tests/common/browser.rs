//! A real headless Chromium driven over the Chrome DevTools Protocol, for the dashboard tests:
//! they have to see what a person's browser sees (the page after JavaScript and CSS, the
//! cookie the login set, the layout on a phone, the printed report), which no HTTP client
//! shows. Debian's `chromium` is started with a throwaway profile, one tab is driven through a
//! synchronous websocket (tungstenite), and everything it is asked waits at most a bounded
//! time: a hung Chromium fails the test with the call it hung on, it never hangs CI.
//!
//! The binary is `chromium` from `PATH`, or `O4SEND_CHROMIUM` when set. Without it the tests
//! fail under `CI=true` (saying to install chromium; scripts/test.sh does it as root); outside
//! CI [`Browser::start`] says on stderr that the test was skipped and gives `None`.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::{Message, WebSocket};

/// How long Chromium's start, and by default one DevTools call or a page load, may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A headless Chromium with one tab; the process (and its helpers) is killed and its profile
/// removed when dropped.
pub struct Browser {
    page: Page,
    process: Process,
}

/// The Chromium process and its profile; killed and removed on drop (also when the start fails
/// half-way).
struct Process {
    child: Child,
    dir: tempfile::TempDir,
}

/// One tab, driven over its own DevTools websocket.
pub struct Page {
    ws: WebSocket<TcpStream>,
    next_id: u64,
    /// Events read while waiting for a response, oldest first (at most [`MAX_EVENTS`]).
    events: VecDeque<Value>,
    /// How long one call or page load may take.
    timeout: Duration,
    /// Uncaught exceptions and console.error() calls of the pages, not yet taken.
    errors: Vec<String>,
    /// The messages of the alert/confirm/prompt dialogs accepted, not yet taken.
    dialogs: Vec<String>,
}

/// Events nobody waited for are dropped beyond this many.
const MAX_EVENTS: usize = 1000;

/// What `fetch()` inside the page got back.
#[derive(Debug)]
pub struct Fetched {
    pub status: u16,
    pub content_type: String,
    pub content_disposition: String,
    pub body: String,
}

/// The Chromium to run, or why there is none.
fn chromium_binary() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("O4SEND_CHROMIUM") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("O4SEND_CHROMIUM={} is not a file", path.display()))
        };
    }
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .map(|d| Path::new(d).join("chromium"))
        .find(|p| p.is_file())
        .ok_or_else(|| "no chromium in PATH".to_string())
}

/// Under `CI=true` a missing Chromium is a failure; elsewhere a skip that says so.
fn missing(why: &str) -> Option<Browser> {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "CI=true and {why}: install chromium (apt-get install chromium; scripts/test.sh \
             does it as root), or point O4SEND_CHROMIUM at it"
        );
    }
    // Straight to stderr, past the test harness's capture: a skip must show in the output.
    let _ = writeln!(
        std::io::stderr(),
        "skipped: a test that needs a real headless Chromium ({why}; apt-get install chromium)"
    );
    None
}

impl Browser {
    /// A fresh headless Chromium on about:blank, or `None` outside CI when there is none.
    pub fn start() -> Option<Browser> {
        Browser::start_with(&[])
    }

    /// The same, with more Chromium switches (a proxy that plays a captive network, say).
    pub fn start_with(switches: &[&str]) -> Option<Browser> {
        let binary = match chromium_binary() {
            Ok(binary) => binary,
            Err(why) => return missing(&why),
        };
        let dir = tempfile::tempdir().unwrap();
        let child = spawn(&binary, dir.path(), switches);
        let mut process = Process { child, dir };
        let port = process.wait_for_port();
        let mut page = Page::connect(&page_websocket_url(port, &process));
        page.call("Page.enable", json!({}));
        page.call("Runtime.enable", json!({}));
        Some(Browser { page, process })
    }

    /// The tab.
    pub fn page(&mut self) -> &mut Page {
        &mut self.page
    }

    /// The process id of Chromium (of Debian's wrapper script, the leader of its group).
    pub fn pid(&self) -> u32 {
        self.process.child.id()
    }

    /// What Chromium wrote on stderr so far (for failure messages).
    pub fn log(&self) -> String {
        self.process.log()
    }
}

impl Process {
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("chromium.log")).unwrap_or_default()
    }

    /// The DevTools port Chromium chose, from the DevToolsActivePort file in its profile.
    fn wait_for_port(&mut self) -> u16 {
        let file = self.dir.path().join("profile/DevToolsActivePort");
        let deadline = Instant::now() + TIMEOUT;
        while Instant::now() < deadline {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            if let Some(port) = text.lines().next().and_then(|l| l.trim().parse().ok()) {
                return port;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "chromium exited ({status}) before listening:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "chromium did not open its DevTools port in {TIMEOUT:?}:\n{}",
            self.log()
        );
    }
}

/// Chromium in its own process group (so that its helpers die with it), stderr into the temp
/// dir, the profile beside it.
fn spawn(binary: &Path, dir: &Path, switches: &[&str]) -> Child {
    let log = std::fs::File::create(dir.join("chromium.log")).unwrap();
    Command::new(binary)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--disable-dev-shm-usage",
            "--remote-debugging-port=0",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-breakpad",
            "--password-store=basic",
            "--mute-audio",
        ])
        .args(switches)
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg("about:blank")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()))
}

/// The websocket of the first page target, from `GET /json/list` (retried: the tab may not be
/// listed yet right after the port opens).
fn page_websocket_url(port: u16, process: &Process) -> String {
    let deadline = Instant::now() + TIMEOUT;
    while Instant::now() < deadline {
        let list = http_get(port, "/json/list").unwrap_or_default();
        let targets: Vec<Value> = serde_json::from_str(&list).unwrap_or_default();
        let url = targets
            .iter()
            .find(|t| t["type"] == "page")
            .and_then(|t| t["webSocketDebuggerUrl"].as_str());
        if let Some(url) = url {
            return url.to_string();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "chromium listed no page target in {TIMEOUT:?}:\n{}",
        process.log()
    );
}

/// The body of a plain GET to Chromium's DevTools server (which keeps the connection open:
/// the body ends at its Content-Length).
fn http_get(port: u16, path: &str) -> std::io::Result<String> {
    let stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    write!(
        &stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    )?;
    let mut reader = std::io::BufReader::new(&stream);
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(String::from_utf8_lossy(&body).into_owned())
}

impl Drop for Process {
    fn drop(&mut self) {
        let group = self.child.id() as libc::pid_t;
        // SAFETY: kill(2) on the process group this Browser created; no memory is involved.
        unsafe { libc::kill(-group, libc::SIGKILL) };
        let _ = self.child.wait();
        // Wait (briefly) until none of its helpers is left writing into the profile, so that the
        // temp dir goes away whole. Dead ones may stay zombies for a while: init reaps them.
        let deadline = Instant::now() + Duration::from_secs(3);
        while group_has_live_process(group) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Whether a process of the group `group` is still running (not a zombie), by /proc.
fn group_has_live_process(group: libc::pid_t) -> bool {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return false;
    };
    dir.flatten().any(|entry| {
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        // After "pid (comm) ": state, ppid, pgrp.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().take(3).collect())
            .unwrap_or_default();
        fields.len() == 3 && fields[0] != "Z" && fields[2] == group.to_string()
    })
}

impl Page {
    fn connect(url: &str) -> Page {
        let addr = url
            .strip_prefix("ws://")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("unexpected DevTools websocket URL {url}"));
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        stream.set_write_timeout(Some(TIMEOUT)).unwrap();
        // Screenshots of long pages come as one large message.
        let config = tungstenite::protocol::WebSocketConfig::default()
            .max_message_size(Some(512 << 20))
            .max_frame_size(Some(512 << 20));
        let (ws, _) = tungstenite::client::client_with_config(url, stream, Some(config))
            .unwrap_or_else(|e| panic!("DevTools websocket {url}: {e}"));
        Page {
            ws,
            next_id: 1,
            events: VecDeque::new(),
            timeout: TIMEOUT,
            errors: Vec::new(),
            dialogs: Vec::new(),
        }
    }

    /// One DevTools command; its `result`. Panics on a protocol error or after the
    /// page's timeout.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.send(method, params.clone());
        let deadline = Instant::now() + self.timeout;
        loop {
            let message = self.read(deadline, method);
            if message["id"] == id {
                if let Some(error) = message.get("error") {
                    panic!("DevTools {method} {params}: {error}");
                }
                return message["result"].clone();
            }
            if message.get("method").is_some() {
                self.note_event(message);
            }
        }
    }

    /// Sets how long one call or page load may take from now on (30 s at first).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Sends one DevTools command without waiting for its answer; its id.
    fn send(&mut self, method: &str, params: Value) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let request = json!({"id": id, "method": method, "params": params});
        self.ws
            .send(Message::text(request.to_string()))
            .unwrap_or_else(|e| panic!("DevTools {method}: {e}"));
        id
    }

    /// The next message from Chromium; panics once `deadline` has passed (`what` says for what).
    fn read(&mut self, deadline: Instant, what: &str) -> Value {
        loop {
            match self.ws.read() {
                Ok(Message::Text(text)) => {
                    return serde_json::from_str(text.as_str())
                        .unwrap_or_else(|e| panic!("DevTools sent non-JSON ({e}): {text}"));
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => panic!("DevTools websocket, waiting for {what}: {e}"),
            }
            assert!(
                Instant::now() < deadline,
                "chromium did not answer {what} within {:?}",
                self.timeout
            );
        }
    }

    /// Keeps an event for [`Page::wait_event`], the page's errors or its dialogs; a dialog is
    /// accepted at once (it would block the page).
    fn note_event(&mut self, event: Value) {
        let params = &event["params"];
        match event["method"].as_str().unwrap_or_default() {
            "Runtime.exceptionThrown" => {
                let details = &params["exceptionDetails"];
                let text = details["exception"]["description"].as_str();
                let text = text.or(details["text"].as_str()).unwrap_or_default();
                self.errors.push(text.to_string());
            }
            "Runtime.consoleAPICalled" if params["type"] == "error" => {
                let args = params["args"].as_array().cloned().unwrap_or_default();
                let words: Vec<String> = args.iter().map(console_arg).collect();
                self.errors
                    .push(format!("console.error: {}", words.join(" ")));
            }
            "Page.javascriptDialogOpening" => {
                let message = params["message"].as_str().unwrap_or_default();
                self.dialogs.push(message.to_string());
                self.send("Page.handleJavaScriptDialog", json!({"accept": true}));
            }
            _ => {
                if self.events.len() == MAX_EVENTS {
                    self.events.pop_front();
                }
                self.events.push_back(event);
            }
        }
    }

    /// The uncaught exceptions and console.error() calls since the last time this was asked.
    pub fn js_errors(&mut self) -> Vec<String> {
        self.call("Runtime.evaluate", json!({"expression": "0"})); // reads what came before
        std::mem::take(&mut self.errors)
    }

    /// The messages of the dialogs (alert, confirm, prompt) accepted since the last time this
    /// was asked.
    pub fn dialogs(&mut self) -> Vec<String> {
        self.call("Runtime.evaluate", json!({"expression": "0"}));
        std::mem::take(&mut self.dialogs)
    }

    /// Waits for the event `method` (one already read counts); returns its params.
    pub fn wait_event(&mut self, method: &str) -> Value {
        if let Some(i) = self.events.iter().position(|e| e["method"] == method) {
            return self.events.remove(i).unwrap()["params"].clone();
        }
        let deadline = Instant::now() + self.timeout;
        loop {
            let message = self.read(deadline, method);
            if message["method"] == method {
                return message["params"].clone();
            }
            if message.get("method").is_some() {
                self.note_event(message);
            }
        }
    }

    /// Runs `action` (which starts a navigation) and waits until the new page has loaded.
    fn navigating(&mut self, action: impl FnOnce(&mut Page)) {
        self.events.retain(|e| e["method"] != "Page.loadEventFired");
        action(self);
        self.wait_event("Page.loadEventFired");
    }

    /// Opens `url` and waits for its load event; panics if it cannot be loaded at all.
    pub fn goto(&mut self, url: &str) {
        self.navigating(|page| {
            let result = page.call("Page.navigate", json!({ "url": url }));
            if let Some(error) = result.get("errorText") {
                panic!("cannot open {url}: {error}");
            }
        });
    }

    /// The value of a JavaScript expression (promises awaited); panics if it throws.
    pub fn eval(&mut self, js: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": js, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(details) = result.get("exceptionDetails") {
            let message = details["exception"]["description"]
                .as_str()
                .or(details["text"].as_str())
                .unwrap_or_default();
            panic!("JavaScript threw: {message}\n  in: {js}");
        }
        result["result"]["value"].clone()
    }

    /// A string expression's value.
    fn eval_string(&mut self, js: &str) -> String {
        let value = self.eval(js);
        value
            .as_str()
            .unwrap_or_else(|| panic!("{js} is not a string: {value}"))
            .to_string()
    }

    /// The text a person sees (`document.body.innerText`).
    pub fn text(&mut self) -> String {
        self.eval_string("document.body.innerText")
    }

    /// The document as it is now, after scripts.
    pub fn html(&mut self) -> String {
        self.eval_string("document.documentElement.outerHTML")
    }

    /// Where the tab is (after redirects).
    pub fn url(&mut self) -> String {
        self.eval_string("location.href")
    }

    /// Polls the JavaScript `condition` until it is truthy; panics after `timeout`.
    pub fn wait_until(&mut self, condition: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let value = self.eval(&format!("!!({condition})"));
            if value == Value::Bool(true) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "still false after {timeout:?}: {condition}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The element `selector` finds, as a JavaScript expression that throws when there is none.
    fn element(selector: &str) -> String {
        let quoted = serde_json::to_string(selector).unwrap();
        format!(
            "(document.querySelector({quoted}) || \
             (() => {{ throw new Error('no element matches ' + {quoted}) }})())"
        )
    }

    /// Types `value` into the field `selector` (input and change events fire, as when typed).
    pub fn fill(&mut self, selector: &str, value: &str) {
        let value = serde_json::to_string(value).unwrap();
        self.eval(&format!(
            "(e => {{ e.focus(); e.value = {value}; \
             e.dispatchEvent(new Event('input', {{bubbles: true}})); \
             e.dispatchEvent(new Event('change', {{bubbles: true}})); }})({})",
            Self::element(selector)
        ));
    }

    /// Clicks `selector` and waits for the page it leads to.
    pub fn click(&mut self, selector: &str) {
        let js = format!("{}.click()", Self::element(selector));
        self.navigating(|page| {
            page.eval(&js);
        });
    }

    /// Submits the form `selector` as its submit button would (validation and submit handlers
    /// included) and waits for the page it leads to.
    pub fn submit(&mut self, form: &str) {
        let js = format!("{}.requestSubmit()", Self::element(form));
        self.navigating(|page| {
            page.eval(&js);
        });
    }

    /// The tab's cookies (DevTools' Network.Cookie objects: name, value, httpOnly, ...).
    pub fn cookies(&mut self) -> Vec<Value> {
        let result = self.call("Network.getCookies", json!({}));
        result["cookies"].as_array().cloned().unwrap_or_default()
    }

    /// One cookie by name.
    pub fn cookie(&mut self, name: &str) -> Option<Value> {
        self.cookies().into_iter().find(|c| c["name"] == name)
    }

    /// Emulates a screen of `width`×`height` CSS pixels (`mobile`: a phone's viewport rules and
    /// touch).
    pub fn set_viewport(&mut self, width: u32, height: u32, mobile: bool) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
        );
        self.call(
            "Emulation.setTouchEmulationEnabled",
            json!({ "enabled": mobile }),
        );
    }

    /// The whole page (not only the viewport) as a PNG at `path`.
    pub fn screenshot(&mut self, path: &Path) {
        let metrics = self.call("Page.getLayoutMetrics", json!({}));
        let size = &metrics["cssContentSize"];
        // The content's width leaves out a vertical scrollbar: the window's is the screen's.
        let window = self.eval("window.innerWidth").as_f64().unwrap_or_default();
        let width = size["width"].as_f64().unwrap_or_default().max(window);
        let clip = json!({"x": 0, "y": 0, "width": width, "height": size["height"], "scale": 1});
        let result = self.call(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true, "clip": clip}),
        );
        write_base64(path, &result["data"]);
    }

    /// The page printed to a PDF at `path` (A4, backgrounds included).
    pub fn pdf(&mut self, path: &Path) {
        let result = self.call(
            "Page.printToPDF",
            json!({"paperWidth": 8.27, "paperHeight": 11.69, "printBackground": true}),
        );
        write_base64(path, &result["data"]);
    }

    /// `fetch(url)` from inside the page, with its cookies: what a download link gives.
    pub fn fetch(&mut self, url: &str) -> Fetched {
        let url = serde_json::to_string(url).unwrap();
        let value = self.eval(&format!(
            "fetch({url}, {{credentials: 'include'}}).then(async r => ({{status: r.status, \
             type: r.headers.get('content-type') || '', \
             disposition: r.headers.get('content-disposition') || '', body: await r.text()}}))"
        ));
        Fetched {
            status: value["status"].as_u64().unwrap_or_default() as u16,
            content_type: value["type"].as_str().unwrap_or_default().to_string(),
            content_disposition: value["disposition"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            body: value["body"].as_str().unwrap_or_default().to_string(),
        }
    }

    /// The body of `url` fetched from inside the page; panics unless the status is 2xx.
    pub fn fetch_text(&mut self, url: &str) -> String {
        let fetched = self.fetch(url);
        assert!(
            (200..300).contains(&fetched.status),
            "GET {url}: status {} {}",
            fetched.status,
            fetched.body
        );
        fetched.body
    }
}

/// One console.error() argument as text (a string as is, an object by its description).
fn console_arg(arg: &Value) -> String {
    match &arg["value"] {
        Value::String(text) => text.clone(),
        Value::Null => arg["description"].as_str().unwrap_or_default().to_string(),
        value => value.to_string(),
    }
}

/// Decodes DevTools' base64 `data` into the file `path`.
fn write_base64(path: &Path, data: &Value) {
    use ct_codecs::{Base64, Decoder};
    let data = data.as_str().expect("DevTools returned no data");
    let bytes = Base64::decode_to_vec(data, None).expect("DevTools returned bad base64");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}
