//! One push attempt, start to end: connect to the phone's Object Push service, run the OBEX
//! client, record the outcome in the store, report it to the core. Cancellation (shutdown past
//! the grace period) aborts the OBEX exchange; the attempt is still recorded.

use crate::clock::Clock;
use crate::obex::{self, Object, PushOptions};
use crate::outcome::{AttemptResult, Outcome};
use crate::policy::Job;
use crate::radio::Radio;
use crate::store::{AttemptRecord, Store};
use std::sync::Arc;
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

pub(super) async fn attempt(mut slot: Slot, job: Job) {
    let started = slot.clock.stamp();
    let result = connect_and_push(&slot.radio, &job, &slot.opts, &mut slot.cancel).await;
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
) -> AttemptResult {
    let connect = radio.connect_opp(job.addr, opts.connect_timeout);
    let stream = tokio::select! {
        biased;
        r = connect => match r {
            Err(result) => return result,
            Ok(stream) => stream,
        },
        _ = cancelled(cancel) => return AttemptResult::new(Outcome::Failed, None, "aborted: shutting down", 0),
    };
    // From here the OBEX client watches `cancel` itself, so that it can send ABORT.
    let object = Object {
        name: &job.item.name,
        mime: &job.item.mime,
        body: &job.item.body,
    };
    obex::push(stream, &object, opts, cancel).await
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
