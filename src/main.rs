//! The `o4send` binary: parses the command line and hands over to the library.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = o4send::cli::Cli::parse();
    o4send::cli::init_logging(&cli);
    match o4send::cli::execute(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("o4send: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
