//! The visit spool check: the files the captive page (a separate, sandboxed process) drops for
//! the daemon; a compromised portal could write anything into them.

use o4send::store::visit_spool::parse;
use std::path::Path;

/// Every line that is not blank is either an event or counted as skipped, and each event writes
/// out as JSON that reads back the same.
pub fn visit_spool(data: &[u8]) {
    let (events, skipped) = parse(Path::new("visits/fuzz.jsonl"), data);
    let lines = data
        .split(|b| *b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .count();
    assert_eq!(events.len() + skipped, lines);
    let written: Vec<u8> = events
        .iter()
        .flat_map(|e| {
            let mut line = serde_json::to_vec(e).expect("an event writes out");
            line.push(b'\n');
            line
        })
        .collect();
    let (again, none) = parse(Path::new("visits/again.jsonl"), &written);
    assert_eq!((again, none), (events, 0));
}
