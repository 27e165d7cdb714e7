//! Signed bundles (`TrustedKey::parse`, `signing::verify`, `bundle::manifest::check`): a USB
//! stick from anyone is read up to its signature and manifest before it is refused.
//! The checks are in `src/`, shared with tests/fuzz_corpus.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| o4send_fuzz::bundle_manifest(data));
