//! The simulated link's figures: one 1 MiB push over RFCOMM (stop-and-wait), over L2CAP ERTM
//! without SRM, and over L2CAP ERTM with Single Response Mode, each timed in virtual time from
//! OBEX CONNECT to the answer to DISCONNECT, with the OBEX packets and round trips it took.
//!
//! The link model ([`LinkModel`]) is the simulator's: rate, per-frame overhead and a one-way
//! latency; the figures say what SRM saves on that model, not on a given phone.

use crate::model::outcome::Outcome;
use crate::obex::{push_counted, serve, AcceptAll, Object, PushStats, ServerOptions, Transport};
use crate::radio::sim::{open_link, LinkModel};
use std::time::Duration;

/// The item's size.
pub const ITEM: usize = 1 << 20;

/// One push's figures.
pub struct Figures {
    pub elapsed: Duration,
    pub stats: PushStats,
}

/// The three ways to push, named as the figures print them.
fn cases(model: &LinkModel) -> [(&'static str, Transport, bool); 3] {
    [
        ("rfcomm", Transport::Rfcomm, false),
        ("l2cap_no_srm", model.l2cap(), false),
        ("l2cap_srm", model.l2cap(), true),
    ]
}

/// `o4send bench link`: prints the figures as name=value lines.
pub fn run() -> Result<(), String> {
    let model = LinkModel::default();
    println!("link_item_bytes={ITEM}");
    println!("link_rate_bytes_per_sec={}", model.rate);
    println!("link_latency_ms={}", model.latency.as_millis());
    for (name, transport, srm) in cases(&model) {
        let f = measure(&model, transport, srm)?;
        let secs = f.elapsed.as_secs_f64();
        println!("link_{name}_secs={secs:.3}");
        println!("link_{name}_bytes_per_sec={:.0}", ITEM as f64 / secs);
        println!("link_{name}_packet_size={}", f.stats.packet_size);
        println!("link_{name}_obex_packets={}", f.stats.packets);
        println!("link_{name}_put_packets={}", f.stats.put_packets);
        println!("link_{name}_round_trips={}", f.stats.round_trips);
        println!("link_{name}_bytes_written={}", f.stats.bytes);
    }
    Ok(())
}

/// Pushes the item once over a fresh simulated link, in virtual time.
pub fn measure(model: &LinkModel, transport: Transport, srm: bool) -> Result<Figures, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let body: Vec<u8> = (0..ITEM).map(|i| (i * 31 + i / 977) as u8).collect();
        let (ours, theirs) = open_link(model.air(transport, model.rate));
        let server_opts = ServerOptions {
            srm: transport.allows_srm(),
            ..ServerOptions::default()
        };
        let phone = tokio::spawn(async move { serve(theirs, &server_opts, &mut AcceptAll).await });
        let opts = crate::config::Config::default()
            .obex_options()
            .over(transport);
        let opts = crate::obex::PushOptions { srm, ..opts };
        let object = Object {
            name: "bench.bin",
            mime: "image/jpeg",
            body: &body,
        };
        let (_keep, mut cancel) = tokio::sync::watch::channel(false);
        let start = tokio::time::Instant::now();
        let (result, stats) = push_counted(ours, &object, &opts, &mut cancel).await;
        let elapsed = start.elapsed();
        if result.outcome != Outcome::Accepted {
            return Err(format!("bench link: push not accepted: {}", result.reason));
        }
        let received = phone.await.map_err(|e| e.to_string())?;
        let received = received.map_err(|e| e.to_string())?;
        if received.len() != 1 || received[0].body != body {
            return Err("bench link: the phone did not receive the item intact".into());
        }
        Ok(Figures { elapsed, stats })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts, not times: SRM takes the same packets with two PUT round trips.
    #[test]
    fn srm_saves_round_trips_not_packets() {
        let model = LinkModel::default();
        let plain = measure(&model, model.l2cap(), false).unwrap().stats;
        let srm = measure(&model, model.l2cap(), true).unwrap().stats;
        assert!(srm.srm && !plain.srm);
        assert_eq!(srm.put_packets, plain.put_packets);
        assert_eq!(srm.round_trips, 4);
        assert_eq!(plain.round_trips, plain.put_packets + 2);
        let rfcomm = measure(&model, Transport::Rfcomm, false).unwrap().stats;
        assert_eq!(rfcomm.packet_size, 0xFFFF);
        assert_eq!(srm.packet_size, model.l2cap_mtu);
    }
}
