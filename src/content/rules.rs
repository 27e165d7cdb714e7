//! The rules a marketer sets on one item, beside its device classes: caps on accepted answers,
//! name filters, its own dates and hours, "only after that one was accepted", and an A/B test
//! of two variants. They are read from an `[[items]]` table of `campaign.toml` (the keys below)
//! and checked together with the campaign's other items; the policy applies them.

use super::campaign_file::ItemFile;
use crate::policy::names::NameFilter;
use crate::policy::schedule::Schedule;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One item's rules; the default has none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItemRules {
    /// At most this many accepted, ever (fleet included as far as the last sync knows).
    pub cap_total: Option<u64>,
    /// At most this many accepted on one day of the appliance's time zone.
    pub cap_per_day: Option<u64>,
    pub names: NameFilter,
    /// The item's own dates and hours, inside the campaign's.
    pub schedule: Schedule,
    /// Offered only to phones that accepted this other item.
    pub after: Option<FollowUp>,
    /// The A/B test this item is a variant of.
    pub ab_test: Option<String>,
}

/// "Offered only to phones that accepted `item`, `delay_minutes` after they did."
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FollowUp {
    pub item: String,
    pub delay_minutes: u64,
}

impl ItemRules {
    /// Reads the rule keys of one `[[items]]` table; the error names the key and the value.
    pub fn parse(spec: &ItemFile) -> Result<ItemRules, String> {
        for (key, cap) in [
            ("cap_total", spec.cap_total),
            ("cap_per_day", spec.cap_per_day),
        ] {
            if cap == Some(0) {
                return Err(format!(
                    "{key} = 0: a cap is at least 1 (leave it out for none)"
                ));
            }
        }
        let after = match (&spec.after, spec.after_minutes) {
            (Some(item), delay) => Some(FollowUp {
                item: item.clone(),
                delay_minutes: delay.unwrap_or(0),
            }),
            (None, Some(m)) => {
                return Err(format!("after_minutes = {m}: needs after = \"<file>\""));
            }
            (None, None) => None,
        };
        if let Some(group) = spec.ab_test.as_deref() {
            if group.trim().is_empty() || group.len() > 60 || group.chars().any(char::is_control) {
                return Err(format!(
                    "ab_test = {group:?}: a short name such as \"flyer\""
                ));
            }
        }
        Ok(ItemRules {
            cap_total: spec.cap_total,
            cap_per_day: spec.cap_per_day,
            names: NameFilter::parse(&spec.name_include, &spec.name_exclude)?,
            schedule: Schedule::parse(spec.start.as_deref(), spec.end.as_deref(), &spec.hours)?,
            after,
            ab_test: spec.ab_test.clone(),
        })
    }

    /// Whether the item has a cap, in total or a day.
    pub fn has_cap(&self) -> bool {
        self.cap_total.is_some() || self.cap_per_day.is_some()
    }

    /// The rules in words, one phrase each (none: no rules).
    pub fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(c) = self.cap_total {
            out.push(format!("at most {c} accepted in total"));
        }
        if let Some(c) = self.cap_per_day {
            out.push(format!("at most {c} accepted a day"));
        }
        out.extend(self.names.describe());
        if let Some(s) = schedule_words(&self.schedule) {
            out.push(s);
        }
        if let Some(f) = &self.after {
            let delay = match f.delay_minutes {
                0 => String::new(),
                m => format!(", {m} min later"),
            };
            out.push(format!("only to phones that accepted {}{delay}", f.item));
        }
        if let Some(t) = &self.ab_test {
            out.push(format!("variant of A/B test \"{t}\""));
        }
        out
    }
}

fn schedule_words(s: &Schedule) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(d) = s.start {
        parts.push(format!("from {d}"));
    }
    if let Some(d) = s.end {
        parts.push(format!("until {d}"));
    }
    if !s.hours.is_empty() {
        let hours: Vec<String> = s.hours.iter().map(|w| w.to_string()).collect();
        parts.push(format!("hours {}", hours.join(", ")));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// An A/B test of the campaign: its name and its two variants' file names, in campaign order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbTest {
    pub name: String,
    pub variants: Vec<String>,
}

/// The campaign's rules in words and its A/B tests: what the dashboard, the day's report and
/// `o4send status` show beside the figures.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RulesSummary {
    /// `all items: names not *TV*`, `voucher.pdf: at most 500 accepted in total; …`.
    pub lines: Vec<String>,
    pub ab_tests: Vec<AbTest>,
}

impl RulesSummary {
    pub fn of(campaign: &super::Campaign) -> RulesSummary {
        let mut lines: Vec<String> = campaign
            .names
            .describe()
            .map(|n| format!("all items: {n}"))
            .into_iter()
            .collect();
        let mut ab_tests: Vec<AbTest> = Vec::new();
        for item in &campaign.items {
            let words = item.rules.describe();
            if !words.is_empty() {
                lines.push(format!("{}: {}", item.name, words.join("; ")));
            }
            let Some(test) = &item.rules.ab_test else {
                continue;
            };
            match ab_tests.iter_mut().find(|t| &t.name == test) {
                Some(t) => t.variants.push(item.name.clone()),
                None => ab_tests.push(AbTest {
                    name: test.clone(),
                    variants: vec![item.name.clone()],
                }),
            }
        }
        RulesSummary { lines, ab_tests }
    }
}

/// Puts the form's rules (`campaign.toml` keys: the name filters and `[[items]]` tables naming
/// uploaded files) into the campaign's description, and checks them all.
pub fn apply_form_rules(desc: &mut super::CampaignFile, text: &str) -> Result<(), String> {
    let form = super::toml_tables::form_rules(text).map_err(|e| format!("rules: {e}"))?;
    desc.name_include = form.name_include;
    desc.name_exclude = form.name_exclude;
    for rule in form.items {
        let Some(item) = desc.items.iter_mut().find(|i| i.file == rule.file) else {
            return Err(format!(
                "rules: file = {:?}: no uploaded file has that name",
                rule.file
            ));
        };
        *item = rule;
    }
    desc.check_rules()
        .map(|_| ())
        .map_err(|e| format!("rules: {e}"))
}

/// Checks the rules that tie items together: a follow-up names another item of the campaign and
/// no chain of follow-ups comes back to where it started; an A/B test has exactly two variants.
pub fn check_together(names: &[&str], rules: &[&ItemRules]) -> Result<(), String> {
    let index: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    for (i, r) in rules.iter().enumerate() {
        let Some(f) = &r.after else { continue };
        let target = *index.get(f.item.as_str()).ok_or_else(|| {
            format!(
                "items[{i}]: after = {:?}: no item of this campaign has that file",
                f.item
            )
        })?;
        if follows_back(target, i, names, rules, &index) {
            return Err(format!(
                "items[{i}]: after = {:?}: the follow-ups go round in a circle, so none would \
                 ever be offered",
                f.item
            ));
        }
    }
    let mut groups: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, r) in rules.iter().enumerate() {
        if let Some(g) = &r.ab_test {
            groups.entry(g.as_str()).or_default().push(i);
        }
    }
    for (group, members) in groups {
        if members.len() != 2 {
            return Err(format!(
                "items[{}]: ab_test = {group:?}: an A/B test has exactly two variants, this one \
                 has {}",
                members[0],
                members.len()
            ));
        }
    }
    Ok(())
}

/// Whether following `after` links from `from` reaches `start`.
fn follows_back(
    mut from: usize,
    start: usize,
    names: &[&str],
    rules: &[&ItemRules],
    index: &HashMap<&str, usize>,
) -> bool {
    for _ in 0..=names.len() {
        if from == start {
            return true;
        }
        match rules[from]
            .after
            .as_ref()
            .and_then(|f| index.get(f.item.as_str()))
        {
            Some(next) => from = *next,
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(file: &str) -> ItemFile {
        ItemFile {
            file: file.into(),
            ..ItemFile::default()
        }
    }

    #[test]
    fn each_bad_key_is_named_with_its_value() {
        let err = |s: ItemFile| ItemRules::parse(&s).unwrap_err();
        let mut s = spec("a.pdf");
        s.cap_total = Some(0);
        assert!(err(s).starts_with("cap_total = 0"));
        let mut s = spec("a.pdf");
        s.after_minutes = Some(5);
        assert!(err(s).starts_with("after_minutes = 5"));
        let mut s = spec("a.pdf");
        s.hours = vec!["5pm-10pm".into()];
        assert!(err(s).contains("\"5pm-10pm\""));
        let mut s = spec("a.pdf");
        s.name_exclude = vec!["/[/".into()];
        assert!(err(s).starts_with("name_exclude = \"/[/\""));
    }

    #[test]
    fn follow_ups_and_ab_tests_are_checked_together() {
        let follow = |item: &str| ItemRules {
            after: Some(FollowUp {
                item: item.into(),
                delay_minutes: 0,
            }),
            ..ItemRules::default()
        };
        let ab = ItemRules {
            ab_test: Some("flyer".into()),
            ..ItemRules::default()
        };
        let none = ItemRules::default();
        let names = ["a.pdf", "b.pdf", "c.pdf"];
        assert!(check_together(&names, &[&none, &follow("a.pdf"), &follow("b.pdf")]).is_ok());
        let missing = check_together(&names, &[&none, &follow("x.pdf"), &none]).unwrap_err();
        assert!(missing.starts_with("items[1]: after = \"x.pdf\": no item"));
        let circle =
            check_together(&names, &[&follow("c.pdf"), &none, &follow("a.pdf")]).unwrap_err();
        assert!(circle.contains("circle"));
        let own = check_together(&names, &[&follow("a.pdf"), &none, &none]).unwrap_err();
        assert!(own.contains("circle"));
        assert!(check_together(&names, &[&ab, &ab, &none]).is_ok());
        let three = check_together(&names, &[&ab, &ab, &ab]).unwrap_err();
        assert!(three.contains("exactly two variants, this one has 3"));
    }
}
