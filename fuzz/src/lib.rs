//! What each fuzz target checks, as plain functions of the input bytes: the libFuzzer targets in
//! `fuzz_targets/` call them, and so does `tests/fuzz_corpus.rs` on the stable toolchain, which
//! replays every committed corpus file and crash reproducer (it includes this file by path, so
//! the checks exist once). Each function panics when a property fails; an error that is handled
//! and explained is not a failure.

mod config;
mod content;
mod obex;
mod visits;
mod web;

pub use config::config_toml;
pub use content::{bundle_manifest, campaign_toml};
pub use obex::{obex_headers, obex_packet, obex_srm};
pub use visits::visit_spool;
pub use web::web_forms;

/// A target's check: panics when a property fails.
pub type Check = fn(&[u8]);

/// Every target by name: the names of `fuzz_targets/*.rs` and of the `corpus/` folders.
pub const TARGETS: &[(&str, Check)] = &[
    ("obex_packet", obex_packet),
    ("obex_headers", obex_headers),
    ("obex_srm", obex_srm),
    ("config_toml", config_toml),
    ("bundle_manifest", bundle_manifest),
    ("campaign_toml", campaign_toml),
    ("visit_spool", visit_spool),
    ("web_forms", web_forms),
];

/// An error for a person: says something, on one line (the journal and the dashboard show them).
fn explained(why: &str) {
    assert!(!why.trim().is_empty(), "an empty error message");
    assert!(!why.contains('\n'), "an error message over lines: {why:?}");
}
