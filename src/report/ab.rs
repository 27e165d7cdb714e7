//! A/B tests in the day's report: per variant the phones asked and those that accepted, the
//! acceptance rate with its 95 % confidence interval (Wilson's score interval, which stays
//! inside 0–100 % and behaves with few phones), and in words whether the difference is
//! significant yet (a two-proportion z-test at 95 %), and if not, about how many more phones per
//! variant a difference of this size would need (at 80 % power).

pub use crate::content::rules::AbTest;
use crate::store::Split;
use serde::{Deserialize, Serialize};

/// z for a two-sided 95 % interval, and for 80 % power.
const Z95: f64 = 1.959_964;
const Z80: f64 = 0.841_621;
/// Fewer phones asked per variant than this, and nothing is said about the difference.
const TOO_FEW: u64 = 20;

/// One variant's figures.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    pub item: String,
    pub offered: u64,
    pub accepted: u64,
    /// Accepted ÷ offered, and its 95 % interval (none when nobody was asked).
    pub rate: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

/// One test's outcome.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AbResult {
    pub name: String,
    pub variants: Vec<Variant>,
    /// Whether the difference is significant at 95 %.
    pub significant: bool,
    pub verdict: String,
}

/// The results of `tests` from the day's per-item figures.
pub fn results(tests: &[AbTest], per_item: &[Split]) -> Vec<AbResult> {
    tests.iter().map(|t| result(t, per_item)).collect()
}

fn result(test: &AbTest, per_item: &[Split]) -> AbResult {
    let variants: Vec<Variant> = test
        .variants
        .iter()
        .map(|name| {
            let split = per_item.iter().find(|s| &s.name == name);
            variant(
                name,
                split.map_or(0, |s| s.offered),
                split.map_or(0, |s| s.accepted),
            )
        })
        .collect();
    let (significant, verdict) = match variants.as_slice() {
        [a, b] => compare(a, b),
        _ => (false, "an A/B test needs two variants".to_string()),
    };
    AbResult {
        name: test.name.clone(),
        variants,
        significant,
        verdict,
    }
}

fn variant(item: &str, offered: u64, accepted: u64) -> Variant {
    let accepted = accepted.min(offered);
    let (low, high) = wilson(accepted, offered).unzip();
    Variant {
        item: item.to_string(),
        offered,
        accepted,
        rate: (offered > 0).then(|| accepted as f64 / offered as f64),
        low,
        high,
    }
}

/// Wilson's 95 % score interval for `k` of `n`.
pub fn wilson(k: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let z2 = Z95 * Z95;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z95 / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// The verdict on two variants, in words.
fn compare(a: &Variant, b: &Variant) -> (bool, String) {
    if a.offered < TOO_FEW || b.offered < TOO_FEW {
        return (
            false,
            format!("too early to tell: fewer than {TOO_FEW} phones asked for a variant"),
        );
    }
    let (pa, pb) = (a.rate.unwrap_or(0.0), b.rate.unwrap_or(0.0));
    let z = z_score(a, b);
    let pct = |p: f64| format!("{:.0} %", p * 100.0);
    let (better, pbetter, pworse) = if pa >= pb { (a, pa, pb) } else { (b, pb, pa) };
    if z.abs() >= Z95 {
        return (
            true,
            format!(
                "{} is accepted more often ({} against {}): the difference is significant at 95 %",
                better.item,
                pct(pbetter),
                pct(pworse)
            ),
        );
    }
    let more = match phones_needed(pa, pb) {
        Some(n) if n > a.offered.min(b.offered) => format!(
            "; a difference this size needs about {} phones per variant",
            n
        ),
        Some(_) => String::new(),
        None => "; the rates are the same so far".to_string(),
    };
    (
        false,
        format!(
            "no significant difference yet ({} against {}){more}",
            pct(pa),
            pct(pb)
        ),
    )
}

/// The pooled two-proportion z statistic.
fn z_score(a: &Variant, b: &Variant) -> f64 {
    let (na, nb) = (a.offered as f64, b.offered as f64);
    let pooled = (a.accepted + b.accepted) as f64 / (na + nb);
    let se = (pooled * (1.0 - pooled) * (1.0 / na + 1.0 / nb)).sqrt();
    if se == 0.0 {
        return 0.0;
    }
    (a.accepted as f64 / na - b.accepted as f64 / nb) / se
}

/// Phones per variant to tell `pa` from `pb` at 95 % with 80 % power.
fn phones_needed(pa: f64, pb: f64) -> Option<u64> {
    let d = (pa - pb).abs();
    if d < 1e-9 {
        return None;
    }
    let n = (Z95 + Z80).powi(2) * (pa * (1.0 - pa) + pb * (1.0 - pb)) / (d * d);
    Some(n.ceil() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(name: &str, offered: u64, accepted: u64) -> Split {
        Split {
            name: name.into(),
            offered,
            accepted,
        }
    }

    fn test() -> AbTest {
        AbTest {
            name: "flyer".into(),
            variants: vec!["short.pdf".into(), "long.pdf".into()],
        }
    }

    #[test]
    fn wilson_matches_the_textbook() {
        // 40 of 100: 30.9 % to 49.8 % (Wilson, 95 %).
        let (low, high) = wilson(40, 100).unwrap();
        assert!((low - 0.3094).abs() < 0.001, "{low}");
        assert!((high - 0.4980).abs() < 0.001, "{high}");
        let (low, high) = wilson(0, 10).unwrap();
        assert_eq!(low, 0.0);
        assert!(high > 0.25 && high < 0.31, "{high}");
        assert!(wilson(0, 0).is_none());
    }

    #[test]
    fn a_clear_difference_is_significant_and_a_small_one_is_not_yet() {
        let r = results(
            &[test()],
            &[split("short.pdf", 200, 90), split("long.pdf", 200, 50)],
        );
        assert!(r[0].significant, "{}", r[0].verdict);
        assert!(r[0]
            .verdict
            .starts_with("short.pdf is accepted more often (45 % against 25 %)"));
        let r = results(
            &[test()],
            &[split("short.pdf", 100, 42), split("long.pdf", 100, 38)],
        );
        assert!(!r[0].significant);
        assert!(r[0].verdict.contains("needs about"), "{}", r[0].verdict);
        let r = results(
            &[test()],
            &[split("short.pdf", 5, 5), split("long.pdf", 5, 0)],
        );
        assert!(r[0].verdict.starts_with("too early"));
        let r = results(&[test()], &[]);
        assert_eq!(r[0].variants[0].rate, None);
    }
}
