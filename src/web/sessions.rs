//! Who is logged in: random session tokens (in an HttpOnly, SameSite=Strict cookie) with a CSRF
//! token each, ended after a while without a request and after a fixed maximum anyway; and, per
//! client address, failed logins that make the next try wait longer (up to a minute).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// 32 random bytes in hex.
pub fn token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the kernel's random source");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Clone, Debug)]
pub struct Session {
    pub csrf: String,
    /// A short name for the log ("who did it"), not the token: a hash of it.
    pub tag: String,
    started: Instant,
    last: Instant,
}

pub struct Sessions {
    live: Mutex<HashMap<String, Session>>,
    idle: Duration,
    max: Duration,
}

impl Sessions {
    pub fn new(idle: Duration, max: Duration) -> Sessions {
        Sessions {
            live: Mutex::new(HashMap::new()),
            idle,
            max,
        }
    }

    /// A new session: its cookie token.
    pub fn start(&self, now: Instant) -> String {
        let id = token();
        let mut live = self.live.lock().expect("sessions lock");
        live.retain(|_, s| self.alive(s, now));
        live.insert(
            id.clone(),
            Session {
                csrf: token(),
                tag: crate::content::sha256_hex(id.as_bytes())[..8].to_string(),
                started: now,
                last: now,
            },
        );
        id
    }

    /// The session of `id` if it is still alive (and now used again).
    pub fn get(&self, id: &str, now: Instant) -> Option<Session> {
        let mut live = self.live.lock().expect("sessions lock");
        let alive = live.get(id).is_some_and(|s| self.alive(s, now));
        if !alive {
            live.remove(id);
            return None;
        }
        let s = live.get_mut(id)?;
        s.last = now;
        Some(s.clone())
    }

    pub fn end(&self, id: &str) {
        self.live.lock().expect("sessions lock").remove(id);
    }

    fn alive(&self, s: &Session, now: Instant) -> bool {
        now.duration_since(s.last) < self.idle && now.duration_since(s.started) < self.max
    }
}

/// Failed logins per client address.
#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

/// How long a client waits after `n` failed logins in a row: 1 s, 2 s, 4 s … up to 60 s.
pub fn wait_after(n: u32) -> Duration {
    match n {
        0 => Duration::ZERO,
        n => Duration::from_secs(1u64 << (n - 1).min(6)).min(Duration::from_secs(60)),
    }
}

impl Throttle {
    /// How much longer `ip` must wait before it may try again.
    pub fn must_wait(&self, ip: IpAddr, now: Instant) -> Duration {
        let failures = self.failures.lock().expect("throttle lock");
        match failures.get(&ip) {
            Some(&(n, at)) => (at + wait_after(n)).saturating_duration_since(now),
            None => Duration::ZERO,
        }
    }

    pub fn failed(&self, ip: IpAddr, now: Instant) {
        let mut failures = self.failures.lock().expect("throttle lock");
        if failures.len() > 10_000 {
            failures.retain(|_, (n, at)| now.duration_since(*at) < wait_after(*n));
        }
        let e = failures.entry(ip).or_insert((0, now));
        *e = (e.0 + 1, now);
    }

    pub fn succeeded(&self, ip: IpAddr) {
        self.failures.lock().expect("throttle lock").remove(&ip);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_end_when_idle_and_at_their_maximum() {
        let s = Sessions::new(Duration::from_secs(10), Duration::from_secs(25));
        let t0 = Instant::now();
        let id = s.start(t0);
        assert!(s.get(&id, t0 + Duration::from_secs(9)).is_some());
        assert!(s.get(&id, t0 + Duration::from_secs(18)).is_some());
        assert!(
            s.get(&id, t0 + Duration::from_secs(26)).is_none(),
            "past the maximum"
        );
        let other = s.start(t0);
        assert!(
            s.get(&other, t0 + Duration::from_secs(11)).is_none(),
            "idle too long"
        );
        assert!(s.get("forged", t0).is_none());
    }

    #[test]
    fn each_failure_doubles_the_wait_of_that_client_only() {
        let t = Throttle::default();
        let (a, b) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let t0 = Instant::now();
        t.failed(a, t0);
        t.failed(a, t0);
        assert_eq!(t.must_wait(a, t0), Duration::from_secs(2));
        assert_eq!(t.must_wait(b, t0), Duration::ZERO);
        assert_eq!(wait_after(20), Duration::from_secs(60));
        t.succeeded(a);
        assert_eq!(t.must_wait(a, t0), Duration::ZERO);
    }
}
