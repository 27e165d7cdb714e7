//! The core task: the only place decisions are taken. It owns the policy, the per-radio slot
//! counters and the queue of devices waiting for a slot, and reacts to four things: a sighting,
//! an attempt's end, a tick (retries due, devices to forget) and an order from outside.

use super::push::{self, Done, Slot};
use super::{outcome_index, scan, Control, EngineError, Parts, Progress};
use crate::config::Config;
use crate::content::Campaign;
use crate::model::clock::Clock;
use crate::model::device::BdAddr;
use crate::obex::PushOptions;
use crate::policy::{Now, Policy, Seen};
use crate::radio::{Adapter, Sighting, Sightings};
use crate::store::{EventRecord, Level, Reader, SightingRecord, Store};
use crate::supervise::Health;
use crate::sync::pseudonym::PhoneKey;
use jiff::tz::TimeZone;
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// How often retries and forgetting are looked at.
const TICK: Duration = Duration::from_secs(1);
/// Sightings waiting for the core.
const SIGHTING_QUEUE: usize = 256;
/// How often the fleet's accepted answers are counted again for the caps (the sync writes them).
const CAP_COUNT_EVERY: Duration = Duration::from_secs(15);

pub(super) struct Core {
    cfg: Config,
    policy: Policy,
    campaign: Arc<Campaign>,
    reader: Reader,
    store: Store,
    clock: Clock,
    health: Health,
    adapters: Vec<Adapter>,
    queue: VecDeque<BdAddr>,
    queued: HashSet<BdAddr>,
    opts: PushOptions,
    start: Instant,
    progress: Progress,
    published: watch::Sender<Progress>,
    done_tx: mpsc::Sender<Done>,
    done_rx: mpsc::Receiver<Done>,
    cancel: watch::Sender<bool>,
    /// When the caps' counts were last read from the log (monotonic ms).
    counted_ms: Option<u64>,
}

fn time_zone(cfg: &Config) -> TimeZone {
    TimeZone::get(&cfg.appliance.time_zone).unwrap_or(TimeZone::UTC)
}

impl Core {
    pub fn start(parts: Parts, published: watch::Sender<Progress>) -> Result<Core, EngineError> {
        let reader = parts
            .store
            .reader()
            .map_err(|e| EngineError(format!("cannot read the log: {e}")))?;
        let forget_after = Duration::from_secs(parts.cfg.engine.forget_after_secs);
        let phone_key = PhoneKey::for_sync(&parts.cfg.sync).unwrap_or(PhoneKey::Raw);
        let policy = Policy::new(
            &parts.cfg.policy,
            time_zone(&parts.cfg),
            parts.campaign.clone(),
            forget_after,
        )
        .with_phone_key(phone_key);
        let slots: usize = parts
            .adapters
            .iter()
            .filter(|a| a.role.pushes())
            .map(|a| a.slots)
            .sum();
        let (done_tx, done_rx) = mpsc::channel(slots.max(1) * 2);
        let progress = Progress {
            busy: vec![0; parts.adapters.len()],
            campaign: parts.campaign.clone(),
            allow: parts.cfg.policy.allow.clone().into(),
            deny: parts.cfg.policy.deny.clone().into(),
            ..Progress::default()
        };
        Ok(Core {
            opts: parts.cfg.obex_options(),
            cfg: parts.cfg,
            policy,
            campaign: parts.campaign,
            reader,
            store: parts.store,
            clock: parts.clock,
            health: parts.health,
            adapters: parts.adapters,
            queue: VecDeque::new(),
            queued: HashSet::new(),
            start: Instant::now(),
            progress,
            published,
            done_tx,
            done_rx,
            cancel: watch::channel(false).0,
            counted_ms: None,
        })
    }

    pub async fn run(
        mut self,
        mut control: mpsc::Receiver<Control>,
    ) -> Result<Progress, EngineError> {
        let (sight_tx, mut sight_rx) = mpsc::channel(SIGHTING_QUEUE);
        self.count_caps(self.now()); // before the first push: a capped item may be full
        let scanners = self.start_scanners(sight_tx);
        self.set_alias();
        self.event(
            Level::Info,
            "start",
            format!("{} radio(s)", self.adapters.len()),
        )
        .await;
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let alive = self.health.register("engine core loop", self.stall_limit());
        loop {
            alive.beat();
            #[cfg(feature = "fault-injection")]
            crate::fault::core_point().await;
            tokio::select! {
                biased;
                order = control.recv() => match order {
                    Some(Control::Reload { cfg, campaign }) => self.reload(*cfg, campaign).await,
                    Some(Control::Shutdown) | None => break,
                },
                Some(done) = self.done_rx.recv() => self.finished(done),
                Some(s) = sight_rx.recv() => self.sighting(s).await,
                _ = tick.tick() => self.tick(),
            }
            self.dispatch();
            self.publish();
        }
        drop(alive); // the shutdown below has its own time limit
        for s in &scanners {
            s.abort();
        }
        self.shutdown().await;
        Ok(self.progress)
    }

    /// The core turns at least every [`TICK`]; only waiting for room in the log queue may hold it
    /// longer, for as long as the store writer may be busy on one transaction. Past that plus a
    /// scan loop's limit it is hung (a D-Bus call that never returns, a lock never released):
    /// sightings pile up unheard while every other loop looks healthy.
    fn stall_limit(&self) -> Duration {
        self.cfg.watchdog.writer_stall() + self.cfg.watchdog.scan_stall()
    }

    fn start_scanners(&self, tx: mpsc::Sender<Sighting>) -> Vec<JoinHandle<()>> {
        let scanning = self.adapters.iter().filter(|a| a.role.scans());
        let limit = self.cfg.watchdog.scan_stall();
        let task = |a: &Adapter| {
            let alive = self
                .health
                .register(format!("scan loop on {}", a.radio.id()), limit);
            scan::scan(
                a.radio.clone(),
                Sightings::new(tx.clone(), alive),
                self.store.clone(),
                self.clock.clone(),
            )
        };
        scanning.map(|a| tokio::spawn(task(a))).collect()
    }

    fn now(&self) -> Now {
        Now {
            mono_ms: self.start.elapsed().as_millis() as u64,
            wall_ms: self.clock.now_ms(),
        }
    }

    async fn sighting(&mut self, s: Sighting) {
        tracing::debug!(addr = %s.addr, rssi = ?s.rssi, radio = %s.radio, "sighting");
        self.progress.sightings += 1;
        self.progress.last_sighting_at = Some(self.clock.now_ms());
        if self.policy.is_denied(s.addr) {
            return; // opted out: not contacted, not logged
        }
        let at = self.clock.stamp();
        let name = s.name.clone();
        let record = SightingRecord {
            addr: s.addr,
            name: s.name,
            class: s.class.0,
            rssi: s.rssi,
            radio: s.radio,
            at,
        };
        self.store.sighting(record).await;
        let now = self.now();
        if self.policy.seen(
            &Seen {
                addr: s.addr,
                class: s.class,
                rssi: s.rssi,
                name: Some(name.as_str()),
            },
            now,
        ) {
            self.learn(s.addr, now);
        }
        // bluetoothd re-creates a handled phone on every inquiry result: drop it again.
        if self.policy.take_forget(s.addr, now) {
            self.forget(s.addr);
            return;
        }
        self.enqueue(s.addr);
    }

    fn enqueue(&mut self, addr: BdAddr) {
        if self.queued.insert(addr) {
            self.queue.push_back(addr);
        }
    }

    /// Fills free slots from the queue, first come first served.
    fn dispatch(&mut self) {
        while let Some(adapter) = self.free_adapter() {
            let Some(addr) = self.queue.pop_front() else {
                return;
            };
            self.queued.remove(&addr);
            match self.policy.next_job(addr, self.now()) {
                Ok(job) => self.launch(adapter, job),
                Err(skip) => tracing::debug!(%addr, ?skip, "nothing to push now"),
            }
        }
    }

    /// The pushing radio with the most free slots.
    fn free_adapter(&self) -> Option<usize> {
        let free = |i: usize| self.adapters[i].slots.saturating_sub(self.progress.busy[i]);
        (0..self.adapters.len())
            .filter(|i| self.adapters[*i].role.pushes() && free(*i) > 0)
            .max_by_key(|i| (free(*i), std::cmp::Reverse(*i)))
    }

    fn launch(&mut self, adapter: usize, job: crate::policy::Job) {
        self.progress.busy[adapter] += 1;
        self.progress.in_flight += 1;
        self.progress.peak_in_flight = self.progress.peak_in_flight.max(self.progress.in_flight);
        let radio = &self.adapters[adapter];
        let alive = self.health.register(
            format!("push worker {} -> {}", radio.radio.id(), job.addr),
            push::stall_limit(&self.opts, radio.slots),
        );
        let slot = Slot {
            radio: radio.radio.clone(),
            adapter,
            opts: self.opts.clone(),
            clock: self.clock.clone(),
            store: self.store.clone(),
            cancel: self.cancel.subscribe(),
            done: self.done_tx.clone(),
        };
        tokio::spawn(push::attempt(slot, job, alive));
    }

    fn finished(&mut self, done: Done) {
        self.progress.busy[done.adapter] -= 1;
        self.progress.last_end_at = Some(self.clock.now_ms());
        self.progress.in_flight -= 1;
        self.progress.attempts += 1;
        self.progress.by_outcome[outcome_index(done.outcome)] += 1;
        self.progress.last_end_ms = self.start.elapsed().as_millis() as u64;
        let now = self.now();
        let addr = done.job.addr;
        self.policy
            .finished(addr, &done.job.item.sha256, done.outcome, now);
        if self.policy.take_forget(addr, now) {
            self.forget(addr);
        } else {
            self.enqueue(addr);
        }
    }

    /// Tells every radio to drop the device (bluetoothd keeps every device it ever connected).
    fn forget(&mut self, addr: BdAddr) {
        self.progress.forgotten += 1;
        for a in &self.adapters {
            let radio = a.radio.clone();
            tokio::spawn(async move { radio.forget(addr).await });
        }
    }

    fn tick(&mut self) {
        let now = self.now();
        self.count_caps(now);
        self.progress.caps = self.policy.cap_states(now);
        self.progress.holds = self.policy.holds();
        for addr in self.policy.due(now) {
            self.enqueue(addr);
        }
        for addr in self.policy.evict(now) {
            self.forget(addr);
        }
        self.progress.tracked = self.policy.tracked();
    }

    /// No waiting on the store here: the policy carries what it knows across the swap.
    async fn reload(&mut self, cfg: Config, campaign: Arc<Campaign>) {
        self.policy
            .reload(&cfg.policy, time_zone(&cfg), campaign.clone());
        self.opts = cfg.obex_options();
        self.progress.campaign = campaign.clone();
        self.progress.allow = cfg.policy.allow.clone().into();
        self.progress.deny = cfg.policy.deny.clone().into();
        self.cfg = cfg;
        self.campaign = campaign.clone();
        self.counted_ms = None;
        self.count_caps(self.now());
        self.set_alias();
        let message = format!(
            "campaign {:?}, {} item(s)",
            campaign.name,
            campaign.items.len()
        );
        self.event(Level::Info, "reload", message).await;
        let queued: Vec<BdAddr> = self.queue.drain(..).collect();
        self.queued.clear();
        for addr in queued {
            self.relearn(addr);
        }
    }

    /// Phones show the radio's alias as the sender: the campaign's sender name. Set in the
    /// background: bluetoothd may take as long as bluer's D-Bus timeout (120 s) to answer, and the
    /// core must not stop turning meanwhile (sightings and finished pushes would wait unheard). A
    /// BlueZ radio applies its latest alias again whenever its discovery restarts.
    fn set_alias(&self) {
        for a in &self.adapters {
            let radio = a.radio.clone();
            let name = self.campaign.sender_name.clone();
            tokio::spawn(async move {
                if let Err(e) = radio.set_alias(&name).await {
                    tracing::warn!(radio = %radio.id(), "cannot set the sender name: {e}");
                }
            });
        }
    }

    fn relearn(&mut self, addr: BdAddr) {
        if self.policy.needs_history(addr) {
            let now = self.now();
            self.learn(addr, now);
        }
        self.enqueue(addr);
    }

    /// Reads the accepted answers behind the caps from the log: at the start, for a new
    /// campaign, then every [`CAP_COUNT_EVERY`] for what the sync brought from the fleet.
    fn count_caps(&mut self, now: Now) {
        let due = self
            .counted_ms
            .is_none_or(|t| now.mono_ms >= t + CAP_COUNT_EVERY.as_millis() as u64);
        let hashes = self.policy.capped_hashes();
        if !due || hashes.is_empty() {
            return;
        }
        // The policy takes the log's count of this appliance's answers only for an item it has
        // none for (it counts its own after that); the fleet's every time, as the sync brings them.
        match self.reader.accepted(&hashes, self.policy.day_start_ms(now)) {
            Ok((local, fleet)) => {
                self.policy.learn_counts(local, fleet, now);
                self.counted_ms = Some(now.mono_ms);
            }
            Err(e) => tracing::error!("cannot count accepted answers for the caps: {e}"),
        }
    }

    /// Hands the policy what the log knows of a device; without it the device gets nothing.
    fn learn(&mut self, addr: BdAddr, now: Now) {
        match self.reader.device_history(addr) {
            Ok(history) => self.policy.learn(addr, &history, now),
            Err(e) => tracing::error!(%addr, "cannot read history, not pushing to it: {e}"),
        }
    }

    /// In-flight pushes get the grace period, then are aborted; every one is recorded.
    async fn shutdown(&mut self) {
        let grace = Duration::from_secs(self.cfg.engine.shutdown_grace_secs);
        self.drain_until(Instant::now() + grace).await;
        if self.progress.in_flight > 0 {
            tracing::info!(
                "aborting {} push(es) still in flight",
                self.progress.in_flight
            );
            self.cancel.send_replace(true);
            let abort_time = self.opts.packet_timeout * 2 + Duration::from_secs(5);
            self.drain_until(Instant::now() + abort_time).await;
        }
        if self.progress.in_flight > 0 {
            tracing::error!(
                "{} push(es) did not end after ABORT",
                self.progress.in_flight
            );
        }
        self.publish();
        let message = format!("{} attempt(s) this run", self.progress.attempts);
        self.event(Level::Info, "stop", message).await;
        if let Err(e) = self.store.flush().await {
            tracing::error!("flushing the log at shutdown: {e}");
        }
    }

    async fn drain_until(&mut self, deadline: Instant) {
        while self.progress.in_flight > 0 {
            tokio::select! {
                Some(done) = self.done_rx.recv() => self.finished(done),
                _ = tokio::time::sleep_until(deadline) => return,
            }
        }
    }

    fn publish(&self) {
        self.published.send_replace(self.progress.clone());
    }

    async fn event(&self, level: Level, kind: &str, message: String) {
        let record = EventRecord {
            at: self.clock.stamp(),
            level,
            kind: kind.into(),
            message,
        };
        self.store.event(record).await;
    }
}
