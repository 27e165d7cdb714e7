//! The policy's promises under every rule combination, checked on random campaigns and random
//! halls: no phone is offered an item it answered, a denied phone is never offered anything, a
//! single appliance never goes over a cap (in total or on a day), nobody gets both variants of
//! an A/B test, a follow-up goes only to phones that accepted its first item (after the delay),
//! and name filters and an item's own hours hold.

use super::*;
use crate::content::rules::{FollowUp, ItemRules};
use crate::content::{demo_campaign, Item};
use crate::policy::names::NameFilter;
use crate::policy::schedule::Schedule;
use proptest::prelude::*;

const NAMES: [Option<&str>; 5] = [
    None,
    Some("Galaxy S24"),
    Some("Pixel 9"),
    Some("[TV] Samsung"),
    Some("galaxy a54"),
];
const PATTERNS: [&str; 3] = ["Galaxy*", "*TV*", "/^pixel/"];
const HOURS: [&str; 2] = ["09:00-12:00", "13:00-20:00"];

#[derive(Clone, Debug)]
struct RuleDraw {
    cap_total: Option<u64>,
    cap_per_day: Option<u64>,
    include: Option<usize>,
    exclude: Option<usize>,
    hours: Option<usize>,
    /// Follows the item this many places earlier, after this many minutes.
    follows: Option<(usize, u64)>,
}

#[derive(Clone, Debug)]
enum Step {
    Sight(usize),
    Finish(usize, Outcome),
    Wait(u64),
}

fn rule_draw() -> impl Strategy<Value = RuleDraw> {
    (
        proptest::option::of(1u64..4),
        proptest::option::of(1u64..3),
        proptest::option::of(0usize..3),
        proptest::option::of(0usize..3),
        proptest::option::of(0usize..2),
        proptest::option::of((1usize..3, 0u64..3)),
    )
        .prop_map(
            |(cap_total, cap_per_day, include, exclude, hours, follows)| RuleDraw {
                cap_total,
                cap_per_day,
                include,
                exclude,
                hours,
                follows,
            },
        )
}

fn step() -> impl Strategy<Value = Step> {
    let outcome = prop::sample::select(Outcome::ALL.to_vec());
    prop_oneof![
        4 => (0usize..8).prop_map(Step::Sight),
        4 => (0usize..8, outcome).prop_map(|(p, o)| Step::Finish(p, o)),
        1 => (1u64..20_000).prop_map(Step::Wait),
    ]
}

fn campaign(draws: &[RuleDraw], ab: bool, exclude_all: Option<usize>) -> Campaign {
    let items = draws.iter().enumerate().map(|(i, d)| {
        let name = format!("item{i}.pdf");
        let mut item = Item::new(&name, "application/pdf", name.clone().into_bytes(), vec![]);
        let list = |p: Option<usize>| p.map(|p| vec![PATTERNS[p].to_string()]).unwrap_or_default();
        let hours: Vec<String> = d
            .hours
            .map(|h| vec![HOURS[h].to_string()])
            .unwrap_or_default();
        item.rules = ItemRules {
            cap_total: d.cap_total,
            cap_per_day: d.cap_per_day,
            names: NameFilter::parse(&list(d.include), &list(d.exclude)).unwrap(),
            schedule: Schedule::parse(None, None, &hours).unwrap(),
            after: d
                .follows
                .filter(|(back, _)| *back <= i)
                .map(|(back, m)| FollowUp {
                    item: format!("item{}.pdf", i - back),
                    delay_minutes: m,
                }),
            ab_test: (ab && i < 2).then(|| "t".to_string()),
        };
        Arc::new(item)
    });
    let items: Vec<Arc<Item>> = items.collect();
    let exclude: Vec<String> = exclude_all
        .map(|p| vec![PATTERNS[p].to_string()])
        .unwrap_or_default();
    Campaign {
        items,
        names: NameFilter::parse(&[], &exclude).unwrap(),
        ..demo_campaign()
    }
}

/// What the checker remembers.
#[derive(Default)]
struct Truth {
    /// (phone, item) → the answer that ends asking, and when it came (wall ms).
    answered: HashMap<(usize, usize), (Outcome, i64)>,
    accepted_at: HashMap<usize, Vec<i64>>,
    in_flight: HashMap<usize, usize>,
    got: HashMap<usize, HashSet<usize>>,
}

fn addr(p: usize) -> BdAddr {
    BdAddr([2, 0, 0, 0, 0, p as u8])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn no_rule_combination_breaks_the_promises(
        draws in proptest::collection::vec(rule_draw(), 1..5),
        ab in any::<bool>(),
        exclude_all in proptest::option::of(0usize..3),
        ignored_is_answer in any::<bool>(),
        offer_next in any::<bool>(),
        steps in proptest::collection::vec(step(), 1..120),
    ) {
        let campaign = Arc::new(campaign(&draws, ab, exclude_all));
        let cfg = PolicyConfig {
            deny: vec![addr(7)],
            allow: vec![addr(6)],
            ignored_is_answer,
            offer_next_after_decline: offer_next,
            retry_base_secs: 1,
            retry_max_secs: 4,
            ..PolicyConfig::default()
        };
        let tz = TimeZone::UTC;
        let mut p = Policy::new(&cfg, tz.clone(), campaign.clone(), Duration::from_secs(1 << 30));
        let mut t = Truth::default();
        let mut clock = 0u64;
        for s in steps {
            let now = Now { mono_ms: clock, wall_ms: 1_790_000_000_000 + clock as i64 };
            match s {
                Step::Wait(secs) => clock += secs * 1000,
                Step::Finish(phone, outcome) => {
                    let Some(i) = t.in_flight.remove(&phone) else { continue };
                    p.finished(addr(phone), &campaign.items[i].sha256, outcome, now);
                    let ends = !outcome.is_transient()
                        && (outcome != Outcome::Ignored || ignored_is_answer);
                    if ends {
                        t.answered.insert((phone, i), (outcome, now.wall_ms));
                    }
                    if outcome == Outcome::Accepted {
                        t.accepted_at.entry(i).or_default().push(now.wall_ms);
                    }
                }
                Step::Sight(phone) => {
                    let seen = Seen { addr: addr(phone), class: ClassOfDevice(0x5A020C),
                        rssi: Some(-50), name: NAMES[phone % NAMES.len()] };
                    if p.seen(&seen, now) {
                        p.learn(addr(phone), &DeviceHistory::default(), now);
                    }
                    let Ok(job) = p.next_job(addr(phone), now) else { continue };
                    let i = campaign.items.iter().position(|it| Arc::ptr_eq(it, &job.item)).unwrap();
                    check_offer(&campaign, &t, phone, i, now, &tz)?;
                    prop_assert!(t.in_flight.insert(phone, i).is_none(), "two pushes to one phone");
                    t.got.entry(phone).or_default().insert(i);
                }
            }
            check_caps(&campaign, &t, now, &tz)?;
        }
    }
}

fn check_offer(
    c: &Campaign,
    t: &Truth,
    phone: usize,
    i: usize,
    now: Now,
    tz: &TimeZone,
) -> Result<(), TestCaseError> {
    let allowed = phone == 6;
    let rules = &c.items[i].rules;
    prop_assert!(phone != 7, "offered {i} to a denied phone");
    if !allowed {
        prop_assert!(
            !t.answered.contains_key(&(phone, i)),
            "offered {i} twice to {phone}"
        );
        prop_assert!(
            c.names.admits(NAMES[phone % NAMES.len()]),
            "campaign filter broken"
        );
        prop_assert!(
            rules.names.admits(NAMES[phone % NAMES.len()]),
            "item filter broken"
        );
    }
    prop_assert!(
        rules.schedule.is_open(now.wall_ms, tz),
        "offered {i} outside its hours"
    );
    if rules.ab_test.is_some() {
        let other = 1 - i;
        let got_other = t.got.get(&phone).is_some_and(|g| g.contains(&other));
        prop_assert!(!got_other, "phone {phone} got both variants");
    }
    if let Some(f) = &rules.after {
        let first = c.items.iter().position(|it| it.name == f.item).unwrap();
        match t.answered.get(&(phone, first)) {
            Some((Outcome::Accepted, when)) => prop_assert!(
                now.wall_ms >= when + f.delay_minutes as i64 * 60_000,
                "follow-up {i} before its delay"
            ),
            other => prop_assert!(false, "follow-up {i} to phone {phone} after {other:?}"),
        }
    }
    Ok(())
}

/// Accepted plus in flight never exceeds a cap, in total or on the current day.
fn check_caps(c: &Campaign, t: &Truth, now: Now, tz: &TimeZone) -> Result<(), TestCaseError> {
    let today = caps::day_of(now.wall_ms, tz);
    for (i, item) in c.items.iter().enumerate() {
        let accepted = t.accepted_at.get(&i).map_or(&[][..], |v| v.as_slice());
        let flying = t.in_flight.values().filter(|&&j| j == i).count() as u64;
        let on_day = accepted
            .iter()
            .filter(|&&ms| caps::day_of(ms, tz) == today)
            .count() as u64;
        if let Some(cap) = item.rules.cap_total {
            prop_assert!(
                accepted.len() as u64 + flying <= cap,
                "item {i} over its cap"
            );
        }
        if let Some(cap) = item.rules.cap_per_day {
            prop_assert!(on_day + flying <= cap, "item {i} over its daily cap");
        }
    }
    Ok(())
}
