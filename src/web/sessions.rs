//! Who is logged in: random session tokens (in an HttpOnly, SameSite=Strict cookie) with a CSRF
//! token each, ended after a while without a request and after a fixed maximum anyway. (Failed
//! logins: `throttle`.)

use std::collections::HashMap;
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

    /// The session of `id` if it is still alive; `touch`: a person used it now (a live page's
    /// poll does not).
    pub fn get(&self, id: &str, now: Instant, touch: bool) -> Option<Session> {
        let mut live = self.live.lock().expect("sessions lock");
        let alive = live.get(id).is_some_and(|s| self.alive(s, now));
        if !alive {
            live.remove(id);
            return None;
        }
        let s = live.get_mut(id)?;
        if touch {
            s.last = now;
        }
        Some(s.clone())
    }

    pub fn end(&self, id: &str) {
        self.live.lock().expect("sessions lock").remove(id);
    }

    fn alive(&self, s: &Session, now: Instant) -> bool {
        now.duration_since(s.last) < self.idle && now.duration_since(s.started) < self.max
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
        assert!(s.get(&id, t0 + Duration::from_secs(9), true).is_some());
        assert!(s.get(&id, t0 + Duration::from_secs(18), true).is_some());
        assert!(
            s.get(&id, t0 + Duration::from_secs(26), true).is_none(),
            "past the maximum"
        );
        let other = s.start(t0);
        assert!(
            s.get(&other, t0 + Duration::from_secs(11), true).is_none(),
            "idle too long"
        );
        assert!(s.get("forged", t0, true).is_none());
    }

    /// Issue 26: a live page's poll every 2 s kept a session alive for ever.
    #[test]
    fn a_poll_does_not_keep_a_session_alive() {
        let s = Sessions::new(Duration::from_secs(10), Duration::from_secs(3600));
        let t0 = Instant::now();
        let id = s.start(t0);
        for n in 1..5 {
            let at = t0 + Duration::from_secs(2 * n);
            assert!(s.get(&id, at, false).is_some(), "polled at {n}");
        }
        assert!(s.get(&id, t0 + Duration::from_secs(11), false).is_none());
    }
}
