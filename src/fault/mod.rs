//! Injected hangs, for tests and the VM rig only: this module exists only in builds with the
//! cargo feature `fault-injection` (the test suite and a rig build), never in the image's binary.
//!
//! The watchdog must be shown to notice a hung scan loop, push worker, store writer or engine
//! core loop; nothing in a healthy daemon hangs on demand, so this makes one. The trigger is a
//! file named by `O4SEND_FAULT_FILE`: writing `scan`, `push`, `writer` or `core` into it while the
//! daemon runs hangs that loop for good (`scan`: every scan loop; `push`: the next push worker to
//! connect; `writer`: the store writer at its next transaction; `core`: the engine's core loop at
//! its next turn, as an await that never returns would). `alias` makes every later attempt to set
//! a radio's sender name hang, as a bluetoothd that never answers would: nothing may wait on it.
//! What the file holds when the daemon starts is ignored, so a daemon restarted by the watchdog
//! does not hang again.

mod radio;

pub use radio::wrap;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The environment variable naming the trigger file.
pub const FAULT_FILE: &str = "O4SEND_FAULT_FILE";
/// How often the trigger file is read.
const POLL: Duration = Duration::from_millis(200);

static SCAN: AtomicBool = AtomicBool::new(false);
static PUSH: AtomicBool = AtomicBool::new(false);
static WRITER: AtomicBool = AtomicBool::new(false);
static CORE: AtomicBool = AtomicBool::new(false);
static ALIAS: AtomicBool = AtomicBool::new(false);

/// Starts watching the trigger file, when `O4SEND_FAULT_FILE` names one.
pub fn watch_trigger() {
    let Some(path) = std::env::var_os(FAULT_FILE).map(PathBuf::from) else {
        return;
    };
    tracing::warn!(
        "fault injection: watching {} (scan, push, writer, core, alias)",
        path.display()
    );
    // What the file holds now is read before the daemon says it is ready, so a trigger written
    // after "ready" is always a change (read in the thread, it raced a fast writer and was lost).
    let at_start = std::fs::read_to_string(&path).ok();
    let spawned = std::thread::Builder::new()
        .name("o4send-fault".into())
        .spawn(move || poll(&path, at_start));
    if let Err(e) = spawned {
        tracing::error!("fault injection: cannot watch the trigger file: {e}");
    }
}

fn poll(path: &Path, mut last: Option<String>) {
    loop {
        std::thread::sleep(POLL);
        let now = std::fs::read_to_string(path).ok();
        if now != last {
            if let Some(text) = &now {
                arm(text);
            }
            last = now;
        }
    }
}

fn arm(text: &str) {
    for word in text.split_whitespace() {
        let flag = match word {
            "scan" => &SCAN,
            "push" => &PUSH,
            "writer" => &WRITER,
            "core" => &CORE,
            "alias" => &ALIAS,
            other => {
                tracing::error!(
                    "fault injection: unknown fault {other:?} (scan, push, writer, core, alias)"
                );
                continue;
            }
        };
        flag.store(true, Ordering::SeqCst);
        tracing::warn!("fault injection: {word} armed");
    }
}

/// Called by the store writer before each transaction: blocks the thread for good once armed,
/// as a write stuck on a dead SD card would.
pub fn writer_point() {
    if WRITER.load(Ordering::SeqCst) {
        tracing::warn!("fault injection: the store writer hangs");
        loop {
            std::thread::park();
        }
    }
}

/// Called by the engine's core loop at every turn: never returns once armed.
pub async fn core_point() {
    if CORE.load(Ordering::SeqCst) {
        tracing::warn!("fault injection: the engine core loop hangs");
        std::future::pending::<()>().await;
    }
}

/// Whether setting a sender name should hang.
fn alias_armed() -> bool {
    ALIAS.load(Ordering::SeqCst)
}

/// Whether the next push worker should hang (true once per `push` written).
fn take_push() -> bool {
    PUSH.swap(false, Ordering::SeqCst)
}

/// Resolves once `scan` is armed.
async fn scan_armed() {
    while !SCAN.load(Ordering::SeqCst) {
        tokio::time::sleep(POLL).await;
    }
}
