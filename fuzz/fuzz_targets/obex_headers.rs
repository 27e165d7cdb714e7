//! OBEX header runs (`header::parse_headers`): lengths, UTF-16 names and unknown ids, as a
//! hostile peer can lay them out inside any packet.
//! The checks are in `src/`, shared with tests/fuzz_corpus.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| o4send_fuzz::obex_headers(data));
