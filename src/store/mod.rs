//! The appliance's memory: an SQLite file of who was seen, what was offered, how each phone
//! answered, and what happened to the daemon.
//!
//! It exists so that a phone is never asked twice for the same content (even across reboots
//! and power cuts), so operators can see how the week went (`o4send status`), and so a later
//! sync can copy the log to MySQL. Every other task talks to it through a cloneable [`Store`]
//! handle that queues records for one writer thread ([`writer`]); readers ([`Reader`]) get
//! their own read-only connections, which WAL mode lets run beside the writer.

mod accepted;
mod browse;
mod day;
mod error;
mod history;
mod ingest;
mod open;
mod outbox;
mod reader;
mod records;
mod report;
mod retention;
mod schema;
mod summary;
#[cfg(test)]
mod summary_tests;
mod tally;
pub mod visit_spool;
mod writer;

pub use accepted::Accepted;
pub use browse::{AttemptRow, EventRow, RecentDevice, VisitRow};
pub use day::{
    asked, DayFigures, HourFigures, Period, RunningDay, Split, DWELL_BUCKETS, PASSER_BY_SECS,
};
pub use error::{StoreError, StoreErrorKind};
pub use history::{DeviceHistory, ItemHistory};
pub use open::open_for;
pub use outbox::{
    marks, OutboxAttempt, OutboxEvent, OutboxSighting, OutboxWifi, SyncBacklog, SyncState,
};
pub use reader::{DeviceInfo, Reader};
pub use records::{
    AttemptRecord, EventRecord, FleetAnswer, FleetMark, Level, SightingRecord, SyncMark, WifiRecord,
};
pub use report::{Glance, ItemStatus, RadioStatus, StatusReport, WifiStatus, Window};
pub use retention::{Retention, RetentionStats};
pub use schema::SCHEMA_VERSION;
pub use summary::{bounds as day_bounds, hour_starts};
pub use tally::{Attempt, Tally, Visit};

use ingest::Context;
use records::Record;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use writer::{Op, Writer};

/// Creates the log file at `path` with the current schema (or migrates it), and nothing more:
/// for tools that fill a log in bulk (`o4send bench report`) through the real schema.
pub fn create(path: &Path) -> Result<(), StoreError> {
    schema::open_writer(path).map(drop)
}

/// How the store behaves; [`StoreOptions::new`] gives the defaults.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Written into every row (see [`crate::model::clock::Clock::boot_id`]).
    pub boot_id: Arc<str>,
    /// Sightings further apart than this start a new visit row.
    pub visit_gap: Duration,
    pub retention: Retention,
    /// The IANA zone whose local days the writer summarises (`appliance.time_zone`).
    pub time_zone: String,
    /// Capacity of the queue to the writer; senders wait when it is full.
    pub queue: usize,
    /// Most records in one transaction (while commits succeed).
    pub batch_max: usize,
    /// How the fleet names phones: readers made by [`Store::reader`] count the fleet's answers.
    pub phone_key: Option<crate::sync::pseudonym::PhoneKey>,
    /// For simulations on tokio's paused clock: wait out a full queue by yielding, which keeps
    /// the runtime busy, instead of parking, which would let the idle runtime move virtual time
    /// on while the writer thread does real I/O.
    pub hold_virtual_clock: bool,
    /// The writer thread's proof of life for the watchdog: beaten as each transaction starts,
    /// idle while there is nothing to write.
    pub writer_alive: crate::supervise::Heartbeat,
}

impl StoreOptions {
    pub fn new(boot_id: &str) -> Self {
        StoreOptions {
            boot_id: boot_id.into(),
            visit_gap: Duration::from_secs(5 * 60),
            retention: Retention::default(),
            time_zone: "UTC".into(),
            queue: 4096,
            batch_max: 1024,
            phone_key: None,
            hold_virtual_clock: false,
            writer_alive: crate::supervise::Heartbeat::unwatched(),
        }
    }
}

/// A handle to the database and its writer thread. Clones share the writer; the writer stops
/// when [`Store::close`] is called or when every handle has been dropped.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    tx: mpsc::Sender<Op>,
    hold_virtual_clock: bool,
    phone_key: Option<crate::sync::pseudonym::PhoneKey>,
    path: PathBuf,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Store {
    /// Opens (creating, migrating) the database, runs retention once and starts the writer.
    pub fn open(path: &Path, opts: StoreOptions) -> Result<Store, StoreError> {
        let mut conn = schema::open_writer(path)?;
        writer::retain_at_open(&mut conn, path, &opts.retention);
        let days = summary::Days::new(&opts.time_zone);
        summary::prepare(&conn, &days).map_err(|e| {
            StoreError::sqlite(format_args!("cannot summarise {}", path.display()), &e)
        })?;
        let ctx = Context {
            boot_id: opts.boot_id.clone(),
            visit_gap_ms: i64::try_from(opts.visit_gap.as_millis()).unwrap_or(i64::MAX),
            days,
        };
        let writer = Writer::new(
            conn,
            path.to_path_buf(),
            ctx,
            opts.retention.clone(),
            opts.batch_max,
            opts.writer_alive.clone(),
        );
        let (tx, rx) = mpsc::channel(opts.queue.max(1));
        let thread = std::thread::Builder::new()
            .name("o4send-store".into())
            .spawn(move || writer.run(rx))
            .map_err(|e| {
                StoreError::new(
                    StoreErrorKind::Other,
                    format!("cannot start the writer for {}: {e}", path.display()),
                )
            })?;
        Ok(Store {
            inner: Arc::new(Inner {
                tx,
                hold_virtual_clock: opts.hold_virtual_clock,
                phone_key: opts.phone_key,
                path: path.to_path_buf(),
                thread: Mutex::new(Some(thread)),
            }),
        })
    }

    /// Queues a sighting; waits while the queue is full.
    pub async fn sighting(&self, r: SightingRecord) {
        self.record(Record::Sighting(r)).await;
    }

    /// Queues a finished attempt; waits while the queue is full.
    pub async fn attempt(&self, r: AttemptRecord) {
        self.record(Record::Attempt(r)).await;
    }

    /// Queues an event; waits while the queue is full.
    pub async fn event(&self, r: EventRecord) {
        self.record(Record::Event(r)).await;
    }

    /// Writes sync watermarks (each only moves forward) and waits for their commit.
    pub async fn sync_marks(&self, marks: Vec<SyncMark>) -> Result<(), StoreError> {
        self.record(Record::Marks(marks)).await;
        self.flush().await
    }

    /// Writes answers downloaded from the fleet, with the marks past them, in one transaction,
    /// and waits for its commit.
    pub async fn fleet_answers(
        &self,
        answers: Vec<FleetAnswer>,
        marks: Vec<FleetMark>,
    ) -> Result<(), StoreError> {
        if !answers.is_empty() || !marks.is_empty() {
            self.record(Record::FleetAnswers(answers, marks)).await;
        }
        self.flush().await
    }

    /// Writes what visitors did on the hotspot's page and waits for the commit.
    pub async fn wifi_events(&self, events: Vec<WifiRecord>) -> Result<(), StoreError> {
        if !events.is_empty() {
            self.record(Record::Wifi(events)).await;
        }
        self.flush().await
    }

    async fn record(&self, r: Record) {
        let kind = r.kind();
        let op = Op::Record(Box::new(r));
        let sent = if self.inner.hold_virtual_clock {
            self.send_holding_clock(op).await
        } else {
            self.inner.tx.send(op).await.map_err(|_| ())
        };
        if sent.is_err() {
            tracing::warn!(
                "{}: store closed, a {kind} record was dropped",
                self.path().display()
            );
        }
    }

    async fn send_holding_clock(&self, mut op: Op) -> Result<(), ()> {
        loop {
            match self.inner.tx.try_send(op) {
                Ok(()) => return Ok(()),
                Err(mpsc::error::TrySendError::Full(back)) => op = back,
                Err(mpsc::error::TrySendError::Closed(_)) => return Err(()),
            }
            tokio::task::yield_now().await;
        }
    }

    /// Resolves once everything queued before it is committed, or with the write error when
    /// commits keep failing (the records stay queued and are retried).
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.ask(Op::Flush).await
    }

    /// Runs retention now (it also runs at open and hourly); says what it removed.
    pub async fn retain(&self) -> Result<RetentionStats, StoreError> {
        self.ask(Op::Retain).await
    }

    /// Flushes, stops the writer and waits for its thread. Closing twice is harmless.
    pub async fn close(&self) -> Result<(), StoreError> {
        let result = match self.ask(Op::Close).await {
            Err(e) if e.kind() == StoreErrorKind::Closed => Ok(()),
            other => other,
        };
        self.join().await?;
        result
    }

    async fn ask<T>(&self, op: impl FnOnce(writer::Reply<T>) -> Op) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        if self.inner.tx.send(op(reply)).await.is_err() {
            return Err(StoreError::closed(self.path()));
        }
        answer
            .await
            .unwrap_or_else(|_| Err(StoreError::closed(self.path())))
    }

    async fn join(&self) -> Result<(), StoreError> {
        let thread = match self.inner.thread.lock() {
            Ok(mut slot) => slot.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        let Some(thread) = thread else {
            return Ok(());
        };
        let joined = tokio::task::spawn_blocking(move || thread.join()).await;
        match joined {
            Ok(Ok(())) => Ok(()),
            _ => Err(StoreError::new(
                StoreErrorKind::Other,
                format!(
                    "the writer for {} stopped abnormally",
                    self.path().display()
                ),
            )),
        }
    }

    /// A new read-only connection to the same file (counting the fleet's answers when the
    /// store was opened with a phone key).
    pub fn reader(&self) -> Result<Reader, StoreError> {
        Ok(Reader::open(self.path())?.with_phone_key(self.inner.phone_key.clone()))
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Tests only: limits the file to `pages` pages, as a full disk would.
    #[cfg(test)]
    pub(crate) async fn set_max_pages(&self, pages: u32) {
        let _ = self.inner.tx.send(Op::MaxPages(pages)).await;
    }
}

#[cfg(test)]
mod full_disk_tests;
