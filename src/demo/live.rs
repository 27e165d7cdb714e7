//! The demo's live progress line on a terminal, redrawn at most ten times a real second.

use crate::engine::Progress;
use crate::model::outcome::Outcome;
use crate::radio::sim::World;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

pub(super) async fn show(world: Arc<World>, mut progress: watch::Receiver<Progress>) {
    let mut drawn = Instant::now() - Duration::from_secs(1);
    while progress.changed().await.is_ok() {
        if drawn.elapsed() < Duration::from_millis(100) {
            continue;
        }
        drawn = Instant::now();
        let p = progress.borrow_and_update().clone();
        let t = world.elapsed().as_secs();
        let present = world
            .phones()
            .iter()
            .filter(|ph| ph.present_at(world.elapsed()))
            .count();
        let line = format!(
            "\r{:02}:{:02}:{:02} expo time · {present:>4} phones here · {:>3} in flight · {} accepted · {} declined · {} ignored · {} other   ",
            t / 3600,
            t / 60 % 60,
            t % 60,
            p.in_flight,
            p.count(Outcome::Accepted),
            p.count(Outcome::Declined),
            p.count(Outcome::Ignored),
            p.attempts - p.count(Outcome::Accepted) - p.count(Outcome::Declined) - p.count(Outcome::Ignored),
        );
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(line.as_bytes());
        let _ = err.flush();
    }
}
