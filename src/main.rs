//! The `o4send` binary: parses the command line and hands over to the library.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = o4send::cli::Cli::parse();
    quiet_on_closed_pipe(&cli.command);
    o4send::cli::init_logging(&cli);
    match o4send::cli::execute(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("o4send: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Report commands end quietly when their reader goes away (`o4send status | head`), as Unix
/// tools do, instead of panicking on a failed print. The daemon and every command that talks over
/// a socket keep Rust's default (SIGPIPE ignored, EPIPE returned as an error).
#[cfg(target_os = "linux")]
fn quiet_on_closed_pipe(command: &o4send::cli::Command) {
    use o4send::cli::Command;
    if matches!(
        command,
        Command::Status { .. } | Command::Config { .. } | Command::Content { .. }
    ) {
        // SAFETY: called first thing in main, before any other thread exists.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
}

/// Windows has no SIGPIPE; macOS's tool prints reports to files.
#[cfg(not(target_os = "linux"))]
fn quiet_on_closed_pipe(_: &o4send::cli::Command) {}
