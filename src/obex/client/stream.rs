//! The PUT under Single Response Mode: once the phone granted SRM, packets go back to back and
//! only the final one waits for an answer.
//!
//! The phone may still answer early (an error, or a CONTINUE it should not send, or SRMP wait),
//! so every write keeps an ear on the link ([`Framed::write_watching`](super::Framed)): an early
//! error ends the PUT with exactly the outcome it would have had in stop-and-wait, and a peer that
//! stops reading while it answers is heard rather than waited out.

use super::{cancelled, Reply, Session, Step, ABORTED};
use crate::model::outcome::AttemptResult;
use crate::obex::wire::code;
use crate::obex::wire::{Heard, Response};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

/// How writing one streamed packet ended.
enum Streamed {
    /// Written whole; no answer yet.
    Written,
    /// The phone answered before the write was done; `whole` says whether it still was.
    Answered { reply: Reply, whole: bool },
    /// The write did not finish within the packet timeout.
    Stalled { whole_packets: bool },
    /// Cancelled after `written` bytes of the packet.
    Cancelled { written: usize },
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<'_, S> {
    /// Streams PUT packet `n`; the final one then waits (packet timeout) for the answer.
    pub(super) async fn stream(
        &mut self,
        packet: &[u8],
        n: usize,
        last: bool,
        started: Instant,
        total: usize,
    ) -> (Step, bool) {
        match self.write_streamed(packet).await {
            Streamed::Written if last => self.await_final(n, started, total).await,
            Streamed::Written => {
                self.unanswered += 1;
                (Step::Next, true)
            }
            Streamed::Answered { reply, whole } => {
                let (step, polite) = self.settle(reply, n, last && whole, started, total).await;
                (step, polite && whole)
            }
            Streamed::Stalled { whole_packets } => {
                (Step::Done(self.stalled(n, whole_packets).await), false)
            }
            Streamed::Cancelled { written } => {
                if self.finish_packet(&packet[written..]).await {
                    self.abort().await;
                }
                (Step::Done(self.fail(None, ABORTED)), false)
            }
        }
    }

    /// Writes one packet within the packet timeout, absorbing the CONTINUEs a peer sends anyway
    /// (and the SRMP wait one may carry), stopping at any other answer.
    async fn write_streamed(&mut self, packet: &[u8]) -> Streamed {
        let deadline = Instant::now() + self.opts.packet_timeout;
        let mut written = 0usize;
        loop {
            let heard = tokio::time::timeout_at(
                deadline,
                self.link.write_watching(packet, &mut written, self.our_max),
            );
            let heard = tokio::select! {
                h = heard => h,
                () = cancelled(self.cancel) => return Streamed::Cancelled { written },
            };
            let whole = written == packet.len();
            let reply = match heard {
                Err(_) => {
                    return Streamed::Stalled {
                        whole_packets: written == 0 || whole,
                    }
                }
                Ok(Ok(Heard::Written)) => {
                    self.stats.sent(packet.len());
                    return Streamed::Written;
                }
                Ok(Ok(Heard::Packet(p))) => p,
                Ok(Err(e)) => {
                    return Streamed::Answered {
                        reply: Reply::Broken(e),
                        whole,
                    }
                }
            };
            if !self.absorb_continue(&reply) {
                return Streamed::Answered {
                    reply: Reply::Packet(reply),
                    whole,
                };
            }
        }
    }

    /// Takes a CONTINUE that arrived while streaming as covering one streamed packet (a peer
    /// that answers every packet despite SRM); SRMP wait in it is honoured for the next packet.
    /// False for anything else.
    fn absorb_continue(&mut self, packet: &[u8]) -> bool {
        let Ok(response) = Response::parse(packet, false) else {
            return false;
        };
        if response.code != code::CONTINUE || self.unanswered == 0 {
            return false;
        }
        self.unanswered -= 1;
        self.srm = self.srm.after_continue(&response.headers);
        true
    }

    /// Waits for the answer to the final packet, skipping the CONTINUEs still owed for
    /// streamed packets.
    async fn await_final(&mut self, n: usize, started: Instant, total: usize) -> (Step, bool) {
        let deadline = Instant::now() + self.opts.packet_timeout;
        self.stats.waited();
        loop {
            let reply = self.await_reply(deadline).await;
            if let Reply::Packet(p) = &reply {
                if self.absorb_continue(p) {
                    continue;
                }
            }
            return self.settle(reply, n, true, started, total).await;
        }
    }

    /// Writes the rest of a packet cut short by a cancel (the phone is reading: we are
    /// streaming), so that an ABORT can follow; false if it does not go within the packet timeout.
    async fn finish_packet(&mut self, rest: &[u8]) -> bool {
        if rest.is_empty() {
            return true;
        }
        let limit = self.opts.packet_timeout;
        matches!(
            tokio::time::timeout(limit, self.link.write_packet(rest)).await,
            Ok(Ok(()))
        )
    }

    /// The phone stopped taking packets: ABORT if the link is between packets, then Failed.
    async fn stalled(&mut self, n: usize, whole_packets: bool) -> AttemptResult {
        if whole_packets {
            self.abort().await;
        }
        let reason = format!(
            "PUT packet {n} not taken within {:?} (packet timeout) under Single Response Mode{}",
            self.opts.packet_timeout,
            if whole_packets { ", sent ABORT" } else { "" }
        );
        self.fail(None, reason)
    }
}
