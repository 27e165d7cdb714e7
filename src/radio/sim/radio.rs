//! A simulated controller: inquiry rounds that report the phones present, and paging that
//! succeeds, fails or is refused as each phone's behaviour says. A radio that both scans and
//! pushes holds back inquiry results while it pages, as the BlueZ backend stops inquiry then.

use super::phone;
use super::population::{Behaviour, GoepL2cap, Phone};
use super::rng::mix;
use super::world::World;
use crate::model::device::{device_name, BdAddr};
use crate::model::outcome::{AttemptResult, Outcome};
use crate::obex::Transport;
use crate::radio::{BoxFuture, Closed, OppLink, Radio, RadioError, Sighting, Sightings};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub struct SimRadio {
    id: Arc<str>,
    world: Arc<World>,
    paging: Arc<AtomicUsize>,
}

impl SimRadio {
    pub fn new(id: &str, world: Arc<World>) -> SimRadio {
        SimRadio {
            id: id.into(),
            world,
            paging: Arc::new(AtomicUsize::new(0)),
        }
    }

    async fn inquiry_round(&self, round: u64, out: &Sightings) -> Result<(), Closed> {
        let link = &self.world.link;
        let t0 = self.world.elapsed();
        let mut answers: Vec<(Duration, usize)> = self
            .world
            .phones()
            .iter()
            .filter(|p| p.arrive < t0 + link.inquiry && p.leaves() > t0)
            .map(|p| {
                let jitter = mix(p.index as u64, round) % link.answer_within.as_millis() as u64;
                (p.arrive.max(t0) + Duration::from_millis(jitter), p.index)
            })
            .filter(|(at, _)| *at < t0 + link.inquiry)
            .collect();
        answers.sort();
        for (at, index) in answers {
            self.sleep_until(at).await;
            self.wait_while_paging(out).await;
            let phone = &self.world.phones()[index];
            if !phone.present_at(self.world.elapsed()) {
                continue;
            }
            let rssi = phone.rssi + (mix(index as u64, round ^ 0xAB) % 5) as i16 - 2;
            let s = Sighting {
                addr: phone.addr,
                name: device_name(&phone.name),
                class: phone.class,
                rssi: Some(rssi),
                radio: self.id.clone(),
                opp_advertised: Some(phone.behaviour != Behaviour::NoOpp),
            };
            out.send(s).await?;
        }
        self.sleep_until(t0 + link.inquiry).await;
        out.alive();
        Ok(())
    }

    async fn sleep_until(&self, t: Duration) {
        tokio::time::sleep_until(self.world.start() + t).await;
    }

    async fn wait_while_paging(&self, out: &Sightings) {
        if self.paging.load(Ordering::Relaxed) == 0 {
            return;
        }
        out.paused();
        while self.paging.load(Ordering::Relaxed) > 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        out.alive();
    }

    async fn page(&self, addr: BdAddr) -> Result<OppLink, AttemptResult> {
        let link = self.world.link.clone();
        let unreachable = |why: &str| AttemptResult::new(Outcome::Unreachable, None, why, 0);
        let Some(phone) = self.world.phone(addr).cloned() else {
            tokio::time::sleep(link.page_timeout).await;
            return Err(unreachable("page timeout (no such device)"));
        };
        let attempt = self.world.note_connect(phone.index);
        if phone.behaviour == Behaviour::OutOfRange
            || !phone.present_at(self.world.elapsed() + link.connect)
        {
            tokio::time::sleep(link.page_timeout).await;
            return Err(unreachable("page timeout"));
        }
        tokio::time::sleep(link.connect).await;
        match phone.behaviour {
            Behaviour::NoOpp => Err(AttemptResult::new(
                Outcome::NoOpp,
                None,
                "no Object Push (0x1105) record in SDP",
                0,
            )),
            Behaviour::RefuseConnection => Err(AttemptResult::new(
                Outcome::Declined,
                None,
                "RFCOMM connection refused",
                0,
            )),
            behaviour => {
                let rate = if matches!(behaviour, Behaviour::SlowLink { .. }) {
                    link.slow_rate
                } else {
                    link.rate
                };
                let transport = self.transport_to(&phone).await;
                let (ours, theirs) = super::open_link(link.air(transport, rate));
                tokio::spawn(phone::answer(
                    self.world.clone(),
                    phone,
                    attempt,
                    theirs,
                    transport,
                ));
                Ok(OppLink {
                    stream: Box::new(ours),
                    transport,
                })
            }
        }
    }

    /// L2CAP ERTM where the phone's record offers a PSM and the channel opens, RFCOMM otherwise.
    async fn transport_to(&self, phone: &Phone) -> Transport {
        match phone.l2cap() {
            GoepL2cap::Offered => self.world.link.l2cap(),
            GoepL2cap::NotOffered => Transport::Rfcomm,
            GoepL2cap::Refused => {
                tokio::time::sleep(self.world.link.l2cap_refusal).await;
                Transport::Rfcomm
            }
        }
    }
}

/// Counts a page in progress for as long as it lives.
struct Paging(Arc<AtomicUsize>);

impl Drop for Paging {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Radio for SimRadio {
    fn id(&self) -> Arc<str> {
        self.id.clone()
    }

    fn set_alias<'a>(&'a self, _alias: &'a str) -> BoxFuture<'a, Result<(), RadioError>> {
        Box::pin(async { Ok(()) })
    }

    fn discover(&self, out: Sightings) -> BoxFuture<'_, Result<(), RadioError>> {
        Box::pin(async move {
            for round in 0.. {
                if self.inquiry_round(round, &out).await.is_err() {
                    break;
                }
            }
            Ok(())
        })
    }

    fn connect_opp(
        &self,
        addr: BdAddr,
        limit: Duration,
    ) -> BoxFuture<'_, Result<OppLink, AttemptResult>> {
        Box::pin(async move {
            self.paging.fetch_add(1, Ordering::Relaxed);
            let _paging = Paging(self.paging.clone());
            tokio::time::timeout(limit, self.page(addr))
                .await
                .unwrap_or_else(|_| Err(crate::radio::timed_out(limit)))
        })
    }

    fn forget(&self, _addr: BdAddr) -> BoxFuture<'_, ()> {
        Box::pin(async move { self.world.note_forgotten() })
    }
}
