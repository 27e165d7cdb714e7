//! Acceptance of the systemd watchdog: the real `o4send run` binary on simulated phones, with a
//! notify socket and `WATCHDOG_USEC` of the test's own, as systemd would start it. READY comes;
//! WATCHDOG=1 comes every half period and never misses a period in a long healthy run; and when
//! a scan loop, a push worker, the store writer or the engine's core loop hangs (test-only fault
//! injection, cargo feature `fault-injection`, on in tests), the pings stop within one period of
//! that loop's stall limit; a sender name bluetoothd never sets stops nothing.
//!
//! Cadence is the property under test, not speed: bounds are whole watchdog periods, and the
//! moments compared are when the test itself read each message.

mod common;

use common::daemon::{content_dir, write_config, Daemon, NotifySocket};
use std::path::Path;
use std::time::{Duration, Instant};

/// `WATCHDOG_USEC` given to the daemon: it must ping at least this often.
const PERIOD: Duration = Duration::from_secs(2);
/// Scheduling noise allowed on a loaded machine, on top of whole periods.
const SLACK: Duration = Duration::from_secs(2);
const SCAN_STALL: Duration = Duration::from_secs(15);
const WRITER_STALL: Duration = Duration::from_secs(5);
/// The core loop's limit: as long as the writer may be busy, plus a scan loop's limit.
const CORE_STALL: Duration = SCAN_STALL.saturating_add(WRITER_STALL);
/// A push worker's limit with these OBEX timeouts and one slot:
/// max((connect 2 s + 10 s) x 1 slot, max(decision 3 s, packet 2 s) + 10 s) = 13 s.
const PUSH_STALL: Duration = Duration::from_secs(13);

/// A busy hall: phones keep arriving for a minute, every push is short.
fn hall(dir: &Path) -> std::path::PathBuf {
    let content = content_dir(dir);
    let extra = format!(
        "[[radio.adapters]]\nid = \"sim0\"\nrole = \"both\"\nslots = 1\n\
         [radio.sim]\nphones = 60\narrival_window_secs = 60\n\
         [obex]\nconnect_timeout_secs = 2\ndecision_timeout_secs = 3\npacket_timeout_secs = 2\n\
         [engine]\nshutdown_grace_secs = 2\n\
         [watchdog]\nscan_stall_secs = {}\nwriter_stall_secs = {}\n",
        SCAN_STALL.as_secs(),
        WRITER_STALL.as_secs()
    );
    write_config(dir, &content, &extra)
}

struct Run {
    dir: tempfile::TempDir,
    daemon: Daemon,
    notify: NotifySocket,
}

/// Starts the daemon under the test's notify socket and waits for READY.
fn start() -> Run {
    let dir = tempfile::tempdir().unwrap();
    let config = hall(dir.path());
    let notify = NotifySocket::bind(dir.path());
    let fault = dir.path().join("fault");
    let usec = PERIOD.as_micros().to_string();
    let env = [
        ("NOTIFY_SOCKET", notify.path.to_str().unwrap()),
        ("WATCHDOG_USEC", usec.as_str()),
        ("O4SEND_FAULT_FILE", fault.to_str().unwrap()),
    ];
    let daemon = Daemon::start(&config, &env);
    let mut run = Run {
        dir,
        daemon,
        notify,
    };
    run.notify.wait_for("READY=1");
    run.daemon.wait_for("fault injection: watching");
    run
}

/// The longest gap between consecutive pings, and their number.
fn gaps(pings: &[Instant]) -> (Duration, usize) {
    let longest = pings
        .windows(2)
        .map(|w| w[1] - w[0])
        .max()
        .unwrap_or_default();
    (longest, pings.len())
}

#[test]
fn without_a_hang_the_pings_never_stop() {
    let mut run = start();
    let ready = run.notify.wait_for("READY=1");
    run.notify.collect_until(ready + Duration::from_secs(64));
    let pings = run.notify.times_of("WATCHDOG=1");
    let (longest, count) = gaps(&pings);
    eprintln!("healthy: {count} pings in 64 s, longest gap {longest:?} (period {PERIOD:?})");
    // Every half period: 64 s hold about 64 pings; a missed period would have been a restart.
    assert!(count >= 60, "{count} pings in 64 s");
    assert!(longest < PERIOD, "a gap of {longest:?} between pings");
    assert!(
        !run.notify.times_of("STATUS=last hour:").is_empty(),
        "{:?}",
        run.notify.texts()
    );
    run.daemon.drain();
    assert!(
        !run.daemon.log.contains("not pinging"),
        "{}",
        run.daemon.log
    );

    run.daemon.signal("-TERM");
    let status = run.daemon.wait_exit(Duration::from_secs(60));
    assert!(status.is_some_and(|s| s.success()), "{}", run.daemon.log);
    run.notify
        .collect_until(Instant::now() + Duration::from_millis(200));
    assert!(!run.notify.times_of("STOPPING=1").is_empty());
}

/// Arms `fault`, waits for the daemon to say which loop hung, then checks that the pings went on
/// while that loop was within its limit and stopped within one period after it.
fn pings_stop_after(fault: &str, hangs: &str, limit: Duration, stalled: &str) {
    let mut run = start();
    run.notify.collect_until(Instant::now() + PERIOD);
    std::fs::write(run.dir.path().join("fault"), fault).unwrap();
    let hung = run.daemon.wait_for(hangs);
    run.daemon
        .wait_for(&format!("not pinging systemd: {stalled}"));
    // Watch long enough that several pings would have come, had they not stopped, and the
    // status line (every 5 s) has been refreshed.
    run.notify.collect_until(Instant::now() + PERIOD * 4);
    let pings = run.notify.times_of("WATCHDOG=1");
    let last = *pings.last().expect("pings before the hang");
    eprintln!(
        "{fault}: last ping {:?} after the hang showed (limit {limit:?}, period {PERIOD:?})",
        last.saturating_duration_since(hung)
    );
    assert!(
        last > hung + limit / 2,
        "pings stopped {:?} after the hang, before the loop's limit {limit:?}",
        last.saturating_duration_since(hung)
    );
    assert!(
        last <= hung + limit + PERIOD + SLACK,
        "pings went on {:?} after the hang (limit {limit:?}, period {PERIOD:?})",
        last - hung
    );
    let (longest, _) = gaps(&pings);
    assert!(
        longest < PERIOD,
        "a gap of {longest:?} before the hang showed"
    );
    let status = run
        .notify
        .seen
        .iter()
        .rev()
        .find(|m| m.text.contains("STATUS="))
        .map(|m| m.text.clone())
        .unwrap_or_default();
    assert!(status.contains(&format!("STALLED: {stalled}")), "{status}");
}

#[test]
fn a_hung_scan_loop_stops_the_pings() {
    pings_stop_after(
        "scan",
        "the scan loop on sim0 hangs",
        SCAN_STALL,
        "scan loop on sim0 silent",
    );
}

#[test]
fn a_hung_push_worker_stops_the_pings() {
    pings_stop_after(
        "push",
        "the push worker sim0 -> ",
        PUSH_STALL,
        "push worker sim0 -> ",
    );
}

#[test]
fn a_hung_store_writer_stops_the_pings() {
    pings_stop_after(
        "writer",
        "the store writer hangs",
        WRITER_STALL,
        "store writer silent",
    );
}

#[test]
fn a_hung_engine_core_loop_stops_the_pings() {
    pings_stop_after(
        "core",
        "the engine core loop hangs",
        CORE_STALL,
        "engine core loop silent",
    );
}

/// A reload while bluetoothd never answers the sender name: the core loop must not wait for it
/// (it once did, for up to bluer's 120 s D-Bus timeout, hearing no sightings meanwhile).
#[test]
fn a_sender_name_that_never_gets_set_holds_nothing_up() {
    let mut run = start();
    std::fs::write(run.dir.path().join("fault"), "alias").unwrap();
    run.daemon.wait_for("fault injection: alias armed");
    run.daemon.signal("-HUP");
    run.daemon.wait_for("setting the sender name on sim0 hangs");
    let hung = Instant::now();
    run.notify.collect_until(hung + CORE_STALL + PERIOD * 3);
    let pings = run.notify.times_of("WATCHDOG=1");
    let (longest, _) = gaps(&pings);
    assert!(
        pings
            .last()
            .is_some_and(|&last| last > hung + CORE_STALL + PERIOD * 2),
        "the pings stopped after the sender name hung"
    );
    assert!(longest < PERIOD, "a gap of {longest:?} between pings");
    // Sightings reach the log only through the core loop.
    let (then, now) = (seen(&run.notify, hung), seen(&run.notify, Instant::now()));
    assert!(
        now > then,
        "no phone logged after the hang: {then} then, {now} now"
    );
    run.daemon.drain();
    assert!(
        !run.daemon.log.contains("not pinging"),
        "{}",
        run.daemon.log
    );
}

/// Phones seen in the last hour, as the newest status line before `at` says.
fn seen(notify: &NotifySocket, at: Instant) -> u64 {
    notify
        .seen
        .iter()
        .rev()
        .filter(|m| m.at <= at)
        .find_map(|m| m.text.split("last hour: ").nth(1))
        .and_then(|status| status.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}
