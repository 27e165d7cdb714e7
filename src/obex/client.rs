//! The Object Push client: CONNECT, PUT one object, DISCONNECT, and say how it ended.
//!
//! Whatever the phone does — answers, refuses, never answers, hangs up, or sends garbage — the
//! result is an [`AttemptResult`] within the configured timeouts. The phone's user decides while
//! we wait for the answer to the first PUT packet, so that wait has its own, long timeout.
//!
//! Every PUT packet is filled to the size the phone negotiated (the first carries Name, Type,
//! Length and as much Body as fits, as obexd's does) and written in one piece. Where the transport
//! allows it ([`PushOptions::srm`]) the first PUT asks for Single Response Mode; if the phone
//! grants it the rest of the body streams without a round trip per packet ([`stream`]),
//! otherwise every packet waits for its answer as before.

mod stream;

use super::srm::{self, ClientSrm, Transport};
use super::stats::PushStats;
use super::wire::code::{self, opcode};
use super::wire::header::{self, Header};
use super::wire::{Framed, ReadError, Request, Response, MIN_PACKET};
use crate::model::outcome::{AttemptResult, Outcome};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tokio::time::{timeout, Instant};

/// Timeouts and sizes for one push.
#[derive(Clone, Debug)]
pub struct PushOptions {
    /// OBEX CONNECT round trip.
    pub connect_timeout: Duration,
    /// Waiting for the user: the response to the first PUT packet.
    pub decision_timeout: Duration,
    /// Each other response.
    pub packet_timeout: Duration,
    /// The maximum packet length we propose in CONNECT (raised to 255 if lower).
    pub max_packet: u16,
    /// A 0xC3 arriving this long after the first PUT means Android's own prompt expired.
    pub ignored_after: Option<Duration>,
    /// Ask for Single Response Mode in the first PUT. Only for a transport that keeps packets
    /// reliable, ordered and whole (L2CAP ERTM; TCP on request): see [`PushOptions::over`].
    pub srm: bool,
    /// The largest OBEX packet the transport carries in one piece (an L2CAP channel's MTU):
    /// caps what we propose and what we send.
    pub packet_cap: Option<u16>,
}

impl PushOptions {
    /// These options for a push over `transport`: SRM asked for where the transport allows it,
    /// packets capped at its MTU.
    pub fn over(&self, transport: Transport) -> PushOptions {
        PushOptions {
            srm: transport.allows_srm(),
            packet_cap: transport.packet_cap(),
            ..self.clone()
        }
    }

    /// The largest packet we propose and accept.
    fn our_max(&self) -> u16 {
        let cap = self.packet_cap.unwrap_or(u16::MAX);
        self.max_packet.min(cap).max(MIN_PACKET)
    }
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions {
            connect_timeout: Duration::from_secs(20),
            decision_timeout: Duration::from_secs(60),
            packet_timeout: Duration::from_secs(15),
            max_packet: 0xFFFF,
            ignored_after: Some(Duration::from_secs(48)),
            srm: false,
            packet_cap: None,
        }
    }
}

/// The object offered: its name on the phone, its MIME type and its bytes.
#[derive(Clone, Copy, Debug)]
pub struct Object<'a> {
    pub name: &'a str,
    pub mime: &'a str,
    pub body: &'a [u8],
}

/// The reason given when `cancel` turned true.
pub const ABORTED: &str = "aborted: shutting down";

/// Runs CONNECT, PUT (as many packets as the negotiated max requires), DISCONNECT over any
/// stream. When `cancel`'s value becomes `true` (a dropped sender means "never cancelled"), an
/// ABORT is sent if a PUT is under way and the result is Failed with reason
/// "aborted: shutting down".
pub async fn push<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    object: &Object<'_>,
    opts: &PushOptions,
    cancel: &mut watch::Receiver<bool>,
) -> AttemptResult {
    push_counted(stream, object, opts, cancel).await.0
}

/// [`push`], also returning what the push cost on the wire.
pub async fn push_counted<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    object: &Object<'_>,
    opts: &PushOptions,
    cancel: &mut watch::Receiver<bool>,
) -> (AttemptResult, PushStats) {
    let mut session = Session {
        link: Framed::new(stream),
        opts,
        cancel,
        our_max: opts.our_max(),
        send_max: MIN_PACKET,
        connection_id: None,
        acked: 0,
        srm: ClientSrm::Off,
        unanswered: 0,
        stats: PushStats::default(),
    };
    let result = session.run(object).await;
    (result, session.stats)
}

/// What came of waiting for one response.
enum Reply {
    Packet(Vec<u8>),
    TimedOut,
    Cancelled,
    /// Cancelled with a packet half written: the link is unusable, even for ABORT.
    CancelledWriting,
    Broken(ReadError),
}

/// What to do after a response to a PUT packet.
enum Step {
    Next,
    Done(AttemptResult),
}

struct Session<'a, S> {
    link: Framed<S>,
    opts: &'a PushOptions,
    cancel: &'a mut watch::Receiver<bool>,
    /// The largest packet we accept (what we proposed).
    our_max: u16,
    /// The largest packet we may send (negotiated).
    send_max: u16,
    connection_id: Option<u32>,
    /// Body bytes the phone has acknowledged (under SRM: written in whole packets).
    acked: u64,
    /// Where the PUT stands with Single Response Mode.
    srm: ClientSrm,
    /// PUT packets streamed under SRM that no answer has covered yet.
    unanswered: u32,
    stats: PushStats,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<'_, S> {
    async fn run(&mut self, object: &Object<'_>) -> AttemptResult {
        if *self.cancel.borrow() {
            return self.fail(None, ABORTED);
        }
        if let Err(result) = self.connect().await {
            return result;
        }
        let (result, polite) = self.put(object).await;
        if polite {
            self.disconnect().await;
        }
        result
    }

    fn fail(&self, raw_code: Option<u8>, reason: impl Into<String>) -> AttemptResult {
        AttemptResult::new(Outcome::Failed, raw_code, reason, self.acked)
    }

    fn link_lost(&self, e: &ReadError) -> AttemptResult {
        let reason = format!("link lost after {} bytes: {e}", self.acked);
        self.fail(None, reason)
    }

    /// The link died while we waited for the answer to the first of several PUT packets, i.e.
    /// while the phone was asking its user: the prompt was, or may have been, shown. Recorded as
    /// ignored (an answer by default), so the phone is not asked again for this file. Seen in the
    /// VM rig: a phone with an unanswered prompt hangs up on the next offer, and each retry asked
    /// it again. (When the first packet is also the last, its answer may be the end of an
    /// accepted transfer, so a link loss there stays a transient failure and is retried.)
    fn lost_while_deciding(&self, e: &ReadError) -> AttemptResult {
        let reason = format!("link lost while the phone was asking its user: {e}");
        AttemptResult::new(Outcome::Ignored, None, reason, self.acked)
    }

    /// The answer to a broken read: link loss or a malformed reply.
    fn broken(&self, e: &ReadError, answering: &str) -> AttemptResult {
        if e.is_link_loss() {
            self.link_lost(e)
        } else {
            self.fail(None, format!("malformed reply to {answering}: {e}"))
        }
    }

    /// Writes one packet, then waits for the response; both within `limit` (a phone that is
    /// prompting its user may stop reading, so the write can take as long as the decision), and
    /// both interrupted by `cancel`.
    async fn exchange(&mut self, packet: &[u8], limit: Duration) -> Reply {
        let deadline = Instant::now() + limit;
        let write = tokio::time::timeout_at(deadline, self.link.write_packet(packet));
        tokio::select! {
            r = write => match r {
                Err(_) => return Reply::TimedOut,
                Ok(Err(e)) => return Reply::Broken(ReadError::Io(e)),
                Ok(Ok(())) => {}
            },
            () = cancelled(self.cancel) => return Reply::CancelledWriting,
        }
        self.stats.sent(packet.len());
        self.stats.waited();
        self.await_reply(deadline).await
    }

    async fn await_reply(&mut self, deadline: Instant) -> Reply {
        let read = tokio::time::timeout_at(deadline, self.link.read_packet(self.our_max));
        tokio::select! {
            r = read => match r {
                Err(_) => Reply::TimedOut,
                Ok(Ok(p)) => Reply::Packet(p),
                Ok(Err(e)) => Reply::Broken(e),
            },
            () = cancelled(self.cancel) => Reply::Cancelled,
        }
    }

    async fn connect(&mut self) -> Result<(), AttemptResult> {
        let request = Request::connect(self.our_max, Vec::new());
        let packet = request
            .encode()
            .map_err(|e| self.fail(None, e.to_string()))?;
        match self.exchange(&packet, self.opts.connect_timeout).await {
            Reply::Packet(p) => self.accept_connect_reply(&p),
            Reply::TimedOut => Err(AttemptResult::new(
                Outcome::Unreachable,
                None,
                format!(
                    "no answer to OBEX CONNECT within {:?}",
                    self.opts.connect_timeout
                ),
                0,
            )),
            Reply::Cancelled | Reply::CancelledWriting => Err(self.fail(None, ABORTED)),
            Reply::Broken(e) => Err(self.broken(&e, "CONNECT")),
        }
    }

    fn accept_connect_reply(&mut self, packet: &[u8]) -> Result<(), AttemptResult> {
        let code = packet.first().copied().unwrap_or(0);
        if code == code::FORBIDDEN {
            let reason = format!("CONNECT refused: {}", code::describe(code));
            return Err(AttemptResult::new(Outcome::Declined, Some(code), reason, 0));
        }
        if code != code::SUCCESS {
            let reason = format!("CONNECT refused: {}", code::describe(code));
            return Err(self.fail(Some(code), reason));
        }
        let reply = Response::parse(packet, true)
            .map_err(|e| self.fail(None, format!("malformed reply to CONNECT: {e}")))?;
        let peer_max = reply.connect.map_or(0, |f| f.max_packet);
        // A peer announcing less than the IrOBEX minimum is broken in ways we cannot predict.
        // Clamping up to 255 would knowingly send packets larger than it said it can take, so
        // we fail instead: the attempt counts as transient and the reason says why.
        if peer_max < MIN_PACKET {
            let reason = format!(
                "protocol error: peer's max packet length {peer_max} is below the minimum {MIN_PACKET}"
            );
            return Err(self.fail(Some(code), reason));
        }
        self.send_max = peer_max.min(self.our_max);
        self.stats.packet_size = self.send_max;
        self.connection_id =
            header::find(&reply.headers, header::id::CONNECTION_ID).and_then(Header::as_u32);
        Ok(())
    }

    /// The PUT exchange. The flag says whether the link is still fit for a DISCONNECT.
    async fn put(&mut self, object: &Object<'_>) -> (AttemptResult, bool) {
        let first = match self.first_headers(object) {
            Ok(h) => h,
            Err(r) => return (r, true),
        };
        if self.opts.srm {
            self.srm = ClientSrm::Asked;
        }
        let started = Instant::now();
        let mut offset = 0usize;
        let mut headers = first;
        let mut n = 0usize;
        let total = object.body.len();
        loop {
            n += 1;
            let (packet, taken, last) = match self.build_put(headers, &object.body[offset..]) {
                Ok(built) => built,
                Err(r) => return (r, n > 1),
            };
            self.stats.put_packets += 1;
            let step = if self.srm == ClientSrm::Streaming {
                self.stream(&packet, n, last, started, total).await
            } else {
                self.stop_and_wait(&packet, n, last, started, total).await
            };
            match step {
                (Step::Next, _) => {}
                (Step::Done(r), polite) => return (r, polite),
            }
            offset += taken;
            self.acked = offset as u64;
            // The Connection ID opens the request's first packet only, as obexd's gobex sends
            // it (it names the connection for the whole request): 5 bytes less per packet.
            headers = Vec::new();
        }
    }

    /// Sends PUT packet `n` and waits for its answer: the decision for the first, the packet
    /// timeout for the others.
    async fn stop_and_wait(
        &mut self,
        packet: &[u8],
        n: usize,
        last: bool,
        started: Instant,
        total: usize,
    ) -> (Step, bool) {
        let limit = if n == 1 {
            self.opts.decision_timeout
        } else {
            self.opts.packet_timeout
        };
        let reply = self.exchange(packet, limit).await;
        self.settle(reply, n, last, started, total).await
    }

    fn connection_header(&self) -> Vec<Header> {
        self.connection_id
            .map(Header::connection_id)
            .into_iter()
            .collect()
    }

    fn first_headers(&self, object: &Object<'_>) -> Result<Vec<Header>, AttemptResult> {
        let Ok(len) = u32::try_from(object.body.len()) else {
            let reason = format!(
                "object of {} bytes is too large for OBEX",
                object.body.len()
            );
            return Err(self.fail(None, reason));
        };
        let mut headers = self.connection_header();
        if self.opts.srm {
            headers.push(srm::enable());
        }
        headers.push(Header::name(object.name));
        headers.push(Header::mime(object.mime));
        headers.push(Header::length(len));
        Ok(headers)
    }

    /// One PUT packet: the given headers plus as much of `rest` as fits the negotiated size.
    /// Returns the packet, the body bytes it carries, and whether it is the final one.
    fn build_put(
        &self,
        mut headers: Vec<Header>,
        rest: &[u8],
    ) -> Result<(Vec<u8>, usize, bool), AttemptResult> {
        let used: usize = 3 + headers.iter().map(Header::encoded_len).sum::<usize>();
        let room = usize::from(self.send_max).saturating_sub(used + 3);
        if used + 3 > usize::from(self.send_max) {
            let reason = format!(
                "object headers ({used} bytes) do not fit the negotiated packet size {}",
                self.send_max
            );
            return Err(self.fail(None, reason));
        }
        let take = rest.len().min(room);
        let last = take == rest.len();
        let chunk = rest[..take].to_vec();
        let op = if last {
            headers.push(Header::end_of_body(chunk));
            opcode::PUT_FINAL
        } else {
            if take > 0 {
                headers.push(Header::body(chunk));
            }
            opcode::PUT
        };
        let packet = Request::new(op, headers)
            .encode()
            .map_err(|e| self.fail(None, e.to_string()))?;
        Ok((packet, take, last))
    }

    /// Turns the reply to PUT packet `n` into the next step; the flag says whether the link is
    /// still fit for a DISCONNECT.
    async fn settle(
        &mut self,
        reply: Reply,
        n: usize,
        last: bool,
        started: Instant,
        total: usize,
    ) -> (Step, bool) {
        let packet = match reply {
            Reply::Packet(p) => p,
            Reply::TimedOut => return (Step::Done(self.timed_out(n).await), false),
            Reply::Cancelled => {
                self.abort().await;
                return (Step::Done(self.fail(None, ABORTED)), false);
            }
            Reply::CancelledWriting => return (Step::Done(self.fail(None, ABORTED)), false),
            Reply::Broken(e) if n == 1 && !last && e.is_link_loss() => {
                return (Step::Done(self.lost_while_deciding(&e)), false)
            }
            Reply::Broken(e) => return (Step::Done(self.broken(&e, "PUT")), false),
        };
        let response = match Response::parse(&packet, false) {
            Ok(r) => r,
            Err(e) => {
                let reason = format!("malformed reply to PUT: {e}");
                return (Step::Done(self.fail(None, reason)), false);
            }
        };
        let c = response.code;
        if c == code::CONTINUE && !last {
            self.srm = self.srm.after_continue(&response.headers);
            self.stats.srm |= self.srm.granted();
            return (Step::Next, true);
        }
        if code::is_success(c) && last {
            let done = AttemptResult::new(Outcome::Accepted, Some(c), "accepted", total as u64);
            return (Step::Done(done), true);
        }
        (Step::Done(self.refused(c, last, started)), true)
    }

    /// Classifies a response code that ends the PUT without success.
    fn refused(&self, c: u8, last: bool, started: Instant) -> AttemptResult {
        let named = code::describe(c);
        let result =
            |outcome, reason: String| AttemptResult::new(outcome, Some(c), reason, self.acked);
        match c {
            code::FORBIDDEN => {
                let waited = started.elapsed();
                match self.opts.ignored_after {
                    Some(after) if waited >= after => result(
                        Outcome::Ignored,
                        format!("{named} after {waited:?}: the phone's prompt expired unanswered"),
                    ),
                    _ => result(Outcome::Declined, format!("{named}: the user declined")),
                }
            }
            code::UNSUPPORTED_MEDIA_TYPE | code::BAD_REQUEST | code::LENGTH_REQUIRED => result(
                Outcome::UnsupportedType,
                format!("{named}: the phone will not take this object"),
            ),
            code::CONTINUE => result(Outcome::Failed, format!("{named} to the final PUT packet")),
            _ if code::is_success(c) && !last => {
                result(Outcome::Failed, format!("{named} before End-of-Body"))
            }
            _ => result(Outcome::Failed, format!("PUT refused: {named}")),
        }
    }

    async fn timed_out(&mut self, n: usize) -> AttemptResult {
        self.abort().await;
        if n == 1 {
            let reason = format!(
                "no answer to the first PUT within {:?} (decision timeout): prompt ignored, sent ABORT",
                self.opts.decision_timeout
            );
            return AttemptResult::new(Outcome::Ignored, None, reason, 0);
        }
        let reason = format!(
            "no answer to PUT packet {n} within {:?} (packet timeout), sent ABORT",
            self.opts.packet_timeout
        );
        self.fail(None, reason)
    }

    /// Sends ABORT and waits (bounded) for any reply; the outcome is already decided.
    async fn abort(&mut self) {
        let request = Request::new(opcode::ABORT, self.connection_header());
        self.last_words(request).await;
    }

    /// Sends DISCONNECT and waits (bounded) for the reply; the outcome is already decided.
    async fn disconnect(&mut self) {
        let request = Request::new(opcode::DISCONNECT, self.connection_header());
        self.last_words(request).await;
        let _ = timeout(self.opts.packet_timeout, self.link.shutdown()).await;
    }

    /// Sends ABORT or DISCONNECT and waits (bounded) for one reply, whatever it says.
    async fn last_words(&mut self, request: Request) {
        let Ok(packet) = request.encode() else { return };
        let limit = self.opts.packet_timeout;
        if let Ok(Ok(())) = timeout(limit, self.link.write_packet(&packet)).await {
            self.stats.sent(packet.len());
            self.stats.waited();
            let _ = timeout(limit, self.link.read_packet(self.our_max)).await;
        }
    }
}

/// Resolves once the watched value is `true`; never, if the sender is dropped while `false`.
async fn cancelled(rx: &mut watch::Receiver<bool>) {
    loop {
        if *rx.borrow_and_update() {
            return;
        }
        if rx.changed().await.is_err() && !*rx.borrow() {
            std::future::pending::<()>().await;
        }
    }
}
