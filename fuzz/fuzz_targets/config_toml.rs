//! `o4send.toml` (`config::decode`, `Config::from_layers`, validation): the operator's file on
//! the boot partition is the one input every appliance reads at boot; a panic would stop it.
//! The checks are in `src/`, shared with tests/fuzz_corpus.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| o4send_fuzz::config_toml(data));
