//! root's console password. `/etc/shadow` on the read-only root is a link to a file made here
//! at every boot from the image's own shadow file, with root's password field set from the
//! operator's hash, or to `!` (no password opens it) when there is none: no shell without a
//! password, on any console. If setup never ran, the link dangles and nobody can log in.

use super::SystemFiles;

/// The image's shadow file, moved aside at build time (board/common/post-build.sh), under the root.
pub const IMAGE_SHADOW: &str = "usr/lib/o4send/shadow.image";
/// What `/etc/shadow` points to, under the root.
pub const SHADOW: &str = "run/o4send/shadow";

pub fn write(files: &SystemFiles, hash: Option<&str>) -> Result<(), String> {
    let image = std::fs::read_to_string(files.path(IMAGE_SHADOW)).unwrap_or_default();
    let text = with_root_password(&image, hash.unwrap_or("!"));
    files.write_or_remove(SHADOW, Some(&text), 0o600)
}

/// `image` with root's password field replaced (root's line added when it has none).
pub fn with_root_password(image: &str, field: &str) -> String {
    let mut out = String::new();
    let mut seen = false;
    for line in image.lines() {
        let mut fields: Vec<&str> = line.split(':').collect();
        if fields.first() == Some(&"root") && fields.len() >= 2 {
            fields[1] = field;
            seen = true;
        }
        out.push_str(&fields.join(":"));
        out.push('\n');
    }
    if !seen {
        out.insert_str(0, &format!("root:{field}::0:99999:7:::\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::with_root_password;

    #[test]
    fn only_roots_field_changes() {
        let image = "root::19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n";
        assert_eq!(
            with_root_password(image, "$6$s$h"),
            "root:$6$s$h:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n"
        );
        assert_eq!(with_root_password("", "!"), "root:!::0:99999:7:::\n");
    }
}
