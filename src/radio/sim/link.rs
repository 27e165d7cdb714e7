//! The air between the engine and a simulated phone: a byte pipe each way that carries data in
//! frames at a set rate and delivers each frame a fixed latency after it left, in tokio time.
//!
//! This is what makes round trips cost something: a stop-and-wait OBEX PUT pays the latency
//! twice per packet, Single Response Mode only for the first and the last. Frames are cut from
//! each write up to the transport's frame payload (an RFCOMM frame, an L2CAP ERTM I-frame) and
//! each costs its headers on air, so tiny writes cost what they cost on a real link. A reader
//! that stops reading holds the writer back (the link's window is a few frames).

use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Pipe buffer on each side of the air.
const PIPE: usize = 64 * 1024;
/// Frames in flight at once.
const WINDOW: usize = 8;

/// One simulated link.
#[derive(Clone, Copy, Debug)]
pub struct Air {
    /// Bytes on air per second, frame headers included.
    pub rate: u64,
    /// From a frame's last bit sent to its delivery.
    pub latency: Duration,
    /// Payload bytes per frame.
    pub frame: usize,
    /// Header and checksum bytes per frame.
    pub overhead: usize,
}

impl Air {
    fn on_air(&self, payload: usize) -> Duration {
        let bits = (payload + self.overhead) as u64 * 1_000_000;
        Duration::from_micros(bits / self.rate.max(1))
    }
}

/// Opens a link; returns the engine's end and the phone's end.
pub fn open(air: Air) -> (DuplexStream, DuplexStream) {
    let (ours, near) = tokio::io::duplex(PIPE);
    let (far, theirs) = tokio::io::duplex(PIPE);
    let (near_read, near_write) = tokio::io::split(near);
    let (far_read, far_write) = tokio::io::split(far);
    tokio::spawn(carry(near_read, far_write, air));
    tokio::spawn(carry(far_read, near_write, air));
    (ours, theirs)
}

/// One direction: cuts what arrives into frames, sends each when the link is free, and hands
/// it to [`deliver`] with its arrival time. Ends (closing the far side) when the sender closes
/// or the receiver is gone.
async fn carry<R, W>(mut from: R, to: W, air: Air)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (tx, rx) = mpsc::channel(WINDOW);
    let delivery = tokio::spawn(deliver(rx, to));
    let mut free_at = Instant::now();
    let mut frame = vec![0u8; air.frame.max(1)];
    loop {
        let n = match from.read(&mut frame).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        free_at = next_start(free_at, Instant::now()) + air.on_air(n);
        tokio::time::sleep_until(free_at).await;
        if tx
            .send((free_at + air.latency, frame[..n].to_vec()))
            .await
            .is_err()
        {
            break;
        }
    }
    drop(tx);
    let _ = delivery.await;
}

/// When the next frame starts: right after the last one while the sender keeps the link busy,
/// now when it was idle. A timer wakes up to a millisecond late, which must not add up over a
/// thousand back-to-back frames.
fn next_start(free_at: Instant, now: Instant) -> Instant {
    if now > free_at + TIMER_SLACK {
        now
    } else {
        free_at
    }
}

/// How late a timer may fire.
const TIMER_SLACK: Duration = Duration::from_millis(2);

/// Writes each frame to the receiving side at its arrival time; closes that side at the end.
async fn deliver<W: AsyncWrite + Unpin>(mut rx: mpsc::Receiver<(Instant, Vec<u8>)>, mut to: W) {
    while let Some((at, bytes)) = rx.recv().await {
        tokio::time::sleep_until(at).await;
        if to.write_all(&bytes).await.is_err() {
            return;
        }
    }
    let _ = to.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn air() -> Air {
        Air {
            rate: 100_000,
            latency: Duration::from_millis(10),
            frame: 1000,
            overhead: 0,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn bytes_arrive_in_order_after_rate_and_latency() {
        let (mut ours, mut theirs) = open(air());
        let data: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        let start = Instant::now();
        ours.write_all(&data).await.unwrap();
        let mut got = vec![0u8; data.len()];
        theirs.read_exact(&mut got).await.unwrap();
        assert_eq!(got, data);
        // 10 frames of 10 ms each, the last delivered 10 ms after it left.
        assert_eq!(start.elapsed(), Duration::from_millis(110));
        theirs.write_all(b"ok").await.unwrap();
        let mut reply = [0u8; 2];
        ours.read_exact(&mut reply).await.unwrap();
        assert_eq!(&reply, b"ok");
    }

    #[tokio::test(start_paused = true)]
    async fn closing_one_end_reaches_the_other() {
        let (ours, mut theirs) = open(air());
        drop(ours);
        let mut buf = [0u8; 4];
        assert_eq!(theirs.read(&mut buf).await.unwrap(), 0);
        let (mut ours, theirs) = open(air());
        drop(theirs);
        assert_eq!(ours.read(&mut buf).await.unwrap(), 0);
    }
}
