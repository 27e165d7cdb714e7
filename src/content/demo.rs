//! The built-in campaign of `o4send demo`: an HTML flyer for phones and a vCard for computers,
//! made in memory so the demo needs no files.

use super::{Campaign, Item};
use crate::model::device::MajorClass;
use crate::policy::schedule::Schedule;
use std::sync::Arc;

pub fn demo_campaign() -> Campaign {
    Campaign {
        name: "o4send demo".into(),
        sender_name: "o4send demo booth".into(),
        schedule: Schedule::default(),
        texts: Default::default(),
        names: Default::default(),
        items: vec![
            Arc::new(Item::new(
                "o4send-expo.html",
                "text/html",
                flyer(),
                vec![MajorClass::Phone],
            )),
            Arc::new(Item::new(
                "o4send.vcf",
                "text/x-vcard",
                vcard(),
                vec![MajorClass::Computer],
            )),
        ],
    }
}

fn flyer() -> Vec<u8> {
    let mut html = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>o4send</title></head><body>\n",
    );
    html.push_str("<h1>Welcome to the o4send booth</h1>\n");
    for hall in 1..=400 {
        html.push_str(&format!(
            "<p>Hall {hall}: stand {} &mdash; free coffee, no pairing needed.</p>\n",
            hall * 7 % 97
        ));
    }
    html.push_str("</body></html>\n");
    html.into_bytes()
}

fn vcard() -> Vec<u8> {
    b"BEGIN:VCARD\r\nVERSION:2.1\r\nN:Booth;o4send\r\nFN:o4send booth\r\nORG:o4send\r\nURL:https://example.org/o4send\r\nEND:VCARD\r\n".to_vec()
}
