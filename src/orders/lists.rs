//! The phone lists the operator keeps from the dashboard, beside those in `o4send.toml`:
//! `<data_dir>/phone-lists.json`, read by the daemon at start and at every reload.
//!
//! The boot partition's lists stay the operator's own (the dashboard cannot write the card);
//! the dashboard's are added to them. A phone the dashboard denies is denied even when the
//! boot file allows it: an opt-out always wins.

use crate::config::Config;
use crate::model::device::BdAddr;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

const FILE: &str = "phone-lists.json";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Lists {
    pub allow: Vec<BdAddr>,
    pub deny: Vec<BdAddr>,
}

/// A change to the lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edit {
    Deny,
    Allow,
    Unlist,
}

fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE)
}

/// The dashboard's lists (empty when there are none; an unreadable file is an error).
pub fn load(data_dir: &Path) -> Result<Lists, String> {
    let path = path(data_dir);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Lists::default()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Adds the dashboard's lists to `cfg`'s policy; a broken file is logged and left out.
pub fn merge_into(cfg: &mut Config) {
    let lists = match load(&cfg.appliance.data_dir) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("the dashboard's phone lists are not used: {e}");
            return;
        }
    };
    let p = &mut cfg.policy;
    for a in lists.deny {
        if !p.deny.contains(&a) {
            p.deny.push(a);
        }
    }
    for a in lists.allow {
        if !p.allow.contains(&a) {
            p.allow.push(a);
        }
    }
    let deny = p.deny.clone();
    p.allow.retain(|a| !deny.contains(a));
}

/// Applies `edit` to `phone` in the dashboard's lists; the line says what changed.
pub fn edit(data_dir: &Path, phone: BdAddr, edit: Edit) -> Result<String, String> {
    let mut lists = load(data_dir)?;
    lists.allow.retain(|a| *a != phone);
    lists.deny.retain(|a| *a != phone);
    let line = match edit {
        Edit::Deny => {
            lists.deny.push(phone);
            format!("{phone} is on the deny list: never contacted again")
        }
        Edit::Allow => {
            lists.allow.push(phone);
            format!("{phone} is on the allow list: offered again after the cool-down")
        }
        Edit::Unlist => format!(
            "{phone} is off the dashboard's lists (a list in o4send.toml on the card still counts)"
        ),
    };
    save(data_dir, &lists)?;
    Ok(line)
}

fn save(data_dir: &Path, lists: &Lists) -> Result<(), String> {
    let bytes = serde_json::to_vec_pretty(lists).map_err(|e| e.to_string())?;
    let path = path(data_dir);
    let tmp = data_dir.join(format!(".{FILE}.tmp"));
    let write = || -> std::io::Result<()> {
        let file = std::fs::File::create(&tmp)?;
        std::io::Write::write_all(&mut &file, &bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, &path)
    };
    write().map_err(|e| format!("{}: {e}", path.display()))
}
