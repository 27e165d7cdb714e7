//! `o4send passwd`: a crypt hash for `console.password_hash` and `dashboard.password_hash`, made
//! on the operator's laptop (Linux, Windows, macOS) or on a box.

use super::CliError;
use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

pub fn passwd() -> Result<ExitCode, CliError> {
    let password = read_password()?;
    if password.chars().count() < 8 {
        return Err(CliError::Failed(
            "passwd: a password needs at least 8 characters".into(),
        ));
    }
    if password.len() > crate::config::password::MAX_LEN {
        return Err(CliError::Failed(format!(
            "passwd: a password has at most {} bytes (the dashboard checks no longer one)",
            crate::config::password::MAX_LEN
        )));
    }
    let hash = crate::config::password::hash(&password)
        .map_err(|e| CliError::Failed(format!("passwd: {e}")))?;
    println!("{hash}");
    Ok(ExitCode::SUCCESS)
}

/// Asked twice without echo at a terminal; else the first line of standard input.
fn read_password() -> Result<String, CliError> {
    let failed = |e: std::io::Error| CliError::Failed(format!("passwd: {e}"));
    if !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(failed)?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    let first = rpassword::prompt_password("Password: ").map_err(failed)?;
    let again = rpassword::prompt_password("Again: ").map_err(failed)?;
    if first != again {
        return Err(CliError::Failed("passwd: the two passwords differ".into()));
    }
    Ok(first)
}
