//! One push attempt, start to end: connect to the phone's Object Push service, run the OBEX
//! client, record the outcome in the store, report it to the core. Cancellation (shutdown past
//! the grace period) aborts the OBEX exchange; the attempt is still recorded.
//!
//! While it talks to the phone the worker holds a heartbeat: every byte moved is progress, and a
//! worker silent for longer than any of its OBEX steps may take ([`stall_limit`]) is hung.

use crate::model::clock::Clock;
use crate::model::outcome::{AttemptResult, Outcome};
use crate::obex::{self, Object, PushOptions};
use crate::policy::Job;
use crate::radio::Radio;
use crate::store::{AttemptRecord, Store};
use crate::supervise::{Beating, Heartbeat};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// What the core hears back.
pub(super) struct Done {
    pub job: Job,
    pub adapter: usize,
    pub outcome: Outcome,
}

/// Where a push runs and with what.
pub(super) struct Slot {
    pub radio: Arc<dyn Radio>,
    pub adapter: usize,
    pub opts: PushOptions,
    pub clock: Clock,
    pub store: Store,
    pub cancel: watch::Receiver<bool>,
    pub done: mpsc::Sender<Done>,
}

/// Added to each step's own limit: what the radio stack adds (handing over the socket,
/// cancelling a page) and timer slack.
const STACK_SLACK: Duration = Duration::from_secs(10);

/// The longest a push may go without progress before it counts as hung. Connection set-ups run
/// one at a time per radio, so a push may wait for every other slot's set-up before its own;
/// after that each OBEX step is bounded by the decision or the packet timeout.
pub(super) fn stall_limit(opts: &PushOptions, slots: usize) -> Duration {
    let slots = u32::try_from(slots.max(1)).unwrap_or(u32::MAX);
    let connecting = (opts.connect_timeout + STACK_SLACK).saturating_mul(slots);
    let step = opts.decision_timeout.max(opts.packet_timeout) + STACK_SLACK;
    connecting.max(step)
}

/// Runs one attempt; `alive` is dropped (no longer watched) once the phone is done with.
pub(super) async fn attempt(mut slot: Slot, job: Job, alive: Heartbeat) {
    let started = slot.clock.stamp();
    tracing::debug!(addr = %job.addr, item = %job.item.name, radio = %slot.radio.id(), "push started");
    let mut result = connect_and_push(&slot.radio, &job, &slot.opts, &mut slot.cancel, alive).await;
    if result.outcome == Outcome::NoOpp && job.opp_proven {
        result.outcome = Outcome::Failed;
        result.reason = format!(
            "{} (but this phone has answered Object Push before: retried, not marked no_opp)",
            result.reason
        );
    }
    let record = AttemptRecord {
        addr: job.addr,
        item_hash: job.item.sha256.clone(),
        item_md5: job.item.md5.clone(),
        item_name: job.item.name.clone(),
        campaign: job.campaign.to_string(),
        radio: slot.radio.id(),
        started,
        ended: slot.clock.stamp(),
        outcome: result.outcome,
        raw_code: result.raw_code,
        reason: result.reason,
        bytes: result.bytes,
    };
    tracing::debug!(addr = %job.addr, item = %job.item.name, outcome = %record.outcome, "{}", record.reason);
    slot.store.attempt(record).await;
    let _ = slot
        .done
        .send(Done {
            job,
            adapter: slot.adapter,
            outcome: result.outcome,
        })
        .await;
}

async fn connect_and_push(
    radio: &Arc<dyn Radio>,
    job: &Job,
    opts: &PushOptions,
    cancel: &mut watch::Receiver<bool>,
    alive: Heartbeat,
) -> AttemptResult {
    let connect = radio.connect_opp(job.addr, opts.connect_timeout);
    let link = tokio::select! {
        biased;
        r = connect => match r {
            Err(result) => return result,
            Ok(link) => link,
        },
        _ = cancelled(cancel) => return AttemptResult::new(Outcome::Failed, None, "aborted: shutting down", 0),
    };
    let opts = opts.over(link.transport);
    let stream = Beating::new(link.stream, alive);
    // From here the OBEX client watches `cancel` itself, so that it can send ABORT.
    let object = Object {
        name: &job.item.name,
        mime: &job.item.mime,
        body: &job.item.body,
    };
    let (result, stats) = obex::push_counted(stream, &object, &opts, cancel).await;
    tracing::debug!(
        addr = %job.addr,
        transport = link.transport.name(),
        srm = stats.srm,
        packet_size = stats.packet_size,
        obex_packets = stats.packets,
        round_trips = stats.round_trips,
        "link"
    );
    result
}

/// Resolves once the value turns true; never, if the sender is gone without that.
async fn cancelled(rx: &mut watch::Receiver<bool>) {
    loop {
        if *rx.borrow() {
            return;
        }
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
