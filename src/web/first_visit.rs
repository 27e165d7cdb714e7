//! The dashboard's password: the one from the settings (Raspberry Pi Imager's form or
//! `o4send.toml`, which win), else the one the operator chose in the browser, kept hashed on the
//! data partition. A box set up without any password is not locked out of its own dashboard, and
//! not open to the hall either: the first visit may choose the password only with a code the box
//! shows on its own screen (the console banner) and in `o4send status`, which only someone at
//! the box can read. Failed codes slow that client down like failed passwords (`web::throttle`).

use crate::config::password;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

/// The chosen password's hash, under the data directory.
pub const STORED: &str = "dashboard-password";
/// The first visit's code while no password is set, under the data directory.
pub const CODE: &str = "dashboard-first-visit";
/// The shortest password the first visit and a change accept.
pub const MIN_LEN: usize = 8;

pub struct Password {
    data_dir: PathBuf,
    from_settings: bool,
    hash: RwLock<Option<String>>,
    code: Option<String>,
}

impl Password {
    /// The settings' hash, else the chosen one, else a first visit with a new code (written for
    /// the banner).
    pub fn load(settings: Option<&str>, data_dir: &Path) -> Result<Password, String> {
        let stored = read_stored(data_dir);
        let from_settings = settings.is_some();
        let hash = settings.map(str::to_string).or(stored);
        if let Some(why) = hash.as_deref().and_then(password::unsupported) {
            return Err(format!("dashboard.password_hash: {why}"));
        }
        let code = match hash {
            Some(_) => {
                let _ = std::fs::remove_file(data_dir.join(CODE));
                None
            }
            None => Some(new_code(data_dir)?),
        };
        Ok(Password {
            data_dir: data_dir.to_path_buf(),
            from_settings,
            hash: RwLock::new(hash),
            code,
        })
    }

    /// The hash logins are checked against; None until the first visit chose one.
    pub fn hash(&self) -> Option<String> {
        self.hash.read().expect("not poisoned").clone()
    }

    /// Whether `code` is the first visit's code, while no password is set.
    pub fn code_matches(&self, code: &str) -> bool {
        let code: String = code.chars().filter(char::is_ascii_digit).collect();
        self.hash().is_none()
            && self
                .code
                .as_deref()
                .is_some_and(|c| password::same(c, &code))
    }

    /// Whether the dashboard may change it (not when the settings give it: they win at boot).
    pub fn changeable(&self) -> bool {
        !self.from_settings
    }

    /// Keeps `new` (hashed) on the data partition and checks logins against it from now on.
    pub fn set(&self, new: &str) -> Result<(), String> {
        if !(MIN_LEN..=password::MAX_LEN).contains(&new.len()) {
            return Err(format!(
                "the password must be {MIN_LEN} to {} characters long",
                password::MAX_LEN
            ));
        }
        let hash = password::hash(new)?;
        let path = self.data_dir.join(STORED);
        crate::setup::write_atomic(&path, format!("{hash}\n").as_bytes(), 0o600, None)?;
        *self.hash.write().expect("not poisoned") = Some(hash);
        let _ = std::fs::remove_file(self.data_dir.join(CODE));
        Ok(())
    }
}

/// Whether `password` is the one `hash` was made from, checked on a blocking thread (it is slow
/// on purpose).
pub async fn matches(hash: String, password: String) -> bool {
    password.len() <= password::MAX_LEN
        && tokio::task::spawn_blocking(move || password::matches(&hash, &password))
            .await
            .unwrap_or(false)
}

/// The banner's and `o4send status`'s line while the first visit waits for its code.
pub fn line(data_dir: &Path, url: &str) -> Option<String> {
    let text = std::fs::read_to_string(data_dir.join(CODE)).ok()?;
    let code: String = text.chars().filter(char::is_ascii_digit).collect();
    Some(format!(
        "dashboard: no password yet: open {url} and enter the code {} {} to choose one",
        &code[..code.len() / 2],
        &code[code.len() / 2..]
    ))
}

fn read_stored(data_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(data_dir.join(STORED)).ok()?;
    Some(text.trim().to_string()).filter(|h| !h.is_empty())
}

/// Eight random digits, written 0600 where the banner (the daemon, the same user) reads them.
fn new_code(data_dir: &Path) -> Result<String, String> {
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).map_err(|e| format!("no random code: {e}"))?;
    let code: String = random.iter().map(|b| char::from(b'0' + b % 10)).collect();
    crate::setup::write_atomic(&data_dir.join(CODE), code.as_bytes(), 0o600, None)?;
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_visit_with_its_code_then_the_chosen_password() {
        let dir = tempfile::tempdir().unwrap();
        let p = Password::load(None, dir.path()).unwrap();
        assert!(p.hash().is_none() && p.changeable());
        let code = std::fs::read_to_string(dir.path().join(CODE)).unwrap();
        assert_eq!(code.len(), 8);
        let wrong: String = code
            .chars()
            .map(|c| if c == '9' { '0' } else { '9' })
            .collect();
        assert!(!p.code_matches(&wrong));
        assert!(p.code_matches(&format!("{} {}", &code[..4], &code[4..])));
        let shown = line(dir.path(), "https://box.local:8443/").unwrap();
        assert!(
            shown.contains(&code[..4]) && shown.contains(&code[4..]),
            "{shown}"
        );
        assert!(p.set("short").is_err());
        p.set("booth seven").unwrap();
        assert!(password::matches(&p.hash().unwrap(), "booth seven"));
        assert!(!p.code_matches(&code), "a used code opens nothing");
        assert!(line(dir.path(), "x").is_none());
        let again = Password::load(None, dir.path()).unwrap();
        assert!(password::matches(&again.hash().unwrap(), "booth seven"));
    }

    #[test]
    fn the_settings_win_and_cannot_be_changed_here() {
        let dir = tempfile::tempdir().unwrap();
        Password::load(None, dir.path())
            .unwrap()
            .set("booth seven")
            .unwrap();
        let hash = password::hash("from imager").unwrap();
        let p = Password::load(Some(&hash), dir.path()).unwrap();
        assert!(!p.changeable());
        assert!(password::matches(&p.hash().unwrap(), "from imager"));
        assert!(Password::load(Some("plain"), dir.path()).is_err());
    }
}
