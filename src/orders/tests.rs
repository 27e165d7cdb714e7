use super::*;
use crate::content::install::Layout;

fn ctx(dir: &Path) -> Context {
    Context {
        data_dir: dir.to_path_buf(),
        layout: Layout::new(&dir.join("content")),
        limits: Limits {
            max_item_bytes: 1 << 20,
            max_bundle_bytes: 4 << 20,
        },
    }
}

fn order(what: What) -> Order {
    Order {
        id: new_id(),
        who: "session 1234 from 127.0.0.1".into(),
        at_ms: 5,
        what,
    }
}

fn upload(dir: &Path, name: &str, file: (&str, &[u8])) -> String {
    let id = new_id();
    let files = dir.join(UPLOADS).join(&id).join("files");
    std::fs::create_dir_all(&files).unwrap();
    std::fs::write(files.join(file.0), file.1).unwrap();
    std::fs::write(
        files.join("campaign.toml"),
        format!("name = {name:?}\nsender_name = \"Booth\"\nhours = [\"09:00-18:00\"]\n\n[[items]]\nfile = {:?}\n", file.0),
    )
    .unwrap();
    id
}

#[test]
fn orders_wait_in_the_spool_in_order_and_leave_a_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::new(dir.path());
    let phone: BdAddr = "00:11:22:33:44:55".parse().unwrap();
    let (mut a, mut b) = (order(What::Deny { phone }), order(What::Rollback));
    (a.at_ms, b.at_ms) = (2, 1);
    spool.submit(&a).unwrap();
    spool.submit(&b).unwrap();
    std::fs::write(dir.path().join("orders/zz.json"), b"{not json").unwrap();
    let got = spool.waiting();
    assert_eq!(got[0].as_ref().unwrap(), &b);
    assert_eq!(got[1].as_ref().unwrap(), &a);
    assert!(got[2].as_ref().unwrap_err().contains("not an order"));
    assert!(spool.waiting().is_empty(), "taken orders are gone");
    let v = apply(&a, &ctx(dir.path()), 9);
    assert!(v.ok && v.reload, "{v:?}");
    spool.done(&v).unwrap();
    assert_eq!(spool.verdict(&a.id).unwrap().line, v.line);
}

#[test]
fn a_denied_phone_wins_over_the_cards_allow_list() {
    let dir = tempfile::tempdir().unwrap();
    let phone: BdAddr = "00:11:22:33:44:55".parse().unwrap();
    let other: BdAddr = "00:11:22:33:44:66".parse().unwrap();
    lists::edit(dir.path(), phone, lists::Edit::Deny).unwrap();
    lists::edit(dir.path(), other, lists::Edit::Allow).unwrap();
    let mut cfg = crate::config::Config::default();
    cfg.appliance.data_dir = dir.path().to_path_buf();
    cfg.policy.allow = vec![phone];
    lists::merge_into(&mut cfg);
    assert_eq!(cfg.policy.deny, vec![phone]);
    assert_eq!(cfg.policy.allow, vec![other]);
    lists::edit(dir.path(), phone, lists::Edit::Unlist).unwrap();
    assert_eq!(lists::load(dir.path()).unwrap().deny, vec![]);
}

#[test]
fn an_upload_is_installed_like_a_stick_and_can_be_rolled_back() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = ctx(dir.path());
    let first = upload(dir.path(), "Spring", ("flyer.txt", b"spring flyer"));
    let v = apply(
        &order(What::Install {
            upload: first.clone(),
        }),
        &ctx,
        1,
    );
    assert!(v.ok, "{v:?}");
    assert!(
        !dir.path().join(UPLOADS).join(&first).exists(),
        "the upload is cleared"
    );
    let campaign = crate::content::load(&ctx.layout.content, 1 << 20).unwrap();
    assert_eq!(
        (campaign.name.as_str(), campaign.items[0].body.as_slice()),
        ("Spring", &b"spring flyer"[..])
    );
    let second = upload(dir.path(), "Summer", ("map.txt", b"summer map"));
    assert!(apply(&order(What::Install { upload: second }), &ctx, 2).ok);
    assert_eq!(
        crate::content::load(&ctx.layout.content, 1 << 20)
            .unwrap()
            .name,
        "Summer"
    );
    let back = apply(&order(What::Rollback), &ctx, 3);
    assert_eq!(back.line, "rolled back to campaign \"Spring\"");
    let bad = upload(dir.path(), "Bad", ("../evil.txt", b"x"));
    let v = apply(&order(What::Install { upload: bad }), &ctx, 4);
    assert!(!v.ok && v.line.starts_with("refused: "), "{v:?}");
    assert_eq!(
        crate::content::load(&ctx.layout.content, 1 << 20)
            .unwrap()
            .name,
        "Spring"
    );
    let v = apply(
        &order(What::Install {
            upload: "../x".into(),
        }),
        &ctx,
        5,
    );
    assert!(v.line.contains("is not an upload"), "{v:?}");
}
