//! When the next sync round starts after a good one: rounds start every `sync.interval_secs`,
//! counted from the start of the last round, not from its end. A round that uploaded a long
//! backlog (a day offline, or the whole fleet back at once) is followed soon by the next, which
//! fetches what the other appliances uploaded meanwhile; otherwise every booth would learn the
//! fleet's answers a whole interval plus its own long round later. A pause of a tenth of the
//! interval stays, so a server too slow for the interval is never asked without a breath.

use std::time::Duration;

/// The pause before the next round, when the last one took `took`.
pub fn pause_after(interval: Duration, took: Duration) -> Duration {
    interval.saturating_sub(took).max(interval / 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_start_an_interval_apart_with_a_tenth_at_least_between() {
        let s = Duration::from_secs;
        assert_eq!(
            pause_after(s(30), Duration::from_millis(200)),
            Duration::from_millis(29_800)
        );
        assert_eq!(pause_after(s(30), s(25)), s(5));
        assert_eq!(pause_after(s(30), s(29)), s(3));
        assert_eq!(pause_after(s(30), s(600)), s(3));
        assert_eq!(pause_after(s(2), s(15)), Duration::from_millis(200));
    }
}
