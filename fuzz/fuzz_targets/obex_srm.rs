//! The OBEX server with Single Response Mode (`obex::serve`, `srm::ServerSrm`, `srm::ClientSrm`):
//! a whole connection's byte stream from a peer, and whether both sides agree when SRM streams.
//! The checks are in `src/`, shared with tests/fuzz_corpus.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| o4send_fuzz::obex_srm(data));
