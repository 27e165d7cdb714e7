//! A byte stream that delivers no faster than a set rate, in tokio time: a phone on a slow or
//! busy link. Writes are let through in chunks, each followed by the time the chunk takes on air.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

const CHUNK: usize = 4096;

pub struct Throttled<S> {
    inner: S,
    bytes_per_sec: u64,
    pause: Option<Pin<Box<Sleep>>>,
}

impl<S> Throttled<S> {
    pub fn new(inner: S, bytes_per_sec: u64) -> Self {
        Throttled {
            inner,
            bytes_per_sec: bytes_per_sec.max(1),
            pause: None,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Throttled<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Throttled<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Some(pause) = self.pause.as_mut() {
            if pause.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.pause = None;
        }
        let n = buf.len().min(CHUNK);
        let written = std::task::ready!(Pin::new(&mut self.inner).poll_write(cx, &buf[..n]))?;
        let on_air = Duration::from_micros(written as u64 * 1_000_000 / self.bytes_per_sec);
        self.pause = Some(Box::pin(tokio::time::sleep(on_air)));
        Poll::Ready(Ok(written))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

use std::future::Future;
