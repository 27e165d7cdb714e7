//! The daemon's side of the dashboard's orders (`crate::orders`): every half second it takes
//! the orders waiting, applies each off the core's thread, logs it as an event naming who
//! asked, keeps the verdict for the dashboard and, when something changed, reloads settings and
//! content exactly as SIGHUP does (a push in flight keeps the item it started with).

use crate::config::Config;
use crate::engine::Control;
use crate::orders::{self, Context, Order, Spool, Verdict, What};
use crate::store::{EventRecord, Level, Store};
use crate::sync::pseudonym::PhoneKey;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc;

const EVERY: Duration = Duration::from_millis(500);

pub(super) async fn serve(
    cfg: Config,
    path: PathBuf,
    store: Store,
    control: mpsc::Sender<Control>,
) {
    let spool = Spool::new(&cfg.appliance.data_dir);
    let key = PhoneKey::for_sync(&cfg.sync);
    let clock = crate::model::clock::Clock::system();
    loop {
        tokio::time::sleep(EVERY).await;
        for order in spool.waiting() {
            let order = match order {
                Ok(o) => o,
                Err(e) => {
                    tracing::warn!("{e}");
                    continue;
                }
            };
            let verdict = apply(&cfg, order.clone(), clock.now_ms()).await;
            tracing::info!("dashboard order by {}: {}", verdict.who, verdict.line);
            store
                .event(event(&order, &verdict, key.as_ref(), &clock))
                .await;
            if let Err(e) = spool.done(&verdict) {
                tracing::warn!("cannot keep the verdict for the dashboard: {e}");
            }
            if verdict.reload {
                if let Some(reload) = super::reload(&path) {
                    let _ = control.send(reload).await;
                }
            }
        }
    }
}

async fn apply(cfg: &Config, order: Order, now_ms: i64) -> Verdict {
    let ctx = Context {
        data_dir: cfg.appliance.data_dir.clone(),
        layout: crate::content::install::Layout::new(&cfg.appliance.content_path()),
        limits: crate::content::bundle::Limits::of(cfg),
    };
    let id = order.id.clone();
    let who = order.who.clone();
    tokio::task::spawn_blocking(move || orders::apply(&order, &ctx, now_ms))
        .await
        .unwrap_or_else(|e| Verdict {
            id,
            who,
            at_ms: now_ms,
            ok: false,
            line: format!("refused: the order failed ({e})"),
            reload: false,
        })
}

/// The log's record of an order: what, by whom, and how it ended. A phone is named as the fleet
/// database names it (events are synced).
fn event(
    order: &Order,
    verdict: &Verdict,
    key: Option<&PhoneKey>,
    clock: &crate::model::clock::Clock,
) -> EventRecord {
    let phone = |a: &crate::model::device::BdAddr| key.map_or(a.to_string(), |k| k.phone(*a));
    let what = match &order.what {
        What::Deny { phone: a } => format!("deny list + {}", phone(a)),
        What::Allow { phone: a } => format!("allow list + {}", phone(a)),
        What::Unlist { phone: a } => format!("lists - {}", phone(a)),
        What::Install { .. } => "campaign upload".to_string(),
        What::Rollback => "campaign rollback".to_string(),
    };
    // A done list edit's line names the phone by its address: the event says "done" instead.
    let list_edit = !matches!(order.what, What::Install { .. } | What::Rollback);
    let result = if verdict.ok && list_edit {
        "done"
    } else {
        verdict.line.as_str()
    };
    EventRecord {
        at: clock.stamp(),
        level: if verdict.ok { Level::Info } else { Level::Warn },
        kind: "dashboard".into(),
        message: format!("{what} by {}: {result}", order.who),
    }
}
