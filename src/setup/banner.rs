//! The console banner: what a keyboard and screen plugged into the box show above the login
//! prompt (`/etc/issue` is a link to [`ISSUE`]). Whoever stands at the booth sees at a glance
//! whether the box works and whether its settings were taken, without logging in (there may be
//! no login at all). `o4send setup` writes it at boot; the daemon rewrites it with its status
//! line every few seconds.

use std::path::{Path, PathBuf};

/// Under the root; `/etc/issue` points here. The directory belongs to the daemon's user.
pub const ISSUE: &str = "run/o4send/banner/issue";

/// The banner's text. agetty reads `\` as the start of an escape: every one is doubled, and
/// control characters (a terminal's escape sequences) are dropped. The Wi-Fi client's line is shown
/// when the box has one.
pub fn render(name: &str, config_line: &str, status: &str, more: &[String], login: bool) -> String {
    let login = if login {
        "login: root, with the password from Imager's form or o4send.toml"
    } else {
        "login: none (no password in Imager's form, no console.password_hash in o4send.toml)"
    };
    let mut lines = vec![
        format!("o4send appliance \"{}\"", clean(name)),
        format!("status: {}", clean(status)),
        format!("config: {}", clean(config_line)),
    ];
    lines.extend(more.iter().map(|l| clean(l)));
    lines.push(login.to_string());
    format!("\n{}\n\n", lines.join("\n"))
}

fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .replace('\\', "\\\\")
}

/// The daemon's side: rewrites the banner with each new status line, if the box has one.
pub struct Banner {
    path: PathBuf,
    root: PathBuf,
    /// The settings in force: the box's name, whether there is a login, the dashboard's port.
    cfg: crate::config::Config,
    /// The dashboard's line, once its certificate exists (it stays the same for the box's life,
    /// so the file is not read again on every status line).
    dashboard: Option<String>,
    last: String,
}

impl Banner {
    /// The banner of the box set up by `cfg` under `root` when its directory exists (on the
    /// appliance), else None.
    pub fn open(root: &Path, cfg: &crate::config::Config) -> Option<Banner> {
        let path = root.join(ISSUE);
        path.parent()?.is_dir().then(|| Banner {
            path,
            root: root.to_path_buf(),
            cfg: cfg.clone(),
            dashboard: None,
            last: String::new(),
        })
    }

    /// Writes the banner when its text changed; a failure is logged once per text, never fatal.
    pub fn update(&mut self, status: &str) {
        let config =
            crate::setup::config_status(&self.root).unwrap_or_else(|| "not checked".into());
        let wifi = crate::setup::wifi_state::line(Path::new(crate::setup::wifi_state::CONTROL));
        let system = crate::update::status::line(Path::new("/")).map(|l| format!("system: {l}"));
        if self.dashboard.is_none() {
            self.dashboard = crate::web::tls::line(&self.cfg);
        }
        let dashboard = self.dashboard.clone();
        let hotspot = crate::hotspot::share::line(&self.root);
        let more: Vec<String> = wifi
            .into_iter()
            .chain(hotspot)
            .chain(system)
            .chain(dashboard)
            .chain(crate::web::tls::first_visit_line(&self.cfg))
            .chain([super::addresses::now(self.cfg.hotspot.address)])
            .collect();
        let login = self.cfg.console.password_hash.is_some();
        let text = render(&self.cfg.appliance.name, &config, status, &more, login);
        if text == self.last {
            return;
        }
        if let Err(e) = crate::setup::write_atomic(&self.path, text.as_bytes(), 0o644, None) {
            tracing::debug!("banner: {e}");
        }
        self.last = text;
    }
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn escapes_cannot_reach_the_terminal() {
        let text = render(
            "B\\x\u{1b}[2J",
            "ok: /boot/o4send.toml",
            "3 phones",
            &["system: slot A\u{1b}".to_string()],
            false,
        );
        assert!(text.contains("o4send appliance \"B\\\\x[2J\""));
        assert!(!text.contains('\u{1b}'));
        assert!(text.contains("\nsystem: slot A\n"));
        assert!(text.contains("login: none"));
    }
}
