//! The daemon's side of the live state (`crate::live`): every second it gathers what the core
//! published, the watchdog's verdict, the clock, the sync and the campaign, and writes one
//! `state.json` for the dashboard and the status LED. A write that fails is logged once and
//! tried again; it never holds up anything else.

use crate::config::Config;
use crate::engine::Progress;
use crate::live::{CampaignLive, ItemLive, LiveState, RadioLive, SyncLive};
use crate::model::clock::Clock;
use crate::store::Reader;
use crate::supervise::Health;
use jiff::tz::TimeZone;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::watch;

const EVERY: Duration = Duration::from_secs(1);
/// The sync backlog is counted every this many writes.
const BACKLOG_EVERY: u32 = 5;

/// What the state is made from.
pub(super) struct Sources {
    pub dir: PathBuf,
    pub reader: Option<Reader>,
    pub clock: Clock,
    pub progress: watch::Receiver<Progress>,
    pub health: Health,
    /// Each radio's id, role and slots, in the order of the adapters.
    pub radios: Vec<RadioLive>,
    pub appliance: String,
    pub time_zone: TimeZone,
    pub sync_on: bool,
}

impl Sources {
    pub fn of(
        cfg: &Config,
        adapters: &[crate::radio::Adapter],
        reader: Option<Reader>,
        progress: watch::Receiver<Progress>,
        health: Health,
    ) -> Self {
        let radios = adapters
            .iter()
            .map(|a| RadioLive {
                id: a.radio.id().to_string(),
                role: format!("{:?}", a.role).to_lowercase(),
                slots: a.slots,
                busy: 0,
            })
            .collect();
        Sources {
            dir: cfg.appliance.live_dir.clone(),
            reader,
            clock: Clock::system(),
            progress,
            health,
            radios,
            appliance: cfg.appliance.name.clone(),
            time_zone: TimeZone::get(&cfg.appliance.time_zone).unwrap_or(TimeZone::UTC),
            sync_on: cfg.sync.enabled() && cfg.sync.refused.is_none(),
        }
    }
}

/// Writes the live state every second until the daemon ends.
pub(super) async fn publish(sources: Sources) {
    if let Err(e) = std::fs::create_dir_all(&sources.dir) {
        tracing::warn!(
            "no live state for the dashboard: {}: {e}",
            sources.dir.display()
        );
        return;
    }
    let started_ms = sources.clock.now_ms();
    let mut backlog = None;
    let mut failing = false;
    for n in 0u32.. {
        if n % BACKLOG_EVERY == 0 {
            backlog = sources
                .reader
                .as_ref()
                .and_then(|r| r.glance(sources.clock.now_ms()).ok())
                .map(|g| g.sync_backlog);
        }
        let state = gather(&sources, started_ms, backlog);
        match crate::live::write(&sources.dir, &state) {
            Ok(()) => failing = false,
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(
                    "cannot write the live state in {}: {e}",
                    sources.dir.display()
                );
            }
            Err(_) => {}
        }
        tokio::time::sleep(EVERY).await;
    }
}

fn gather(s: &Sources, started_ms: i64, backlog: Option<u64>) -> LiveState {
    let p = s.progress.borrow().clone();
    let now = s.clock.now_ms();
    let radios = s
        .radios
        .iter()
        .enumerate()
        .map(|(i, r)| RadioLive {
            busy: p.busy.get(i).copied().unwrap_or(0),
            ..r.clone()
        })
        .collect();
    let last_success_ms = s
        .reader
        .as_ref()
        .and_then(|r| r.sync_state().ok())
        .and_then(|st| st.last_success_ms);
    LiveState {
        at_ms: now,
        started_ms,
        pid: std::process::id(),
        appliance: s.appliance.clone(),
        radios,
        in_flight: p.in_flight,
        attempts: p.attempts,
        last_sighting_ms: p.last_sighting_at,
        last_push_end_ms: p.last_end_at,
        stalls: s.health.stalls().iter().map(|st| st.to_string()).collect(),
        clock_synced: s.clock.stamp().clock_synced,
        sync: SyncLive {
            on: s.sync_on,
            backlog,
            last_success_ms,
        },
        campaign: CampaignLive {
            caps: p.caps.iter().map(|c| c.line()).collect(),
            held: p.holds.lines(),
            ..campaign(&p.campaign, now, &s.time_zone)
        },
        config_status: crate::setup::config_status(std::path::Path::new("/")),
        system_status: crate::update::status::line(std::path::Path::new("/")),
        restart_due: crate::update::status::restart_due(std::path::Path::new("/")),
        allow: p.allow.iter().map(|a| a.to_string()).collect(),
        deny: p.deny.iter().map(|a| a.to_string()).collect(),
    }
}

fn campaign(c: &crate::content::Campaign, now: i64, tz: &TimeZone) -> CampaignLive {
    let schedule = &c.schedule;
    CampaignLive {
        name: c.name.clone(),
        sender_name: c.sender_name.clone(),
        items: c
            .items
            .iter()
            .map(|i| ItemLive {
                name: i.name.clone(),
                mime: i.mime.clone(),
                bytes: i.body.len() as u64,
            })
            .collect(),
        start: schedule.start.map(|d| d.to_string()),
        end: schedule.end.map(|d| d.to_string()),
        hours: schedule.hours.iter().map(|w| w.to_string()).collect(),
        open_now: schedule.is_open(now, tz),
        rules: crate::content::rules::RulesSummary::of(c),
        caps: Vec::new(),
        held: Vec::new(),
    }
}
