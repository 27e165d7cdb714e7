//! What a campaign's rules did in the simulated hall (`o4send demo --campaign DIR`): per item the
//! attempts that asked and those accepted, the phones each rule kept from it (by name, outside
//! its hours, by its cap), each cap's end state, and each A/B test's variants with their
//! acceptance rates, 95 % intervals and verdict. The counts are the policy's own (each attempt's
//! end, each phone a rule kept back), which the demo's log matches (tests/campaign_rules.rs).

use super::DemoReport;
use crate::content::rules::RulesSummary;
use crate::report::ab;
use crate::store::Split;
use std::fmt::Write;

/// The rules section; empty for a campaign without rules.
pub fn render(r: &DemoReport) -> String {
    let summary = RulesSummary::of(&r.campaign);
    if summary.lines.is_empty() {
        return String::new();
    }
    let mut out = String::from("\ncampaign rules\n");
    for line in &summary.lines {
        let _ = writeln!(out, "  {line}");
    }
    let holds = &r.progress.holds;
    let splits: Vec<Split> = holds
        .items
        .iter()
        .map(|h| Split {
            name: h.item.clone(),
            offered: h.offered,
            accepted: h.accepted,
        })
        .collect();
    let _ = writeln!(
        out,
        "\n{:<24} {:>7} {:>8} {:>8} {:>9} {:>9}",
        "item", "offered", "accepted", "capped", "filtered", "closed"
    );
    for item in &r.campaign.items {
        let split = splits.iter().find(|s| s.name == item.name);
        let held = holds.items.iter().find(|h| h.item == item.name);
        let _ = writeln!(
            out,
            "{:<24} {:>7} {:>8} {:>8} {:>9} {:>9}",
            crate::model::device::printable(&item.name),
            split.map_or(0, |s| s.offered),
            split.map_or(0, |s| s.accepted),
            held.map_or(0, |h| h.capped),
            held.map_or(0, |h| h.filtered),
            held.map_or(0, |h| h.closed),
        );
    }
    let _ = writeln!(
        out,
        "(phones kept from an item: capped = by its cap, filtered = by its name filters, closed = \
         outside its own hours; {} phone(s) kept out by the campaign's name filters)",
        holds.name_filtered
    );
    for cap in &r.progress.caps {
        let _ = writeln!(out, "cap: {}", cap.line());
    }
    for t in ab::results(&summary.ab_tests, &splits) {
        let _ = writeln!(out, "\nA/B test {:?}", t.name);
        for v in &t.variants {
            let pct = |p: Option<f64>| p.map_or("–".into(), |p| format!("{:.1} %", p * 100.0));
            let _ = writeln!(
                out,
                "  {:<22} {:>4} of {:<4} accepted: {} (95 % interval {} to {})",
                v.item,
                v.accepted,
                v.offered,
                pct(v.rate),
                pct(v.low),
                pct(v.high)
            );
        }
        let _ = writeln!(out, "  {}", t.verdict);
    }
    out
}
