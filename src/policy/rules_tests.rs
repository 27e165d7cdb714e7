//! The campaign rules one by one: name filters, caps (with pushes in flight, per day, and the
//! fleet's counts), an item's own hours, follow-ups and A/B tests.

use super::tests::{addr, at, PHONE};
use super::*;
use crate::content::rules::{FollowUp, ItemRules};
use crate::content::{demo_campaign, Item};
use crate::policy::names::NameFilter;
use crate::policy::schedule::Schedule;

fn item(name: &str, rules: ItemRules) -> Arc<Item> {
    let mut item = Item::new(name, "application/pdf", name.as_bytes().to_vec(), vec![]);
    item.rules = rules;
    Arc::new(item)
}

fn policy_of(items: Vec<Arc<Item>>, names: NameFilter) -> Policy {
    let campaign = Campaign {
        items,
        names,
        ..demo_campaign()
    };
    let cfg = PolicyConfig {
        offer_next_after_decline: true,
        ..PolicyConfig::default()
    };
    Policy::new(
        &cfg,
        TimeZone::UTC,
        Arc::new(campaign),
        Duration::from_secs(3600),
    )
}

fn filter(include: &[&str], exclude: &[&str]) -> NameFilter {
    let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    NameFilter::parse(&own(include), &own(exclude)).unwrap()
}

fn offer(p: &mut Policy, a: BdAddr, name: Option<&str>, now: Now) -> Result<Job, Skip> {
    let seen = Seen {
        addr: a,
        class: PHONE,
        rssi: Some(-50),
        name,
    };
    if p.seen(&seen, now) {
        p.learn(a, &DeviceHistory::default(), now);
    }
    p.next_job(a, now)
}

fn name_of(job: Result<Job, Skip>) -> String {
    job.map(|j| j.item.name.clone())
        .unwrap_or_else(|s| format!("{s:?}"))
}

#[test]
fn campaign_name_filters_keep_phones_out_and_nameless_ones_are_a_stated_case() {
    let mut p = policy_of(
        vec![item("a.pdf", ItemRules::default())],
        filter(&[], &["*TV*"]),
    );
    assert_eq!(
        offer(&mut p, addr(1), Some("[TV] Samsung"), at(0)).unwrap_err(),
        Skip::Name
    );
    assert!(
        offer(&mut p, addr(2), None, at(0)).is_ok(),
        "exclude lists let nameless phones in"
    );
    let mut p = policy_of(
        vec![item("a.pdf", ItemRules::default())],
        filter(&["Galaxy*"], &[]),
    );
    assert_eq!(offer(&mut p, addr(3), None, at(0)).unwrap_err(), Skip::Name);
    // The name arrives with a later sighting: then the phone passes.
    assert!(offer(&mut p, addr(3), Some("galaxy s24"), at(1)).is_ok());
    assert_eq!(p.holds().name_filtered, 1);
}

#[test]
fn item_name_filters_pick_the_item() {
    let galaxy = ItemRules {
        names: filter(&["Galaxy*"], &[]),
        ..ItemRules::default()
    };
    let items = vec![
        item("galaxy.pdf", galaxy),
        item("all.pdf", ItemRules::default()),
    ];
    let mut p = policy_of(items, NameFilter::default());
    assert_eq!(
        name_of(offer(&mut p, addr(1), Some("Galaxy A54"), at(0))),
        "galaxy.pdf"
    );
    assert_eq!(
        name_of(offer(&mut p, addr(2), Some("Pixel 9"), at(0))),
        "all.pdf"
    );
    assert_eq!(p.holds().items[0].filtered, 1);
}

#[test]
fn a_cap_counts_pushes_in_flight_and_frees_what_was_not_accepted() {
    let capped = ItemRules {
        cap_total: Some(2),
        ..ItemRules::default()
    };
    let items = vec![
        item("voucher.pdf", capped),
        item("flyer.pdf", ItemRules::default()),
    ];
    let mut p = policy_of(items, NameFilter::default());
    let hash = p.campaign.items[0].sha256.clone();
    assert_eq!(name_of(offer(&mut p, addr(1), None, at(0))), "voucher.pdf");
    assert_eq!(name_of(offer(&mut p, addr(2), None, at(0))), "voucher.pdf");
    assert_eq!(
        name_of(offer(&mut p, addr(3), None, at(0))),
        "flyer.pdf",
        "2 in flight fill the cap"
    );
    p.finished(addr(1), &hash, Outcome::Declined, at(5));
    assert_eq!(
        name_of(offer(&mut p, addr(4), None, at(6))),
        "voucher.pdf",
        "a no frees its place"
    );
    p.finished(addr(2), &hash, Outcome::Accepted, at(7));
    p.finished(addr(4), &hash, Outcome::Accepted, at(8));
    assert_eq!(name_of(offer(&mut p, addr(5), None, at(9))), "flyer.pdf");
    let state = &p.cap_states(at(9))[0];
    assert!(state.capped && state.accepted.total == 2, "{state:?}");
    assert_eq!(p.holds().items[0].capped, 2);
}

#[test]
fn a_daily_cap_opens_again_the_next_day_and_the_fleet_counts() {
    let daily = ItemRules {
        cap_per_day: Some(1),
        ..ItemRules::default()
    };
    let mut p = policy_of(vec![item("v.pdf", daily)], NameFilter::default());
    let hash = p.campaign.items[0].sha256.clone();
    offer(&mut p, addr(1), None, at(0)).unwrap();
    p.finished(addr(1), &hash, Outcome::Accepted, at(5));
    assert_eq!(offer(&mut p, addr(2), None, at(6)).unwrap_err(), Skip::Done);
    let tomorrow = at(86_400);
    assert!(offer(&mut p, addr(2), None, tomorrow).is_ok());
    p.finished(addr(2), &hash, Outcome::Declined, tomorrow);
    // Another booth of the fleet gave out today's one.
    let fleet = HashMap::from([(hash.clone(), CapCounts { total: 1, today: 1 })]);
    p.learn_counts(HashMap::new(), fleet, tomorrow);
    assert_eq!(
        offer(&mut p, addr(3), None, tomorrow).unwrap_err(),
        Skip::Done
    );
}

#[test]
fn an_items_own_hours_inside_the_campaigns() {
    // at(0) is 14:00 UTC.
    let evening = ItemRules {
        schedule: Schedule::parse(None, None, &["17:00-22:00".into()]).unwrap(),
        ..ItemRules::default()
    };
    let items = vec![
        item("evening.pdf", evening),
        item("day.pdf", ItemRules::default()),
    ];
    let mut p = policy_of(items, NameFilter::default());
    assert_eq!(name_of(offer(&mut p, addr(1), None, at(0))), "day.pdf");
    assert_eq!(
        name_of(offer(&mut p, addr(2), None, at(3 * 3600))),
        "evening.pdf"
    );
    assert_eq!(p.holds().items[0].closed, 1);
}

#[test]
fn a_follow_up_waits_for_its_delay_and_never_follows_a_no() {
    let follow = ItemRules {
        after: Some(FollowUp {
            item: "voucher.pdf".into(),
            delay_minutes: 10,
        }),
        ..ItemRules::default()
    };
    let items = vec![
        item("voucher.pdf", ItemRules::default()),
        item("map.pdf", follow),
    ];
    let mut p = policy_of(items, NameFilter::default());
    let voucher = p.campaign.items[0].sha256.clone();
    offer(&mut p, addr(1), None, at(0)).unwrap();
    p.finished(addr(1), &voucher, Outcome::Accepted, at(5));
    assert_eq!(
        offer(&mut p, addr(1), None, at(6)).unwrap_err(),
        Skip::Waiting(605_000)
    );
    assert!(
        !p.settled(addr(1), at(6)),
        "a waiting follow-up keeps the phone"
    );
    assert_eq!(name_of(offer(&mut p, addr(1), None, at(605))), "map.pdf");
    // Declined (and the policy offers the next item after a no): still never the follow-up.
    offer(&mut p, addr(2), None, at(0)).unwrap();
    p.finished(addr(2), &voucher, Outcome::Declined, at(5));
    assert_eq!(
        offer(&mut p, addr(2), None, at(3600)).unwrap_err(),
        Skip::Done
    );
}

#[test]
fn an_ab_test_gives_each_phone_one_variant_by_its_pseudonym() {
    let variant = || ItemRules {
        ab_test: Some("flyer".into()),
        ..ItemRules::default()
    };
    let items = vec![item("short.pdf", variant()), item("long.pdf", variant())];
    let key = PhoneKey::Hmac(b"fleet secret".to_vec());
    let mut p = policy_of(items, NameFilter::default()).with_phone_key(key.clone());
    let mut got = [0; 2];
    for n in 0..60 {
        let job = offer(&mut p, addr(n), None, at(0)).unwrap();
        let want = ab::variant(&key.phone(addr(n)), "flyer");
        assert_eq!(job.item.name, ["short.pdf", "long.pdf"][want]);
        got[want] += 1;
        p.finished(addr(n), &job.item.sha256.clone(), Outcome::Accepted, at(1));
        assert_eq!(
            offer(&mut p, addr(n), None, at(2)).unwrap_err(),
            Skip::Done,
            "never both"
        );
    }
    assert!(got[0] > 15 && got[1] > 15, "{got:?}");
}
