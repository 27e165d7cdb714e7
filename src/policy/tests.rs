use super::*;
use crate::config::PolicyConfig;
use crate::content::{demo_campaign, Item};
use crate::model::device::MajorClass;
use crate::store::ItemHistory;

pub(super) const PHONE: ClassOfDevice = ClassOfDevice(0x5A020C);
const LAPTOP: ClassOfDevice = ClassOfDevice(0x7A010C);
const HEADSET: ClassOfDevice = ClassOfDevice(0x240404);

pub(super) fn addr(n: u8) -> BdAddr {
    BdAddr([0, 0x11, 0x22, 0x33, 0x44, n])
}

pub(super) fn at(secs: u64) -> Now {
    Now {
        mono_ms: secs * 1000,
        wall_ms: 1_790_000_000_000 + secs as i64 * 1000,
    }
}

fn policy(cfg: PolicyConfig) -> Policy {
    Policy::new(
        &cfg,
        TimeZone::UTC,
        Arc::new(demo_campaign()),
        Duration::from_secs(300),
    )
}

/// The demo campaign with these items instead of its own.
fn campaign_of(items: &[Arc<Item>]) -> Arc<Campaign> {
    Arc::new(Campaign {
        items: items.to_vec(),
        ..demo_campaign()
    })
}

/// A policy whose only setting is `offer_next_after_decline`, over these items.
fn policy_offering_next(offer_next: bool, items: &[Arc<Item>]) -> (Policy, PolicyConfig) {
    let cfg = PolicyConfig {
        offer_next_after_decline: offer_next,
        ..Default::default()
    };
    let p = Policy::new(
        &cfg,
        TimeZone::UTC,
        campaign_of(items),
        Duration::from_secs(300),
    );
    (p, cfg)
}

/// Sees a device with no history and asks for its next job.
fn offer(
    p: &mut Policy,
    a: BdAddr,
    class: ClassOfDevice,
    rssi: i16,
    now: Now,
) -> Result<Job, Skip> {
    if p.seen(
        &Seen {
            addr: a,
            name: None,
            class,
            rssi: Some(rssi),
        },
        now,
    ) {
        p.learn(a, &DeviceHistory::default(), now);
    }
    p.next_job(a, now)
}

#[test]
fn a_phone_gets_the_phone_item_once() {
    let mut p = policy(PolicyConfig::default());
    let job = offer(&mut p, addr(1), PHONE, -60, at(0)).unwrap();
    assert_eq!(job.item.name, "o4send-expo.html");
    assert_eq!(
        offer(&mut p, addr(1), PHONE, -60, at(1)).unwrap_err(),
        Skip::Busy
    );
    p.finished(addr(1), &job.item.sha256, Outcome::Accepted, at(30));
    assert_eq!(
        offer(&mut p, addr(1), PHONE, -60, at(31)).unwrap_err(),
        Skip::Done
    );
    assert_eq!(
        offer(&mut p, addr(1), PHONE, -60, at(100_000)).unwrap_err(),
        Skip::Done
    );
}

#[test]
fn answers_are_final_and_transient_failures_back_off() {
    for answer in [
        Outcome::Declined,
        Outcome::Ignored,
        Outcome::UnsupportedType,
        Outcome::NoOpp,
    ] {
        let mut p = policy(PolicyConfig::default());
        let job = offer(&mut p, addr(1), PHONE, -60, at(0)).unwrap();
        p.finished(addr(1), &job.item.sha256, answer, at(10));
        assert!(
            offer(&mut p, addr(1), PHONE, -60, at(10_000)).is_err(),
            "{answer} must not be re-asked"
        );
    }
    let cfg = PolicyConfig {
        retry_limit: 2,
        retry_base_secs: 30,
        retry_max_secs: 45,
        ..Default::default()
    };
    let mut p = policy(cfg);
    let job = offer(&mut p, addr(1), PHONE, -60, at(0)).unwrap();
    p.finished(addr(1), &job.item.sha256, Outcome::Unreachable, at(10));
    assert_eq!(
        offer(&mut p, addr(1), PHONE, -60, at(20)).unwrap_err(),
        Skip::Waiting(40_000)
    );
    assert!(p.due(at(39)).is_empty());
    assert_eq!(p.due(at(40)), vec![addr(1)]);
    let job = offer(&mut p, addr(1), PHONE, -60, at(40)).unwrap();
    p.finished(addr(1), &job.item.sha256, Outcome::Failed, at(41));
    // Second back-off: 60 s capped at 45 s.
    assert_eq!(
        offer(&mut p, addr(1), PHONE, -60, at(50)).unwrap_err(),
        Skip::Waiting(86_000)
    );
    let job = offer(&mut p, addr(1), PHONE, -60, at(86)).unwrap();
    p.finished(addr(1), &job.item.sha256, Outcome::Failed, at(87));
    // Limit reached: two retries after the first attempt.
    assert_eq!(
        offer(&mut p, addr(1), PHONE, -60, at(10_000)).unwrap_err(),
        Skip::Done
    );
    assert!(p.due(at(10_000)).is_empty());
}

#[test]
fn filters_deny_allow() {
    let cfg = PolicyConfig {
        min_rssi: Some(-80),
        allow: vec![addr(9)],
        deny: vec![addr(8)],
        ..Default::default()
    };
    let mut p = policy(cfg);
    assert_eq!(
        offer(&mut p, addr(1), HEADSET, -50, at(0)).unwrap_err(),
        Skip::Class
    );
    assert_eq!(
        offer(&mut p, addr(2), PHONE, -81, at(0)).unwrap_err(),
        Skip::WeakSignal
    );
    assert!(
        offer(&mut p, addr(2), PHONE, -79, at(1)).is_ok(),
        "came closer"
    );
    assert_eq!(
        offer(&mut p, addr(8), PHONE, -40, at(0)).unwrap_err(),
        Skip::Denied
    );
    // The allow list passes the filters and is offered again after the cool-down.
    let job = offer(&mut p, addr(9), HEADSET, -95, at(0)).unwrap();
    p.finished(addr(9), &job.item.sha256, Outcome::Accepted, at(10));
    assert!(matches!(
        offer(&mut p, addr(9), HEADSET, -95, at(20)),
        Err(Skip::Waiting(_))
    ));
    assert!(offer(&mut p, addr(9), HEADSET, -95, at(311)).is_ok());
}

#[test]
fn per_class_targeting_and_next_item_rules() {
    let mut p = policy(PolicyConfig {
        classes: vec![MajorClass::Phone, MajorClass::Computer],
        ..Default::default()
    });
    assert_eq!(
        offer(&mut p, addr(1), LAPTOP, -50, at(0))
            .unwrap()
            .item
            .name,
        "o4send.vcf"
    );
    let two = Campaign {
        items: vec![
            Arc::new(Item::new("a.txt", "text/plain", b"a".to_vec(), vec![])),
            Arc::new(Item::new("b.txt", "text/plain", b"b".to_vec(), vec![])),
        ],
        ..demo_campaign()
    };
    for (offer_next, answer, second) in [
        (false, Outcome::Accepted, Ok("b.txt")),
        (false, Outcome::Declined, Err(Skip::Done)),
        (true, Outcome::Declined, Ok("b.txt")),
        (false, Outcome::UnsupportedType, Ok("b.txt")),
    ] {
        let (mut p, _) = policy_offering_next(offer_next, &two.items);
        let job = offer(&mut p, addr(1), PHONE, -50, at(0)).unwrap();
        assert_eq!(job.item.name, "a.txt");
        p.finished(addr(1), &job.item.sha256, answer, at(5));
        let next = offer(&mut p, addr(1), PHONE, -50, at(6)).map(|j| j.item.name.clone());
        assert_eq!(
            next.as_deref().map_err(|e| *e),
            second,
            "{answer} offer_next={offer_next}"
        );
    }
}

#[test]
fn history_from_the_store_is_respected() {
    let mut p = policy(PolicyConfig::default());
    let flyer = demo_campaign().items[0].sha256.clone();
    let answered = DeviceHistory {
        items: vec![ItemHistory {
            item_hash: flyer.clone(),
            answer: Some(Outcome::Declined),
            failures: 0,
            attempts: 1,
            last_ended_ms: Some(0),
        }],
        no_opp: false,
    };
    assert!(p.seen(
        &Seen {
            addr: addr(1),
            name: None,
            class: PHONE,
            rssi: None
        },
        at(0)
    ));
    p.learn(addr(1), &answered, at(0));
    assert_eq!(p.next_job(addr(1), at(0)).unwrap_err(), Skip::Done);
    let no_opp = DeviceHistory {
        items: vec![],
        no_opp: true,
    };
    p.seen(
        &Seen {
            addr: addr(2),
            name: None,
            class: PHONE,
            rssi: None,
        },
        at(0),
    );
    p.learn(addr(2), &no_opp, at(0));
    assert_eq!(p.next_job(addr(2), at(0)).unwrap_err(), Skip::NoOpp);
    let exhausted = DeviceHistory {
        items: vec![ItemHistory {
            item_hash: flyer,
            answer: None,
            failures: 4,
            attempts: 4,
            last_ended_ms: Some(0),
        }],
        no_opp: false,
    };
    p.seen(
        &Seen {
            addr: addr(3),
            name: None,
            class: PHONE,
            rssi: None,
        },
        at(0),
    );
    p.learn(addr(3), &exhausted, at(0));
    assert_eq!(p.next_job(addr(3), at(0)).unwrap_err(), Skip::Done);
}

#[test]
fn ignored_can_be_retried_when_configured() {
    let cfg = PolicyConfig {
        ignored_is_answer: false,
        ignored_retry_secs: 600,
        ..Default::default()
    };
    let mut p = policy(cfg);
    let job = offer(&mut p, addr(1), PHONE, -50, at(0)).unwrap();
    p.finished(addr(1), &job.item.sha256, Outcome::Ignored, at(60));
    assert_eq!(
        offer(&mut p, addr(1), PHONE, -50, at(61)).unwrap_err(),
        Skip::Waiting(660_000)
    );
    assert!(offer(&mut p, addr(1), PHONE, -50, at(660)).is_ok());
}

#[test]
fn schedule_closes_and_devices_are_forgotten() {
    let mut campaign = demo_campaign();
    campaign.schedule =
        schedule::Schedule::parse(Some("2000-01-01"), Some("2000-01-02"), &[]).unwrap();
    let mut p = Policy::new(
        &PolicyConfig::default(),
        TimeZone::UTC,
        Arc::new(campaign),
        Duration::from_secs(300),
    );
    assert_eq!(
        offer(&mut p, addr(1), PHONE, -50, at(0)).unwrap_err(),
        Skip::Closed
    );
    assert_eq!(p.tracked(), 1);
    assert!(p.evict(at(300)).is_empty());
    assert_eq!(p.evict(at(301)), vec![addr(1)]);
    assert_eq!(p.tracked(), 0);
}

#[test]
fn in_flight_devices_are_not_forgotten_and_reload_relearns() {
    let mut p = policy(PolicyConfig::default());
    let job = offer(&mut p, addr(1), PHONE, -50, at(0)).unwrap();
    assert!(p.evict(at(10_000)).is_empty());
    p.reload(
        &PolicyConfig::default(),
        TimeZone::UTC,
        Arc::new(demo_campaign()),
    );
    assert!(p.needs_history(addr(1)));
    p.finished(addr(1), &job.item.sha256, Outcome::Accepted, at(10_001));
    assert_eq!(p.evict(at(20_000)), vec![addr(1)]);
}

#[test]
fn outcomes_survive_a_reload_without_the_store() {
    let mut p = policy(PolicyConfig::default());
    let a = offer(&mut p, addr(1), PHONE, -50, at(0)).unwrap();
    let b = offer(&mut p, addr(2), PHONE, -50, at(0)).unwrap();
    p.finished(addr(1), &a.item.sha256, Outcome::Declined, at(5));
    // Same campaign again; addr(2)'s push ends after the reload. The store knows nothing yet.
    p.reload(
        &PolicyConfig::default(),
        TimeZone::UTC,
        Arc::new(demo_campaign()),
    );
    p.finished(addr(2), &b.item.sha256, Outcome::Accepted, at(6));
    for n in [1, 2] {
        assert!(p.needs_history(addr(n)));
        p.learn(addr(n), &DeviceHistory::default(), at(7));
        assert_eq!(
            p.next_job(addr(n), at(7)).unwrap_err(),
            Skip::Done,
            "device {n} re-asked after reload"
        );
    }
}

#[test]
fn settled_devices_can_be_forgotten_but_not_those_awaiting_a_retry() {
    let mut p = policy(PolicyConfig::default());
    let job = offer(&mut p, addr(1), PHONE, -50, at(0)).unwrap();
    assert!(!p.settled(addr(1), at(1)), "in flight");
    p.finished(addr(1), &job.item.sha256, Outcome::Unreachable, at(2));
    assert!(!p.settled(addr(1), at(3)), "a retry is waiting");
    let job = offer(&mut p, addr(1), PHONE, -50, at(40)).unwrap();
    p.finished(addr(1), &job.item.sha256, Outcome::Accepted, at(50));
    assert!(p.settled(addr(1), at(51)));
}

#[test]
fn handled_devices_are_forgotten_again_when_seen_but_not_too_often() {
    let mut p = policy(PolicyConfig::default());
    // Never handled (wrong class): bluetoothd's own temporary device, not ours to forget.
    offer(&mut p, addr(2), HEADSET, -50, at(0)).unwrap_err();
    assert!(!p.take_forget(addr(2), at(1)));
    let job = offer(&mut p, addr(1), PHONE, -50, at(0)).unwrap();
    assert!(!p.take_forget(addr(1), at(1)), "in flight");
    p.finished(addr(1), &job.item.sha256, Outcome::Declined, at(10));
    assert!(p.take_forget(addr(1), at(10)));
    assert!(!p.take_forget(addr(1), at(12)), "forgotten moments ago");
    assert!(p.take_forget(addr(1), at(16)));
    // Handled in an earlier run: known from the log.
    let history = DeviceHistory {
        items: vec![],
        no_opp: true,
    };
    assert!(p.seen(
        &Seen {
            addr: addr(3),
            name: None,
            class: PHONE,
            rssi: None
        },
        at(20)
    ));
    p.learn(addr(3), &history, at(20));
    assert!(p.take_forget(addr(3), at(20)));
}

#[test]
fn a_phone_that_answered_a_push_has_proven_opp() {
    let mut p = policy(PolicyConfig::default());
    let first = offer(&mut p, addr(1), PHONE, -50, at(0)).unwrap();
    assert!(!first.opp_proven, "a new phone has proven nothing");
    p.finished(addr(1), &first.item.sha256, Outcome::Declined, at(5));
    // A new campaign (other files): the earlier answer is carried by hash and proves OPP.
    let mut campaign = demo_campaign();
    for item in &mut campaign.items {
        *item = Arc::new(Item {
            name: item.name.clone(),
            mime: item.mime.clone(),
            sha256: format!("new-{}", item.sha256),
            md5: item.md5.clone(),
            body: item.body.clone(),
            classes: item.classes.clone(),
            rules: Default::default(),
        });
    }
    p.reload(&PolicyConfig::default(), TimeZone::UTC, Arc::new(campaign));
    p.learn(addr(1), &DeviceHistory::default(), at(6));
    let next = p.next_job(addr(1), at(6)).unwrap();
    assert!(
        next.opp_proven,
        "declined before: the phone has Object Push"
    );
}

#[test]
fn a_phone_that_declined_is_not_offered_an_item_that_sorts_before() {
    let a = Arc::new(Item::new("a.txt", "text/plain", b"a".to_vec(), vec![]));
    let b = Arc::new(Item::new("b.txt", "text/plain", b"b".to_vec(), vec![]));
    for (offer_next, want) in [(false, Err(Skip::Done)), (true, Ok("a.txt"))] {
        let (mut p, cfg) = policy_offering_next(offer_next, std::slice::from_ref(&b));
        let job = offer(&mut p, addr(1), PHONE, -50, at(0)).unwrap();
        p.finished(addr(1), &job.item.sha256, Outcome::Declined, at(5));
        // a.txt is published later; items are offered in name order.
        p.reload(&cfg, TimeZone::UTC, campaign_of(&[a.clone(), b.clone()]));
        let declined = DeviceHistory {
            items: vec![ItemHistory {
                item_hash: b.sha256.clone(),
                answer: Some(Outcome::Declined),
                failures: 0,
                attempts: 1,
                last_ended_ms: Some(0),
            }],
            no_opp: false,
        };
        assert!(p.needs_history(addr(1)));
        p.learn(addr(1), &declined, at(6));
        let next = p.next_job(addr(1), at(6)).map(|j| j.item.name.clone());
        assert_eq!(
            next.as_deref().map_err(|e| *e),
            want,
            "offer_next={offer_next}"
        );
    }
}
