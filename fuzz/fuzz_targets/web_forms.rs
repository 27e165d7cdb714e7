//! The dashboard's form and multipart handlers (`web::router`, logged in): login, logout, the
//! phone lists, rollback, restart, campaign and system uploads, with arbitrary bodies.
//! The checks are in `src/`, shared with tests/fuzz_corpus.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| o4send_fuzz::web_forms(data));
