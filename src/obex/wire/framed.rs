//! Cuts a byte stream into OBEX packets.
//!
//! Radios and sockets deliver bytes in whatever pieces they like: a 3-byte prefix may arrive
//! one byte at a time, or two packets in one read. [`Framed`] buffers until one whole packet is
//! there, and checks the length field before waiting for the rest, so a hostile length never
//! makes us wait for (or allocate) more than the limit.

use super::WireError;
use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

/// Why no packet could be read.
#[derive(Debug)]
pub enum ReadError {
    /// The peer closed the stream cleanly between packets.
    Closed,
    /// The peer closed the stream in the middle of a packet.
    Truncated { got: usize, want: usize },
    /// The length field is impossible (below 3 or above the limit).
    Wire(WireError),
    /// The stream failed.
    Io(io::Error),
}

impl ReadError {
    /// Whether the link itself is gone (as opposed to the peer sending nonsense).
    pub fn is_link_loss(&self) -> bool {
        !matches!(self, ReadError::Wire(_))
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Closed => f.write_str("peer closed the connection"),
            ReadError::Truncated { got, want } => write!(
                f,
                "peer closed the connection mid-packet after {got} of {want} bytes"
            ),
            ReadError::Wire(e) => write!(f, "{e}"),
            ReadError::Io(e) => write!(f, "i/o error: {e}"),
        }
    }
}

impl std::error::Error for ReadError {}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// A stream plus the bytes read from it that are not yet a whole packet.
pub struct Framed<S> {
    io: S,
    buf: Vec<u8>,
}

impl<S> Framed<S> {
    pub fn new(io: S) -> Framed<S> {
        Framed {
            io,
            buf: Vec::new(),
        }
    }

    pub fn into_inner(self) -> S {
        self.io
    }

    /// The whole packet at the front of the buffer, if it is all there.
    fn take_packet(&mut self, limit: u16) -> Result<Option<Vec<u8>>, ReadError> {
        let Some(want) = self.declared_len(limit)? else {
            return Ok(None);
        };
        if self.buf.len() < want {
            return Ok(None);
        }
        let rest = self.buf.split_off(want);
        Ok(Some(std::mem::replace(&mut self.buf, rest)))
    }

    /// The length field of the buffered packet, checked against the limit.
    fn declared_len(&self, limit: u16) -> Result<Option<usize>, ReadError> {
        let [_, hi, lo, ..] = self.buf[..] else {
            return Ok(None);
        };
        let len = u16::from_be_bytes([hi, lo]);
        if len < 3 {
            return Err(ReadError::Wire(WireError::LengthFieldTooSmall { len }));
        }
        if len > limit {
            return Err(ReadError::Wire(WireError::LengthFieldTooLarge {
                len,
                max: limit,
            }));
        }
        Ok(Some(usize::from(len)))
    }

    /// The error for an end of stream: clean between packets, truncation inside one.
    fn closed(&self, limit: u16) -> ReadError {
        if self.buf.is_empty() {
            ReadError::Closed
        } else {
            self.truncated(limit)
        }
    }

    fn truncated(&self, limit: u16) -> ReadError {
        let want = self.declared_len(limit).ok().flatten().unwrap_or(3);
        ReadError::Truncated {
            got: self.buf.len(),
            want,
        }
    }
}

impl<S: AsyncRead + Unpin> Framed<S> {
    /// Reads exactly one packet of at most `limit` bytes.
    ///
    /// Cancel-safe: bytes read before the future is dropped stay buffered for the next call.
    pub async fn read_packet(&mut self, limit: u16) -> Result<Vec<u8>, ReadError> {
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(packet) = self.take_packet(limit)? {
                return Ok(packet);
            }
            let n = self.io.read(&mut chunk).await?;
            if n == 0 {
                return Err(self.closed(limit));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// What happened first while writing with an ear on the peer.
#[derive(Debug, PartialEq, Eq)]
pub enum Heard {
    /// The packet is written and flushed; nothing whole arrived meanwhile.
    Written,
    /// A whole packet arrived before the write finished (`written` tells how far it got).
    Packet(Vec<u8>),
}

impl<S: AsyncRead + AsyncWrite + Unpin> Framed<S> {
    /// Writes `packet` from `*written` on, while reading whatever the peer sends: returns as soon
    /// as a whole packet of at most `limit` bytes arrives, or when the write is done and flushed.
    /// `*written` always counts the bytes that left, so a call interrupted by a packet (or
    /// dropped) can be resumed. A peer that answers early — under Single Response Mode, with an
    /// error, while it no longer reads — is heard instead of blocking the write.
    pub async fn write_watching(
        &mut self,
        packet: &[u8],
        written: &mut usize,
        limit: u16,
    ) -> Result<Heard, ReadError> {
        std::future::poll_fn(|cx| {
            if let Poll::Ready(heard) = self.poll_heard(cx, limit) {
                return Poll::Ready(heard.map(Heard::Packet));
            }
            self.poll_write_rest(cx, packet, written)
                .map_ok(|()| Heard::Written)
        })
        .await
    }

    /// Reads what is there without waiting; ready with a whole packet or an error.
    fn poll_heard(&mut self, cx: &mut Context<'_>, limit: u16) -> Poll<Result<Vec<u8>, ReadError>> {
        let mut chunk = [0u8; 4096];
        loop {
            match self.take_packet(limit) {
                Ok(Some(packet)) => return Poll::Ready(Ok(packet)),
                Err(e) => return Poll::Ready(Err(e)),
                Ok(None) => {}
            }
            let mut filled = ReadBuf::new(&mut chunk);
            match Pin::new(&mut self.io).poll_read(cx, &mut filled) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e.into())),
                Poll::Ready(Ok(())) if filled.filled().is_empty() => {
                    return Poll::Ready(Err(self.closed(limit)))
                }
                Poll::Ready(Ok(())) => self.buf.extend_from_slice(filled.filled()),
            }
        }
    }

    fn poll_write_rest(
        &mut self,
        cx: &mut Context<'_>,
        packet: &[u8],
        written: &mut usize,
    ) -> Poll<Result<(), ReadError>> {
        while *written < packet.len() {
            match ready!(Pin::new(&mut self.io).poll_write(cx, &packet[*written..])) {
                Ok(0) => return Poll::Ready(Err(io::Error::from(io::ErrorKind::WriteZero).into())),
                Ok(n) => *written += n,
                Err(e) => return Poll::Ready(Err(e.into())),
            }
        }
        Pin::new(&mut self.io)
            .poll_flush(cx)
            .map_err(ReadError::from)
    }
}

impl<S: AsyncWrite + Unpin> Framed<S> {
    /// Writes one whole packet and flushes it.
    pub async fn write_packet(&mut self, packet: &[u8]) -> io::Result<()> {
        self.io.write_all(packet).await?;
        self.io.flush().await
    }

    /// Closes our side of the stream.
    pub async fn shutdown(&mut self) -> io::Result<()> {
        self.io.shutdown().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use tokio::io::AsyncWriteExt;

    proptest! {
        #[test]
        fn reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600), limit in any::<u16>()) {
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            rt.block_on(async {
                let mut framed = Framed::new(&bytes[..]);
                while let Ok(p) = framed.read_packet(limit).await {
                    assert!(p.len() >= 3 && p.len() <= usize::from(limit));
                }
            });
        }
    }

    async fn feed(pieces: Vec<Vec<u8>>, limit: u16) -> Vec<Result<Vec<u8>, String>> {
        let (mut tx, rx) = tokio::io::duplex(64);
        let writer = tokio::spawn(async move {
            for p in pieces {
                tx.write_all(&p).await.unwrap();
                tokio::task::yield_now().await;
            }
        });
        let mut framed = Framed::new(rx);
        let mut out = Vec::new();
        loop {
            match framed.read_packet(limit).await {
                Ok(p) => out.push(Ok(p)),
                Err(ReadError::Closed) => break,
                Err(e) => {
                    out.push(Err(e.to_string()));
                    break;
                }
            }
        }
        writer.await.unwrap();
        out
    }

    #[tokio::test]
    async fn packets_split_anywhere() {
        let stream: Vec<u8> = vec![0xA0, 0, 5, 0xAA, 0xBB, 0x90, 0, 3, 0xA0, 0, 4, 0xCC];
        for cut in 0..=stream.len() {
            let pieces = vec![stream[..cut].to_vec(), stream[cut..].to_vec()];
            let got = feed(pieces, 255).await;
            assert_eq!(
                got,
                vec![
                    Ok(vec![0xA0, 0, 5, 0xAA, 0xBB]),
                    Ok(vec![0x90, 0, 3]),
                    Ok(vec![0xA0, 0, 4, 0xCC])
                ],
                "cut at {cut}"
            );
        }
        let bytewise = stream.iter().map(|&b| vec![b]).collect();
        assert_eq!(feed(bytewise, 255).await.len(), 3);
    }

    #[tokio::test]
    async fn short_length_field_is_an_error() {
        let got = feed(vec![vec![0xA0, 0, 2]], 255).await;
        assert_eq!(got.len(), 1);
        assert!(got[0]
            .as_ref()
            .unwrap_err()
            .contains("below the minimum of 3"));
    }

    #[tokio::test]
    async fn long_length_field_is_an_error_before_the_body_arrives() {
        let got = feed(vec![vec![0xA0, 0x01, 0x00]], 255).await;
        assert!(got[0]
            .as_ref()
            .unwrap_err()
            .contains("256 exceeds the maximum packet length 255"));
    }

    #[tokio::test]
    async fn close_mid_packet_is_truncation() {
        let got = feed(vec![vec![0xA0, 0, 9, 1]], 255).await;
        assert!(got[0].as_ref().unwrap_err().contains("after 4 of 9 bytes"));
        let got = feed(vec![vec![0xA0]], 255).await;
        assert!(got[0].as_ref().unwrap_err().contains("after 1 of 3 bytes"));
    }
}
