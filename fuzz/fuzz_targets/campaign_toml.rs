//! `campaign.toml` (`CampaignFile::parse`, `schedule`): written by hand, or made from the
//! dashboard's upload form, and read at every start and reload.
//! The checks are in `src/`, shared with tests/fuzz_corpus.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| o4send_fuzz::campaign_toml(data));
