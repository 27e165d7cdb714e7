//! Passwords as crypt hashes, the form the operator puts in the boot partition's `o4send.toml`
//! for the console and the dashboard: made by `o4send passwd` (SHA-512 crypt, as `openssl passwd
//! -6`), checked by the dashboard (SHA-crypt `$6$`/`$5$` with the sha-crypt crate, bcrypt
//! `$2b$`/`$2y$` with the bcrypt crate, yescrypt `$y$`, what Raspberry Pi Imager 2.x and Debian's
//! mkpasswd write, with RustCrypto's yescrypt crate). The appliance never holds a password itself.

use sha_crypt::{sha256_crypt_b64, sha512_crypt_b64, Sha256Params, Sha512Params, ROUNDS_DEFAULT};

/// The longest password checked or hashed, in bytes: SHA-crypt's work grows with the password's
/// length, so one login with a huge password would hold a thread for long.
pub const MAX_LEN: usize = 256;

/// SHA-crypt rounds of a new hash: crypt(3)'s default of 5 000 costs a guesser almost nothing on
/// a GPU; 100 000 keeps one check well under a second on a Pi 3, and the dashboard runs at most
/// two at once (web::throttle).
pub const ROUNDS: usize = 100_000;

/// The salt alphabet of crypt(3).
const SALT_CHARS: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A SHA-512 crypt hash of `password` with [`ROUNDS`] rounds and 16 random salt characters (the
/// most glibc and libxcrypt read).
pub fn hash(password: &str) -> Result<String, String> {
    let mut random = [0u8; 16];
    getrandom::fill(&mut random).map_err(|e| format!("no random salt: {e}"))?;
    let salt: String = random
        .iter()
        .map(|b| SALT_CHARS[usize::from(*b) % SALT_CHARS.len()] as char)
        .collect();
    let params = Sha512Params::new(ROUNDS).map_err(|e| format!("{e:?}"))?;
    let digest = sha512_crypt_b64(password.as_bytes(), salt.as_bytes(), &params)
        .map_err(|e| format!("{e:?}"))?;
    Ok(format!("$6$rounds={ROUNDS}${salt}${digest}"))
}

/// Whether `password` matches `hash`.
pub fn matches(hash: &str, password: &str) -> bool {
    if ["$2b$", "$2y$", "$2a$"].iter().any(|p| hash.starts_with(p)) {
        return bcrypt::verify(password, hash).unwrap_or(false);
    }
    if hash.starts_with("$y$") {
        return yescrypt_matches(hash, password);
    }
    sha_crypt_matches(hash, password).unwrap_or(false)
}

/// `$6$[rounds=N$]salt$digest` (or `$5$`): the digest computed again and compared in constant time.
fn sha_crypt_matches(hash: &str, password: &str) -> Option<bool> {
    let (id, rest) = hash.strip_prefix('$')?.split_once('$')?;
    let (rounds, rest) = match rest.strip_prefix("rounds=") {
        Some(r) => {
            let (n, rest) = r.split_once('$')?;
            (n.parse().ok()?, rest)
        }
        None => (ROUNDS_DEFAULT, rest),
    };
    let (salt, digest) = rest.rsplit_once('$')?;
    let salt = &salt.as_bytes()[..salt.len().min(16)];
    let computed =
        match id {
            "6" => sha512_crypt_b64(password.as_bytes(), salt, &Sha512Params::new(rounds).ok()?)
                .ok()?,
            "5" => sha256_crypt_b64(password.as_bytes(), salt, &Sha256Params::new(rounds).ok()?)
                .ok()?,
            _ => return None,
        };
    Some(same(&computed, digest))
}

/// `$y$params$salt$digest`, checked by the yescrypt crate (constant-time comparison inside).
fn yescrypt_matches(hash: &str, password: &str) -> bool {
    use yescrypt::{PasswordVerifier, Yescrypt};
    Yescrypt::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// Compares in time independent of where the two differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Why the dashboard cannot check `hash`.
pub fn unsupported(hash: &str) -> Option<&'static str> {
    let known = ["$6$", "$5$", "$y$", "$2b$", "$2y$", "$2a$"];
    (!known.iter().any(|p| hash.starts_with(p))).then_some(
        "the dashboard checks $6$, $5$, $y$ and $2b$/$2y$ hashes (Raspberry Pi Imager, mkpasswd, openssl passwd -6, htpasswd -B, o4send passwd)",
    )
}

#[cfg(test)]
mod tests {
    use super::{hash, matches};

    #[test]
    fn yescrypt_hashes_as_imager_and_mkpasswd_write_them() {
        // The reference implementation's TESTS-OK vector (openwall/yescrypt), and one made by
        // Debian's `mkpasswd -m yescrypt -S ... booth7` would be checked the same way.
        let hash = "$y$jD5.7$LdJMENpBABJJ3hIHjB1Bi.$HboGM6qPrsK.StKYGt6KErmUYtioHreJd98oIugoNB6";
        assert!(matches(hash, "pleaseletmein"));
        assert!(!matches(hash, "pleaseletmeout"));
        assert!(!matches("$y$garbage", "pleaseletmein"));
        assert!(super::unsupported(hash).is_none());
    }

    #[test]
    fn known_hashes_match_only_their_password() {
        // `openssl passwd -6 -salt saltsalt booth7`, `openssl passwd -5 -salt saltsalt booth7`
        let sha = "$6$saltsalt$r2YUdksCwBi0TxgY5/igPoE32SQdJInjlBc/mZdOACDTHxZsEcaw1zA7.5fSL/uwSv53yGMlObmATakz.YTe71";
        assert!(matches(sha, "booth7"));
        assert!(!matches(sha, "booth8"));
        let bc = bcrypt::hash("booth7", 4).unwrap();
        assert!(matches(&bc, "booth7"));
        assert!(!matches(&bc, "Booth7"));
        assert!(!matches("plain", "plain"));
        assert!(matches(
            "$5$saltsalt$zO1IOGIVL5uHX50B4vMGZ77FOhmbS3x5rxpIEGyGAN6",
            "booth7"
        ));
        let rounds = format!(
            "$6$rounds=1000$saltsalt${}",
            sha_crypt::sha512_crypt_b64(
                b"booth7",
                b"saltsalt",
                &sha_crypt::Sha512Params::new(1000).unwrap()
            )
            .unwrap()
        );
        assert!(matches(&rounds, "booth7"));
        // Issue 26: ours are no longer crypt(3)'s cheap default of 5 000 rounds.
        let ours = hash("booth seven").unwrap();
        assert!(
            ours.starts_with("$6$rounds=100000$") && ours.len() == 17 + 16 + 1 + 86,
            "{ours}"
        );
        assert!(matches(&ours, "booth seven") && !matches(&ours, "booth eight"));
    }
}
