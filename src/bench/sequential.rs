//! The 2011 way, as the perl o4send did it: one full inquiry (`hcitool scan`), then each new
//! device in turn — `sdptool` finds its OPP channel, `obexftp` pushes and waits for the answer —
//! then scan again. Run on the same simulated hall with the same OBEX client and the same
//! timeouts, in virtual time; the only extra cost modelled is that `sdptool` and `obexftp` each
//! paged the phone, so a device costs one more connection set-up than it costs us.

use crate::config::SimConfig;
use crate::model::outcome::Outcome;
use crate::obex::{self, Object};
use crate::radio::sim::{LinkModel, World};
use crate::radio::{Radio, Sightings};
use crate::supervise::Heartbeat;
use std::collections::HashSet;

/// Seconds until every phone accepted.
pub fn makespan(sim: &SimConfig) -> Result<f64, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let world = World::with_phones(crate::radio::sim::generate(sim), LinkModel::default());
        let radio = world.radio("seq0");
        let campaign = super::campaign();
        let item = &campaign.items[0];
        let object = Object {
            name: &item.name,
            mime: &item.mime,
            body: &item.body,
        };
        let opts = crate::config::Config::default().obex_options();
        let (_keep, mut cancel) = tokio::sync::watch::channel(false);
        let mut served = HashSet::new();
        while served.len() < sim.phones && world.elapsed() < super::VIRTUAL_LIMIT {
            for addr in inquiry(&radio, &world).await {
                if served.contains(&addr) {
                    continue;
                }
                tokio::time::sleep(world.link.connect).await; // sdptool's own page and SDP query
                let result = match radio.connect_opp(addr, opts.connect_timeout).await {
                    Ok(link) => {
                        let opts = opts.over(link.transport);
                        obex::push(link.stream, &object, &opts, &mut cancel).await
                    }
                    Err(r) => r,
                };
                if result.outcome == Outcome::Accepted {
                    served.insert(addr);
                }
            }
        }
        Ok(world.elapsed().as_secs_f64())
    })
}

/// One full inquiry; the devices in the order they answered.
async fn inquiry(
    radio: &crate::radio::sim::SimRadio,
    world: &World,
) -> Vec<crate::model::device::BdAddr> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(100_000);
    let _ = tokio::time::timeout(
        world.link.inquiry,
        radio.discover(Sightings::new(tx, Heartbeat::unwatched())),
    )
    .await;
    let mut found = Vec::new();
    while let Ok(s) = rx.try_recv() {
        if !found.contains(&s.addr) {
            found.push(s.addr);
        }
    }
    found
}
