//! Raspberry Pi Imager's "OS customisation" form, applied. Imager writes what the operator typed
//! (host name, password, Wi-Fi, country, time zone, SSH keys) onto the boot partition in the
//! format the image's repository entry declares: o4send's declares `cloudinit`, which every
//! Imager 2.x offers (`rpi-preseed` would hide o4send from Imager before 2.0.11); a card written
//! by 2.0.11 or later for `rpi-preseed` is read too. The answers become one settings layer over
//! the image's defaults and under the operator's `o4send.toml`, which wins where both set a key.
//!
//! Nothing here can stop a boot: a file that cannot be read, a format o4send does not apply
//! (Imager 1.x's `firstrun.sh`, which U-Boot's script keeps from running), or answers the
//! settings refuse leave the layer out, with one line on the banner saying what and why.

mod cloud_init;
mod form;
mod preseed;

use crate::config::OperatorFile;
use form::Form;
use std::path::Path;

/// What Imager left on the boot partition, and what became of it.
#[derive(Debug, Default)]
pub struct Found {
    /// The settings layer (TOML), named after the file it came from.
    pub layer: Option<OperatorFile>,
    /// One line for the banner and `o4send status`; none when Imager left nothing.
    pub line: Option<String>,
}

/// Reads Imager's files in `boot` (the FAT partition's mount point).
pub fn read(boot: &Path) -> Found {
    let mut found = if boot.join("rpi-preseed.toml").exists() {
        apply(boot, &["rpi-preseed.toml"], |_, text, form| {
            preseed::read(text, form)
        })
    } else if boot.join("user-data").exists() || boot.join("network-config").exists() {
        apply(
            boot,
            &["user-data", "network-config"],
            |name, text, form| match name {
                "user-data" => cloud_init::user_data(text, form),
                _ => cloud_init::network_config(text, form),
            },
        )
    } else {
        Found::default()
    };
    if boot.join("firstrun.sh").exists() {
        let not_run = format!(
            "{}: Imager's form for Raspberry Pi OS is not applied here; choose o4send from its \
             repository in Imager 2 and write the card again, or set the box up in o4send.toml",
            boot.join("firstrun.sh").display()
        );
        found.line = Some(match found.line {
            Some(l) => format!("{l}; {not_run}"),
            None => format!("Imager: {not_run}"),
        });
    }
    found
}

/// Reads each of `names` that exists into one form; a file that fails spoils the whole form.
fn apply(
    boot: &Path,
    names: &[&str],
    read_one: impl Fn(&str, &str, &mut Form) -> Result<(), String>,
) -> Found {
    let mut form = Form::default();
    let mut read = Vec::new();
    for name in names {
        let path = boot.join(name);
        let text = match std::fs::read(&path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return refused(&path, &format!("cannot read: {e}")),
        };
        if let Err(why) = read_one(name, &text, &mut form) {
            return refused(&path, &why);
        }
        read.push(path.display().to_string());
    }
    let line = format!("Imager's form ({}): {}", read.join(", "), form.summary());
    Found {
        layer: (!form.is_empty()).then(|| OperatorFile {
            path: boot.join(names[0]),
            text: form.to_toml(),
        }),
        line: Some(line),
    }
}

fn refused(path: &Path, why: &str) -> Found {
    Found {
        layer: None,
        line: Some(format!(
            "Imager's form not applied: {}: {}",
            path.display(),
            crate::config::one_line(why)
        )),
    }
}

#[cfg(test)]
mod tests;
