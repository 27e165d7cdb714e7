//! How long to wait before the next try while the fleet database cannot be reached: doubling
//! from one second up to a bound, each wait drawn at random from its upper half so a fleet of
//! boxes that lost the server together does not hammer it together when it returns.

use std::time::Duration;

const FIRST: Duration = Duration::from_secs(1);

/// Exponential back-off with jitter.
#[derive(Clone, Debug)]
pub struct Backoff {
    max: Duration,
    failures: u32,
    state: u64,
}

impl Backoff {
    pub fn new(max: Duration) -> Backoff {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Backoff {
            max: max.max(FIRST),
            failures: 0,
            state: nanos ^ (u64::from(std::process::id()) << 32) | 1,
        }
    }

    /// The wait after one more failure.
    pub fn next_wait(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let cap = FIRST
            .saturating_mul(1 << self.failures.saturating_sub(1).min(20))
            .min(self.max);
        let half = cap / 2;
        half + half.mul_f64(self.unit())
    }

    /// The longest wait, jittered: for failures a retry will not cure soon.
    pub fn longest_wait(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let half = self.max / 2;
        half + half.mul_f64(self.unit())
    }

    /// The server answered: start again from the first wait.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// A number in [0, 1) from xorshift64*.
    fn unit(&mut self) -> f64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        let x = self.state.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_bound_with_jitter() {
        let mut b = Backoff::new(Duration::from_secs(60));
        let waits: Vec<Duration> = (0..10).map(|_| b.next_wait()).collect();
        for (i, w) in waits.iter().enumerate() {
            let cap = Duration::from_secs(1 << i.min(20)).min(Duration::from_secs(60));
            assert!(
                *w >= cap / 2 && *w <= cap,
                "wait {i}: {w:?} not in [{:?}, {cap:?}]",
                cap / 2
            );
        }
        b.reset();
        assert!(b.next_wait() <= Duration::from_secs(1));
    }
}
