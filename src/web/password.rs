//! Checking the operator's password against the crypt hash from the boot partition: SHA-crypt
//! (`$6$`, `$5$`) and bcrypt (`$2b$`, `$2y$`), by maintained RustCrypto and bcrypt crates. The
//! appliance never holds the password itself.

/// Whether `password` matches `hash`.
pub fn matches(hash: &str, password: &str) -> bool {
    if hash.starts_with("$2b$") || hash.starts_with("$2y$") || hash.starts_with("$2a$") {
        return bcrypt::verify(password, hash).unwrap_or(false);
    }
    if hash.starts_with("$6$") || hash.starts_with("$5$") {
        use sha_crypt::PasswordVerifier;
        return sha_crypt::ShaCrypt::default()
            .verify_password(password.as_bytes(), hash)
            .is_ok();
    }
    false
}

/// Why the dashboard cannot check `hash` (yescrypt has no maintained Rust crate it could use).
pub fn unsupported(hash: &str) -> Option<&'static str> {
    let known = ["$6$", "$5$", "$2b$", "$2y$", "$2a$"];
    (!known.iter().any(|p| hash.starts_with(p))).then_some(
        "the dashboard checks $6$, $5$ and $2b$/$2y$ hashes (openssl passwd -6, htpasswd -B, o4send passwd)",
    )
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn known_hashes_match_only_their_password() {
        // `openssl passwd -6 -salt saltsalt booth7` and `htpasswd -nbB x booth7`.
        let sha = "$6$saltsalt$r2YUdksCwBi0TxgY5/igPoE32SQdJInjlBc/mZdOACDTHxZsEcaw1zA7.5fSL/uwSv53yGMlObmATakz.YTe71";
        assert!(matches(sha, "booth7"));
        assert!(!matches(sha, "booth8"));
        let bc = bcrypt::hash("booth7", 4).unwrap();
        assert!(matches(&bc, "booth7"));
        assert!(!matches(&bc, "Booth7"));
        assert!(!matches("plain", "plain"));
    }
}
