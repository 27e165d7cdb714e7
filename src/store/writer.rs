//! The one thread that writes the database.
//!
//! SQLite allows one writer at a time, and on an SD card each commit costs an fsync; so one
//! std thread owns the read-write connection and commits whatever piled up during the previous
//! commit as a single transaction (natural batching: the busier the booth, the bigger the
//! batches, the cheaper each record). Flush waiters are answered only after the commit that
//! holds everything they were queued behind.
//!
//! A failed commit (disk full, I/O error) loses nothing: the batch is kept, retention runs to
//! free space, and the commit is retried with back-off while new records keep joining the
//! batch up to a bound; past that bound the queue fills and producers wait.

use super::error::{is_disk_full, StoreError};
use super::ingest::{self, Context};
use super::records::Record;
use super::retention::{self, Retention, RetentionStats};
use crate::supervise::Heartbeat;
use rusqlite::Connection;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// How often retention runs while the daemon is up.
const RETENTION_EVERY: Duration = Duration::from_secs(60 * 60);
/// While commits fail, a batch may grow to this many times `batch_max` records.
const MAX_PENDING_BATCHES: usize = 8;
/// Failed tries after which waiters hear about the failure (the records stay queued).
const TELL_WAITERS_AFTER: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

pub(crate) type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// What a [`super::Store`] handle sends to the writer.
pub(crate) enum Op {
    /// Boxed: the queue's slots stay small when a burst has come and gone.
    Record(Box<Record>),
    Flush(Reply<()>),
    Retain(Reply<RetentionStats>),
    Close(Reply<()>),
    /// Tests only: `PRAGMA max_page_count` on the writer's connection, to fake a full disk.
    #[cfg(test)]
    MaxPages(u32),
}

/// Records and waiters gathered for one transaction.
#[derive(Default)]
struct Batch {
    records: Vec<Record>,
    flushes: Vec<Reply<()>>,
    retains: Vec<Reply<RetentionStats>>,
    closes: Vec<Reply<()>>,
    /// Failed commits of these records so far.
    failures: u32,
}

impl Batch {
    fn is_idle(&self) -> bool {
        self.records.is_empty()
            && self.flushes.is_empty()
            && self.retains.is_empty()
            && self.closes.is_empty()
    }
}

pub(crate) struct Writer {
    conn: Connection,
    path: PathBuf,
    ctx: Context,
    retention: Retention,
    batch_max: usize,
    last_retention: Instant,
    closing: bool,
    alive: Heartbeat,
}

impl Writer {
    pub(crate) fn new(
        conn: Connection,
        path: PathBuf,
        ctx: Context,
        retention: Retention,
        batch_max: usize,
        alive: Heartbeat,
    ) -> Writer {
        Writer {
            conn,
            path,
            ctx,
            retention,
            batch_max: batch_max.max(1),
            last_retention: Instant::now(),
            closing: false,
            alive,
        }
    }

    /// The thread's body: returns when closed or when every handle is gone. Waiting for work
    /// is idle; from then on each round (a commit, a failed try and its back-off) must end
    /// within the writer's stall limit.
    pub(crate) fn run(mut self, mut rx: mpsc::Receiver<Op>) {
        let mut batch = Batch::default();
        loop {
            if batch.is_idle() {
                if self.closing {
                    return;
                }
                self.alive.idle();
                match rx.blocking_recv() {
                    Some(op) => self.take(&mut rx, &mut batch, op),
                    None => self.closing = true,
                }
            }
            self.alive.beat();
            #[cfg(feature = "fault-injection")]
            crate::fault::writer_point();
            self.drain(&mut rx, &mut batch);
            match self.write(&mut batch.records) {
                Ok(()) => self.settle(&mut batch),
                Err(e) => self.fail(&mut batch, &e),
            }
        }
    }

    fn take(&mut self, rx: &mut mpsc::Receiver<Op>, batch: &mut Batch, op: Op) {
        match op {
            Op::Record(r) => batch.records.push(*r),
            Op::Flush(reply) => batch.flushes.push(reply),
            Op::Retain(reply) => batch.retains.push(reply),
            Op::Close(reply) => {
                batch.closes.push(reply);
                self.closing = true;
                rx.close(); // later sends fail; what is queued is still drained
            }
            #[cfg(test)]
            Op::MaxPages(pages) => {
                let _ = self.conn.pragma_update(None, "max_page_count", pages);
            }
        }
    }

    /// Takes whatever is queued, up to the batch bound (everything when closing).
    fn drain(&mut self, rx: &mut mpsc::Receiver<Op>, batch: &mut Batch) {
        let cap = if batch.failures > 0 {
            self.batch_max * MAX_PENDING_BATCHES
        } else {
            self.batch_max
        };
        while self.closing || batch.records.len() < cap {
            match rx.try_recv() {
                Ok(op) => self.take(rx, batch, op),
                Err(_) => break,
            }
        }
    }

    /// Commits the records in one transaction; on success the vector is emptied.
    fn write(&mut self, records: &mut Vec<Record>) -> rusqlite::Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        match self.commit_all(records) {
            Err(e) if is_poison(&e) => self.commit_salvaging(records)?,
            other => other?,
        }
        records.clear();
        Ok(())
    }

    fn commit_all(&mut self, records: &[Record]) -> rusqlite::Result<()> {
        let tx = self.conn.transaction()?;
        for record in records {
            ingest::apply(&tx, &self.ctx, record)?;
        }
        tx.commit()
    }

    /// A record the database rejects for itself (not for lack of space) must not block the
    /// others forever: write each in its own savepoint and drop only the rejected ones.
    fn commit_salvaging(&mut self, records: &[Record]) -> rusqlite::Result<()> {
        let mut tx = self.conn.transaction()?;
        for record in records {
            let sp = tx.savepoint()?;
            match ingest::apply(&sp, &self.ctx, record) {
                Ok(()) => sp.commit()?,
                Err(e) if is_poison(&e) => {
                    tracing::error!(
                        "{}: dropped one {} record the database rejects: {e}",
                        self.path.display(),
                        record.kind()
                    );
                }
                Err(e) => return Err(e),
            }
        }
        tx.commit()
    }

    /// After a commit: answer waiters, run retention when due or asked.
    fn settle(&mut self, batch: &mut Batch) {
        if batch.failures > 0 {
            tracing::info!(
                "{}: writes recovered after {} failed tries",
                self.path.display(),
                batch.failures
            );
            batch.failures = 0;
        }
        for reply in batch.flushes.drain(..) {
            let _ = reply.send(Ok(()));
        }
        let due = self.last_retention.elapsed() >= RETENTION_EVERY;
        if due || !batch.retains.is_empty() {
            let result = self.retain();
            for reply in batch.retains.drain(..) {
                let _ = reply.send(result.clone());
            }
        }
        for reply in batch.closes.drain(..) {
            let _ = reply.send(Ok(()));
        }
    }

    fn retain(&mut self) -> Result<RetentionStats, StoreError> {
        self.last_retention = Instant::now();
        let result = retention::run(&mut self.conn, &self.path, &self.retention);
        log_retention(&self.path, &result);
        result.map_err(|e| {
            StoreError::sqlite(format_args!("retention on {}", self.path.display()), &e)
        })
    }

    /// A commit failed: keep the records, free space, tell waiters if it persists, back off.
    fn fail(&mut self, batch: &mut Batch, e: &rusqlite::Error) {
        batch.failures += 1;
        let err = StoreError::sqlite(format_args!("cannot write to {}", self.path.display()), e);
        if batch.failures == 1 {
            tracing::error!(
                "{err}; keeping {} records and retrying",
                batch.records.len()
            );
        }
        if is_disk_full(e) {
            let _ = self.retain();
        }
        if batch.failures >= TELL_WAITERS_AFTER {
            for reply in batch.flushes.drain(..) {
                let _ = reply.send(Err(err.clone()));
            }
            for reply in batch.retains.drain(..) {
                let _ = reply.send(Err(err.clone()));
            }
            if self.closing {
                self.give_up(batch, &err);
                return;
            }
        }
        std::thread::sleep(backoff(batch.failures));
    }

    /// Closing while writes keep failing: there is nobody left to hand the records to.
    fn give_up(&mut self, batch: &mut Batch, err: &StoreError) {
        tracing::error!(
            "{err}; closing with {} records unwritten",
            batch.records.len()
        );
        batch.records.clear();
        for reply in batch.closes.drain(..) {
            let _ = reply.send(Err(err.clone()));
        }
    }
}

/// 50 ms, doubling, at most 5 s.
fn backoff(failures: u32) -> Duration {
    let factor = 1u32 << failures.saturating_sub(1).min(16);
    (FIRST_BACKOFF * factor).min(MAX_BACKOFF)
}

/// Errors that retrying cannot cure: the record itself is what SQLite refuses.
fn is_poison(e: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode;
    match e.sqlite_error_code() {
        Some(code) => matches!(code, ErrorCode::ConstraintViolation | ErrorCode::TooBig),
        None => matches!(e, rusqlite::Error::ToSqlConversionFailure(_)),
    }
}

fn log_retention(path: &std::path::Path, result: &rusqlite::Result<RetentionStats>) {
    match result {
        Ok(s) if s.deleted_anything() => tracing::info!(
            "{}: retention removed {} sightings, {} attempts, {} events, {} devices ({} -> {} bytes)",
            path.display(),
            s.sightings,
            s.attempts,
            s.events,
            s.devices,
            s.bytes_before,
            s.bytes_after
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!("{}: retention failed: {e}", path.display()),
    }
}

/// Runs retention once, at open, before the writer thread starts.
pub(crate) fn retain_at_open(conn: &mut Connection, path: &std::path::Path, limits: &Retention) {
    let result = retention::run(conn, path, limits);
    log_retention(path, &result);
}
