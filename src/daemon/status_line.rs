//! The one line `systemctl status o4send` shows, refreshed every few seconds: phones seen and
//! served in the last hour, pushes in flight, the sync backlog, and any loop the watchdog finds
//! stalled. Someone at the booth with a laptop should understand the box at a glance.

use crate::engine::Progress;
use crate::model::clock::Clock;
use crate::store::{Glance, Reader};
use crate::supervise::{self, Health, Stall};
use std::time::Duration;
use tokio::sync::watch;

/// How often the line is refreshed.
const EVERY: Duration = Duration::from_secs(5);

/// What the line is made from.
pub(super) struct Sources {
    pub reader: Option<Reader>,
    pub clock: Clock,
    pub progress: watch::Receiver<Progress>,
    pub health: Health,
    pub sync_on: bool,
    /// The console banner, on a box that has one.
    pub banner: Option<crate::setup::banner::Banner>,
}

/// Refreshes the line until the daemon ends.
pub(super) async fn refresh(mut sources: Sources) {
    loop {
        tokio::time::sleep(EVERY).await;
        let glance = sources.reader.as_ref().and_then(|r| {
            r.glance(sources.clock.now_ms())
                .map_err(|e| tracing::debug!("status line: {e}"))
                .ok()
        });
        let in_flight = sources.progress.borrow_and_update().in_flight;
        let stalls = sources.health.stalls();
        let line = line(glance.as_ref(), in_flight, sources.sync_on, &stalls);
        supervise::status(&line);
        if let Some(banner) = sources.banner.as_mut() {
            banner.update(&line);
        }
    }
}

fn line(glance: Option<&Glance>, in_flight: usize, sync_on: bool, stalls: &[Stall]) -> String {
    let mut line = match glance {
        Some(g) => format!("last hour: {} phones seen, {} served", g.seen, g.served),
        None => "last hour: log unreadable".to_string(),
    };
    line.push_str(&format!("; {in_flight} pushing"));
    match (sync_on, glance) {
        (false, _) => line.push_str("; sync off"),
        (true, Some(g)) => line.push_str(&format!("; sync backlog {} rows", g.sync_backlog)),
        (true, None) => {}
    }
    if !stalls.is_empty() {
        line.push_str("; STALLED: ");
        line.push_str(&supervise::describe(stalls));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_with_what_matters() {
        let g = Glance {
            seen: 12,
            served: 5,
            sync_backlog: 40,
        };
        assert_eq!(
            line(Some(&g), 2, true, &[]),
            "last hour: 12 phones seen, 5 served; 2 pushing; sync backlog 40 rows"
        );
        let stall = Stall {
            name: "scan loop on hci0".into(),
            silent: Duration::from_secs(75),
            limit: Duration::from_secs(60),
        };
        assert_eq!(
            line(None, 0, false, &[stall]),
            "last hour: log unreadable; 0 pushing; sync off; \
             STALLED: scan loop on hci0 silent for 75s (limit 60s)"
        );
    }
}
