//! Cuts a byte stream into OBEX packets.
//!
//! Radios and sockets deliver bytes in whatever pieces they like: a 3-byte prefix may arrive
//! one byte at a time, or two packets in one read. [`Framed`] buffers until one whole packet is
//! there, and checks the length field before waiting for the rest, so a hostile length never
//! makes us wait for (or allocate) more than the limit.

use super::WireError;
use std::fmt;
use std::io;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

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
                return Err(if self.buf.is_empty() {
                    ReadError::Closed
                } else {
                    self.truncated(limit)
                });
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
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
