//! Start-up steps that can take long on a Pi (a schema migration of a big log, retention at
//! open): while one runs, systemd is asked every few seconds for more time (EXTEND_TIMEOUT_USEC),
//! so `TimeoutStartSec` does not kill a daemon that is busy rather than stuck. A quick step sends
//! nothing.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

/// How often to ask while the step runs.
const EVERY: Duration = Duration::from_secs(5);
/// How much to ask for each time: well past the next request.
const MORE: Duration = Duration::from_secs(20);

/// Runs `work`, asking systemd for more start-up time while it lasts; `what` names it in the log.
pub fn while_starting<T>(what: &str, work: impl FnOnce() -> T) -> T {
    let what = what.to_string();
    extending(EVERY, work, move |first| {
        if first {
            tracing::info!("{what} takes a while; asking systemd for more time");
        }
        super::extend_timeout(MORE);
    })
}

/// Calls `ask(first)` every `every` until `work` returns.
fn extending<T>(
    every: Duration,
    work: impl FnOnce() -> T,
    ask: impl Fn(bool) + Send + 'static,
) -> T {
    let (done, until) = mpsc::channel::<()>();
    let helper = std::thread::Builder::new()
        .name("o4send-extend".into())
        .spawn(move || {
            let mut first = true;
            while let Err(RecvTimeoutError::Timeout) = until.recv_timeout(every) {
                ask(first);
                first = false;
            }
        });
    let out = work();
    drop(done);
    if let Ok(helper) = helper {
        let _ = helper.join();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asks_again_and_again_while_the_work_lasts() {
        let (asked, heard) = mpsc::channel();
        // The work ends only after it has seen two requests for more time.
        let out = extending(
            Duration::from_millis(1),
            || {
                heard.recv().unwrap();
                heard.recv().unwrap();
                "migrated"
            },
            move |first| {
                let _ = asked.send(first);
            },
        );
        assert_eq!(out, "migrated");
    }

    #[test]
    fn a_quick_step_asks_nothing() {
        let out = extending(Duration::from_secs(3600), || 7, |_| panic!("asked"));
        assert_eq!(out, 7);
    }
}
