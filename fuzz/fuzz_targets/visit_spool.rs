//! The visit spool (`store::visit_spool::parse`): JSON lines the sandboxed captive page writes
//! and the daemon reads into the log; a compromised portal controls them.
//! The checks are in `src/`, shared with tests/fuzz_corpus.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| o4send_fuzz::visit_spool(data));
