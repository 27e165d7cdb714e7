//! Failed logins make the next try wait, per client, and password checks are rationed: a check
//! costs real CPU (SHA-crypt), so one client may have one check in flight and the whole dashboard
//! at most [`CHECKS_AT_ONCE`]. A client is its IPv4 address or its IPv6 /64 (one machine on a
//! LAN picks any address in its /64 at will). The decision and the count happen together under
//! one lock, before the hash: parallel wrong logins cannot all slip through as "no wait yet".

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Password checks running at once, over every client.
pub const CHECKS_AT_ONCE: usize = 2;

/// How long a client waits after `n` failed logins in a row: 1 s, 2 s, 4 s … up to 60 s.
pub fn wait_after(n: u32) -> Duration {
    match n {
        0 => Duration::ZERO,
        n => Duration::from_secs(1u64 << (n - 1).min(6)).min(Duration::from_secs(60)),
    }
}

/// The client a login counts against: the IPv4 address, or the IPv6 address's /64.
pub fn client_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6([s[0], s[1], s[2], s[3], 0, 0, 0, 0].into())
            }
        },
    }
}

#[derive(Default)]
struct State {
    /// Failed logins in a row and when the last one ended, per client.
    failures: HashMap<IpAddr, (u32, Instant)>,
    /// Clients with a check in flight.
    checking: Vec<IpAddr>,
}

/// Failed logins per client, and the checks in flight.
#[derive(Default, Clone)]
pub struct Throttle {
    state: Arc<Mutex<State>>,
}

/// Why a login may not be checked now.
#[derive(Debug, PartialEq, Eq)]
pub enum NotNow {
    /// This client failed recently: it may try again after this long.
    Wait(Duration),
    /// Too many checks already run (this client's or everyone's): try again in a moment.
    Busy,
}

/// A password check allowed to run; say how it ended (dropped unsaid, it counts as failed).
pub struct Check {
    throttle: Throttle,
    client: IpAddr,
    done: bool,
}

impl Throttle {
    /// Lets `ip` check a password now, or says why not.
    pub fn begin(&self, ip: IpAddr, now: Instant) -> Result<Check, NotNow> {
        let client = client_of(ip);
        let mut s = self.state.lock().expect("throttle lock");
        if let Some(&(n, at)) = s.failures.get(&client) {
            let wait = (at + wait_after(n)).saturating_duration_since(now);
            if !wait.is_zero() {
                return Err(NotNow::Wait(wait));
            }
        }
        if s.checking.contains(&client) || s.checking.len() >= CHECKS_AT_ONCE {
            return Err(NotNow::Busy);
        }
        s.checking.push(client);
        Ok(Check {
            throttle: self.clone(),
            client,
            done: false,
        })
    }
}

impl Check {
    pub fn failed(mut self, now: Instant) {
        self.end(Some(now));
    }

    pub fn succeeded(mut self) {
        self.end(None);
    }

    fn end(&mut self, failed_at: Option<Instant>) {
        self.done = true;
        let mut s = self.throttle.state.lock().expect("throttle lock");
        s.checking.retain(|c| *c != self.client);
        match failed_at {
            Some(now) => {
                if s.failures.len() > 10_000 {
                    s.failures
                        .retain(|_, (n, at)| now.duration_since(*at) < wait_after(*n));
                }
                let e = s.failures.entry(self.client).or_insert((0, now));
                *e = (e.0 + 1, now);
            }
            None => {
                s.failures.remove(&self.client);
            }
        }
    }
}

impl Drop for Check {
    fn drop(&mut self) {
        if !self.done {
            self.end(Some(Instant::now()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn one_check_per_client_and_two_in_all() {
        let t = Throttle::default();
        let now = Instant::now();
        let a = t.begin(ip("192.168.1.20"), now).unwrap();
        assert_eq!(t.begin(ip("192.168.1.20"), now).err(), Some(NotNow::Busy));
        let b = t.begin(ip("192.168.1.21"), now).unwrap();
        assert_eq!(t.begin(ip("192.168.1.22"), now).err(), Some(NotNow::Busy));
        a.failed(now);
        assert_eq!(
            t.begin(ip("192.168.1.20"), now).err(),
            Some(NotNow::Wait(Duration::from_secs(1)))
        );
        b.succeeded();
        let c = t.begin(ip("192.168.1.22"), now).unwrap();
        drop(c); // a check that never said: counted as failed
        assert!(matches!(
            t.begin(ip("192.168.1.22"), now),
            Err(NotNow::Wait(_))
        ));
    }

    #[test]
    fn an_ipv6_client_is_its_slash_64() {
        assert_eq!(client_of(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(client_of(ip("2001:db8:1:2:ffff::9")), ip("2001:db8:1:2::"));
        assert_ne!(client_of(ip("2001:db8:1:3::1")), ip("2001:db8:1:2::"));
        assert_eq!(client_of(ip("::ffff:192.168.1.20")), ip("192.168.1.20"));
        let t = Throttle::default();
        let now = Instant::now();
        t.begin(ip("2001:db8:1:2::1"), now).unwrap().failed(now);
        assert!(matches!(
            t.begin(ip("2001:db8:1:2::beef"), now),
            Err(NotNow::Wait(_))
        ));
    }

    #[test]
    fn the_wait_doubles_to_a_minute() {
        assert_eq!(wait_after(0), Duration::ZERO);
        assert_eq!(wait_after(1), Duration::from_secs(1));
        assert_eq!(wait_after(4), Duration::from_secs(8));
        assert_eq!(wait_after(40), Duration::from_secs(60));
    }
}
