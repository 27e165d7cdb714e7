//! The real `o4send` binary run once with arguments, as a person at a shell would.

#![allow(dead_code)]

use std::process::{Command, Output};

/// Runs `o4send ARGS` (no RUST_LOG from the test's environment) and returns what it did.
pub fn o4send(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_o4send"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}
