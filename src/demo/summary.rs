//! The table `o4send demo` prints at the end: attempts by outcome, and per simulated behaviour
//! how many phones came, were contacted and received the file; then, for a campaign with rules,
//! what the rules did ([`super::rules`]).

use super::DemoReport;
use crate::model::outcome::Outcome;
use std::collections::BTreeMap;
use std::fmt::Write;

pub fn render(r: &DemoReport) -> String {
    let mut out = String::new();
    let phones = r.world.phones();
    let expo = r.expo_time.as_secs();
    let _ = writeln!(
        out,
        "o4send demo: {} simulated phones, seed {} — {}h{:02}m of expo time in {:.1} s",
        phones.len(),
        r.cfg.radio.sim.seed,
        expo / 3600,
        expo / 60 % 60,
        r.real_time.as_secs_f64()
    );
    let _ = writeln!(out, "\n{:<18} {:>8}", "outcome", "attempts");
    for o in Outcome::ALL {
        let _ = writeln!(out, "{:<18} {:>8}", o.as_str(), r.progress.count(o));
    }
    let _ = writeln!(out, "{:<18} {:>8}", "total", r.progress.attempts);
    out.push_str(&behaviour_table(r));
    out.push_str(&super::rules::render(r));
    let _ = writeln!(
        out,
        "\nallow list: {} phone(s), deny list: {} phone(s), minimum RSSI {} dBm, classes {:?}",
        r.cfg.policy.allow.len(),
        r.cfg.policy.deny.len(),
        r.cfg.policy.min_rssi.unwrap_or(-127),
        r.cfg
            .policy
            .classes
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
    );
    let _ = writeln!(
        out,
        "log: {}\nsee: o4send status --db {}",
        r.db.display(),
        r.db.display()
    );
    out
}

fn behaviour_table(r: &DemoReport) -> String {
    let mut rows: BTreeMap<&str, [u32; 3]> = BTreeMap::new();
    for p in r.world.phones() {
        let row = rows.entry(p.behaviour.name()).or_default();
        row[0] += 1;
        row[1] += u32::from(r.world.connects(p.index) > 0);
        row[2] += u32::from(r.world.deliveries(p.index) > 0);
    }
    let mut out = format!(
        "\n{:<18} {:>7} {:>10} {:>9}\n",
        "phone behaviour", "phones", "contacted", "received"
    );
    for (name, [n, contacted, received]) in rows {
        let _ = writeln!(out, "{name:<18} {n:>7} {contacted:>10} {received:>9}");
    }
    out
}
