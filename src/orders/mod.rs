//! Orders to the daemon from the dashboard: put a phone on the deny or allow list, take it off,
//! install an uploaded campaign, roll back.
//!
//! Why a spool: the dashboard is another process in its own sandbox, and it must never wait on
//! the daemon nor change what the daemon owns behind its back. It drops each order as one JSON
//! file into `<data_dir>/orders/` (by rename: whole or absent, and kept across a restart); the
//! daemon takes them in order, applies each with the same code a USB import or `o4send content`
//! uses, logs it as an event naming the session, and leaves the verdict in `orders/done/`,
//! where the dashboard shows it.

mod install;
pub mod lists;

use crate::content::bundle::Limits;
use crate::content::install::Layout;
use crate::model::device::BdAddr;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub use install::UPLOADS;

/// Verdicts kept for the dashboard.
const KEEP_DONE: usize = 50;

/// One order: what, who asked and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub id: String,
    /// The dashboard session and client, in words (`session 3fa2c1d0 from 10.0.0.5`).
    pub who: String,
    pub at_ms: i64,
    pub what: What,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "order", rename_all = "snake_case")]
pub enum What {
    /// Never contact this phone again (an opt-out).
    Deny { phone: BdAddr },
    /// Always offer again (the operator's test phone).
    Allow { phone: BdAddr },
    /// Off both lists the dashboard keeps.
    Unlist { phone: BdAddr },
    /// Install the campaign uploaded into `uploads/<upload>/`.
    Install { upload: String },
    /// Make the previous campaign the active one again.
    Rollback,
}

/// What became of an order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub id: String,
    pub who: String,
    pub at_ms: i64,
    pub ok: bool,
    /// One line, for the operator.
    pub line: String,
    /// Whether the daemon must reload its settings and content.
    #[serde(skip)]
    pub reload: bool,
}

/// The spool in a data directory.
#[derive(Clone, Debug)]
pub struct Spool {
    dir: PathBuf,
}

impl Spool {
    pub fn new(data_dir: &Path) -> Spool {
        Spool {
            dir: data_dir.join("orders"),
        }
    }

    /// Drops `order` for the daemon.
    pub fn submit(&self, order: &Order) -> Result<(), String> {
        let bytes = serde_json::to_vec(order).map_err(|e| e.to_string())?;
        let name = format!("{:013}-{}.json", order.at_ms.max(0), order.id);
        write_atomic(&self.dir, &name, &bytes)
    }

    /// The orders waiting, oldest first (an unreadable one is set aside and reported).
    pub fn waiting(&self) -> Vec<Result<Order, String>> {
        let mut names: Vec<PathBuf> = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect(),
            Err(_) => return Vec::new(),
        };
        names.sort();
        names.into_iter().map(|p| self.take(&p)).collect()
    }

    fn take(&self, path: &Path) -> Result<Order, String> {
        let parsed = std::fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice::<Order>(&b).map_err(|e| e.to_string()));
        let _ = std::fs::remove_file(path);
        parsed.map_err(|e| format!("{}: not an order ({e}); dropped", path.display()))
    }

    /// Keeps the verdict for the dashboard (the newest [`KEEP_DONE`]).
    pub fn done(&self, verdict: &Verdict) -> Result<(), String> {
        let bytes = serde_json::to_vec(verdict).map_err(|e| e.to_string())?;
        let dir = self.dir.join("done");
        let name = format!("{:013}-{}.json", verdict.at_ms.max(0), verdict.id);
        write_atomic(&dir, &name, &bytes)?;
        let mut all = self.done_files();
        while all.len() > KEEP_DONE {
            let _ = std::fs::remove_file(all.remove(0));
        }
        Ok(())
    }

    /// The verdicts kept, newest first.
    pub fn verdicts(&self) -> Vec<Verdict> {
        let mut all: Vec<Verdict> = self
            .done_files()
            .iter()
            .filter_map(|p| serde_json::from_slice(&std::fs::read(p).ok()?).ok())
            .collect();
        all.reverse();
        all
    }

    /// The verdict of order `id`, once the daemon has given it.
    pub fn verdict(&self, id: &str) -> Option<Verdict> {
        self.verdicts().into_iter().find(|v| v.id == id)
    }

    fn done_files(&self) -> Vec<PathBuf> {
        let mut all: Vec<PathBuf> = std::fs::read_dir(self.dir.join("done"))
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        all.retain(|p| p.extension().is_some_and(|x| x == "json"));
        all.sort();
        all
    }
}

/// What applying an order needs to know.
pub struct Context {
    pub data_dir: PathBuf,
    pub layout: Layout,
    pub limits: Limits,
}

/// Applies `order` (blocking: files and, for an install, the content swap).
pub fn apply(order: &Order, ctx: &Context, now_ms: i64) -> Verdict {
    let result = match &order.what {
        What::Deny { phone } => lists::edit(&ctx.data_dir, *phone, lists::Edit::Deny),
        What::Allow { phone } => lists::edit(&ctx.data_dir, *phone, lists::Edit::Allow),
        What::Unlist { phone } => lists::edit(&ctx.data_dir, *phone, lists::Edit::Unlist),
        What::Install { upload } => install::install(ctx, upload),
        What::Rollback => crate::content::install::rollback(&ctx.layout, ctx.limits.max_item_bytes)
            .map(|i| format!("rolled back to campaign {:?}", i.name)),
    };
    Verdict {
        id: order.id.clone(),
        who: order.who.clone(),
        at_ms: now_ms,
        ok: result.is_ok(),
        reload: result.is_ok(),
        line: result.unwrap_or_else(|e| format!("refused: {e}")),
    }
}

/// A new order id: 16 random hex digits.
pub fn new_id() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the kernel's random numbers");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, dir.join(name)).map_err(|e| format!("{}: {e}", dir.display()))
}

#[cfg(test)]
mod tests;
