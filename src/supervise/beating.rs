//! A byte stream whose every completed read or write counts as progress of the loop that owns
//! it: a push worker moving OBEX packets is alive, one that has not moved a byte for longer than
//! its stall limit is not. The wrapped stream is untouched otherwise.

use super::health::Heartbeat;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub struct Beating<S> {
    inner: S,
    alive: Heartbeat,
}

impl<S> Beating<S> {
    pub fn new(inner: S, alive: Heartbeat) -> Self {
        alive.beat();
        Beating { inner, alive }
    }

    fn progress<T>(&self, poll: Poll<T>) -> Poll<T> {
        if poll.is_ready() {
            self.alive.beat();
        }
        poll
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Beating<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        self.progress(poll)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Beating<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.progress(poll)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_flush(cx);
        self.progress(poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
