//! A lower bound on any schedule's makespan: phone j cannot be finished before it arrives plus
//! its own service time (connect, the user's decision, the transfer), and the phones arriving
//! at or after any moment t need at least their summed service time spread over all slots.

use crate::config::SimConfig;
use crate::radio::sim::{generate, Behaviour, LinkModel};

/// Seconds.
pub fn lower_bound(sim: &SimConfig, slots: usize, item_bytes: u64) -> f64 {
    let link = LinkModel::default();
    let mut jobs: Vec<(f64, f64)> = generate(sim)
        .iter()
        .map(|p| {
            let decide = match p.behaviour {
                Behaviour::Accept { decide } => decide.as_secs_f64(),
                _ => 0.0,
            };
            let service =
                link.connect.as_secs_f64() + decide + item_bytes as f64 / link.rate as f64;
            (p.arrive.as_secs_f64(), service)
        })
        .collect();
    jobs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let each = jobs.iter().map(|(r, p)| r + p).fold(0.0, f64::max);
    let mut later_work = 0.0;
    let mut spread: f64 = 0.0;
    for (r, p) in jobs.iter().rev() {
        later_work += p;
        spread = spread.max(r + later_work / slots as f64);
    }
    each.max(spread)
}
