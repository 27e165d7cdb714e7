//! Whole OBEX requests and responses (`Request::parse`, `Response::parse`): the first bytes
//! any phone or pusher sends reach these parsers before anything else looks at them.
//! The checks are in `src/`, shared with tests/fuzz_corpus.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| o4send_fuzz::obex_packet(data));
