//! Which release this system is, and which of two releases is newer: an update to an older
//! release installs only when the operator names it.

use std::cmp::Ordering;
use std::path::Path;

/// Where the image records its release (`IMAGE_VERSION=`, board/debian/release/image.sh).
pub const OS_RELEASE: &str = "/usr/lib/os-release";

/// This system's release: the image's `IMAGE_VERSION`, else (not an o4send image) the program's.
pub fn running() -> String {
    std::fs::read_to_string(Path::new(OS_RELEASE))
        .ok()
        .and_then(|text| image_version(&text))
        .unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_string())
}

/// `IMAGE_VERSION` from os-release text (its value may be quoted).
pub fn image_version(os_release: &str) -> Option<String> {
    os_release
        .lines()
        .filter_map(|l| l.strip_prefix("IMAGE_VERSION="))
        .map(|v| v.trim().trim_matches(|c| c == '"' || c == '\'').to_string())
        .find(|v| !v.is_empty())
}

/// Compares releases by their dotted numbers (1.10.0 > 1.9.2); a part that is not a number
/// compares as text, and a release with a suffix (1.4.0-rc1) comes before the plain one.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (a_core, a_pre) = split_pre(a);
    let (b_core, b_pre) = split_pre(b);
    let mut x = a_core.split('.');
    let mut y = b_core.split('.');
    loop {
        match (x.next(), y.next()) {
            (None, None) => break,
            (p, q) => {
                let order = part(p.unwrap_or("0"), q.unwrap_or("0"));
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
    match (a_pre, b_pre) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(p), Some(q)) => p.cmp(q),
    }
}

fn split_pre(v: &str) -> (&str, Option<&str>) {
    match v.split_once(['-', '~']) {
        Some((core, pre)) => (core, Some(pre)),
        None => (v, None),
    }
}

fn part(p: &str, q: &str) -> Ordering {
    match (p.parse::<u64>(), q.parse::<u64>()) {
        (Ok(m), Ok(n)) => m.cmp(&n),
        _ => p.cmp(q),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_in_order() {
        assert_eq!(compare("1.10.0", "1.9.2"), Ordering::Greater);
        assert_eq!(compare("1.4", "1.4.0"), Ordering::Equal);
        assert_eq!(compare("1.4.0-rc1", "1.4.0"), Ordering::Less);
        assert_eq!(compare("0.1.0", "0.1.1"), Ordering::Less);
    }

    #[test]
    fn the_image_version_from_os_release() {
        let text = "ID=debian\nIMAGE_ID=o4send\nIMAGE_VERSION=\"1.3.2\"\n";
        assert_eq!(image_version(text).as_deref(), Some("1.3.2"));
        assert_eq!(image_version("ID=debian\n"), None);
    }
}
