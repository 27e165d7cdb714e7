//! What visitors do on the page, noted for the log: each page opened and each file taken, by the
//! phone's Wi-Fi address (read from the hotspot's DHCP leases), once per phone and page or file
//! in ten minutes: a phone reloading, or a visitor hammering the page, adds nothing to the log
//! and cannot fill the card. A request from an address no lease names is served but not noted:
//! every phone on the hotspot takes its address by DHCP, and an address made up by a visitor
//! (the firewall drops any outside the hotspot's subnet; DHCP is rationed per radio) must not
//! become a "visitor" of its own and push real history out under the log's size cap. Notes are gathered in
//! memory and written to the visit spool every two seconds and on shutdown
//! (`crate::store::visit_spool`); the daemon puts them in the log. Nothing else about a visitor is kept:
//! no cookie, no headers, no names typed.

use crate::model::clock::Clock;
use crate::store::WifiRecord;
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often the notes go to the spool.
const FLUSH_EVERY: Duration = Duration::from_secs(2);
/// How long a read of the leases is trusted.
const LEASES_FRESH: Duration = Duration::from_secs(1);
/// The same phone opening the same page or file again within this is not noted again.
const AGAIN_AFTER: Duration = Duration::from_secs(600);

pub struct Visits {
    spool: PathBuf,
    leases_file: PathBuf,
    clock: Clock,
    /// Unique to this process: its pid and start time.
    prefix: String,
    seq: AtomicU64,
    pending: Mutex<Vec<WifiRecord>>,
    leases: Mutex<(Option<Instant>, HashMap<IpAddr, String>)>,
    /// When each (phone, file or page) was last noted.
    noted: Mutex<HashMap<(String, Option<String>), Instant>>,
}

impl Visits {
    pub fn new(data_dir: &Path, leases_file: &Path) -> Visits {
        let clock = Clock::system();
        Visits {
            spool: crate::store::visit_spool::dir(data_dir),
            leases_file: leases_file.to_path_buf(),
            prefix: format!("{:x}-{:x}", std::process::id(), clock.now_ms()),
            clock,
            seq: AtomicU64::new(0),
            pending: Mutex::new(Vec::new()),
            leases: Mutex::new((None, HashMap::new())),
            noted: Mutex::new(HashMap::new()),
        }
    }

    /// Notes that `ip` opened the page (`item` none) or took `item` (`bytes` long).
    pub fn note(&self, ip: IpAddr, item: Option<&str>, bytes: u64) {
        let Some(visitor) = self.visitor(ip) else {
            return;
        };
        if !self.first_in_a_while(&visitor, item) {
            return;
        }
        let at = self.clock.stamp();
        let record = WifiRecord {
            id: format!(
                "{}-{:x}",
                self.prefix,
                self.seq.fetch_add(1, Ordering::Relaxed)
            ),
            at_ms: at.at_ms,
            clock_synced: at.clock_synced,
            visitor,
            kind: if item.is_some() { "download" } else { "visit" }.into(),
            item: item.map(str::to_string),
            bytes,
        };
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(record);
    }

    /// Whether `visitor` has not opened `item` (or the page) within [`AGAIN_AFTER`]; marks it.
    fn first_in_a_while(&self, visitor: &str, item: Option<&str>) -> bool {
        let mut noted = self.noted.lock().unwrap_or_else(|e| e.into_inner());
        let key = (visitor.to_string(), item.map(str::to_string));
        let now = Instant::now();
        match noted.get(&key) {
            Some(at) if now.duration_since(*at) < AGAIN_AFTER => false,
            _ => {
                noted.insert(key, now);
                true
            }
        }
    }

    /// Writes what was noted since the last time to the spool.
    pub fn flush(&self) {
        self.noted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, at| at.elapsed() < AGAIN_AFTER);
        let batch = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        let Some(first) = batch.first() else {
            return;
        };
        let name = format!("{:013}-{}", first.at_ms, first.id);
        if let Err(e) = crate::store::visit_spool::write(&self.spool, &name, &batch) {
            tracing::warn!(
                "portal: {} visits kept for the next try: {}: {e}",
                batch.len(),
                self.spool.display()
            );
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            let newer = std::mem::replace(&mut *pending, batch);
            pending.extend(newer);
        }
    }

    /// The phone's Wi-Fi address as the DHCP lease of `ip` names it; none without a lease.
    fn visitor(&self, ip: IpAddr) -> Option<String> {
        let mut cached = self.leases.lock().unwrap_or_else(|e| e.into_inner());
        if cached.0.is_none_or(|at| at.elapsed() > LEASES_FRESH) {
            *cached = (Some(Instant::now()), read_leases(&self.leases_file));
        }
        cached.1.get(&ip).cloned()
    }
}

/// Flushes `visits` every two seconds, for as long as the process runs.
pub async fn keep_flushing(visits: Arc<Visits>) {
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    loop {
        tick.tick().await;
        let v = visits.clone();
        let _ = tokio::task::spawn_blocking(move || v.flush()).await;
    }
}

/// dnsmasq's lease file: `EXPIRY MAC IP HOSTNAME CLIENT-ID` per line.
fn read_leases(path: &Path) -> HashMap<IpAddr, String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace().skip(1);
            let mac = f.next()?;
            let ip = f.next()?.parse().ok()?;
            let valid = mac.len() == 17 && mac.bytes().all(|b| b.is_ascii_hexdigit() || b == b':');
            valid.then(|| (ip, mac.to_ascii_uppercase()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_name_the_phone_and_nothing_else_is_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let leases = dir.path().join("leases");
        std::fs::write(
            &leases,
            "1764400000 3a:5f:01:22:9b:c4 10.44.0.23 Pixel-8 01:3a:5f:01:22:9b:c4\n\
             1764400000 <script> 10.44.0.24 * *\ngarbage\n\
             1764400000 02:11:22:33:44:55 10.44.0.25 * *\n",
        )
        .unwrap();
        let v = Visits::new(dir.path(), &leases);
        v.note("10.44.0.23".parse().unwrap(), None, 0);
        v.note("10.44.0.25".parse().unwrap(), Some("map.pdf"), 1234);
        // Reloads within ten minutes add nothing.
        v.note("10.44.0.23".parse().unwrap(), None, 0);
        v.note("10.44.0.25".parse().unwrap(), Some("map.pdf"), 1234);
        // Addresses no (valid) lease names are served, never noted: a made-up one is no visitor.
        for made_up in ["10.44.0.24", "10.44.0.77", "10.44.0.78"] {
            v.note(made_up.parse().unwrap(), None, 0);
            v.note(made_up.parse().unwrap(), Some("map.pdf"), 1234);
        }
        v.flush();
        let files: Vec<_> = std::fs::read_dir(crate::store::visit_spool::dir(dir.path()))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        let text = std::fs::read_to_string(&files[0]).unwrap();
        let events: Vec<WifiRecord> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(events[0].visitor, "3A:5F:01:22:9B:C4");
        assert_eq!(
            (events[0].kind.as_str(), events[0].item.as_deref()),
            ("visit", None)
        );
        assert_eq!(events[1].visitor, "02:11:22:33:44:55");
        assert_eq!(
            (events[1].kind.as_str(), events[1].bytes),
            ("download", 1234)
        );
        assert_eq!(events.len(), 2);
        assert_ne!(events[0].id, events[1].id);
    }
}
