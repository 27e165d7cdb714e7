//! root's login over SSH, by key only: the keys from `console.ssh_keys` (or Imager's form) as
//! the `authorized_keys` file the image's sshd reads (board/debian/appliance's
//! `sshd_config.d/o4send.conf`). sshd starts only when this file exists, so a box given no key
//! has no SSH server at all; one given keys never takes a password.

use super::SystemFiles;

/// sshd's `AuthorizedKeysFile`, under the root.
pub const AUTHORIZED_KEYS: &str = "run/o4send/ssh/authorized_keys";

/// The file for `keys`, or none when there are none.
pub fn write(files: &SystemFiles, keys: &[String]) -> Result<(), String> {
    let text = (!keys.is_empty()).then(|| keys.join("\n") + "\n");
    files.write_or_remove(AUTHORIZED_KEYS, text.as_deref(), 0o600)
}
