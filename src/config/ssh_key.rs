//! The SSH keys that may log in as root (`console.ssh_keys`, or Raspberry Pi Imager's form):
//! each one line of OpenSSH's `authorized_keys` form, `type base64 [comment]`, checked before it
//! reaches sshd, so a key cut short in a copy and paste is named at boot instead of silently
//! locking the operator out. Options before the type (`command=…`, `from=…`) are not taken.

use ct_codecs::Decoder;

/// The key types OpenSSH 9 accepts for a login, as the line starts.
const TYPES: [&str; 6] = [
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "ssh-rsa",
];

/// Why `line` is not one public key sshd takes, or None.
pub fn ssh_key_problem(line: &str) -> Option<&'static str> {
    if line.chars().any(char::is_control) {
        return Some("must be one line (a public key holds no line break or tab)");
    }
    let mut fields = line.split(' ').filter(|f| !f.is_empty());
    let (Some(kind), Some(body)) = (fields.next(), fields.next()) else {
        return Some("is not an OpenSSH public key: want `ssh-ed25519 AAAA… comment`, one line of the .pub file");
    };
    if !TYPES.contains(&kind) {
        return Some("is not an OpenSSH public key type (ssh-ed25519, ecdsa-sha2-nistp256/384/521, sk-ssh-ed25519@openssh.com, ssh-rsa): copy the whole line of the .pub file, not the private key");
    }
    let Ok(blob) = ct_codecs::Base64::decode_to_vec(body, None) else {
        return Some(
            "is cut short or changed: its key part is not base64 (copy the whole line again)",
        );
    };
    let fields = ssh_strings(&blob);
    let whole = fields.as_ref().is_some_and(|f| {
        f.len() >= 2 && f[0] == kind.as_bytes() && (kind != "ssh-ed25519" || f[1].len() == 32)
    });
    (!whole).then_some("is cut short or changed: its key part is not a whole key of the type it names (copy the whole line again)")
}

/// The blob's fields (SSH wire strings: a 32-bit length, then the bytes), if it is made of
/// nothing else.
fn ssh_strings(mut blob: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    while !blob.is_empty() {
        let len = u32::from_be_bytes(blob.get(..4)?.try_into().ok()?) as usize;
        out.push(blob.get(4..4 + len)?);
        blob = &blob[4 + len..];
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::ssh_key_problem;

    /// A real ed25519 public key (ssh-keygen -t ed25519), its comment changed.
    const ED25519: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHbP3Vbi1hX2r5uG0dO8HqJZ9R0nq9t4sJ0rPqZ5yL1c stand@laptop";

    #[test]
    fn a_whole_key_passes_and_a_damaged_one_is_named() {
        assert_eq!(ssh_key_problem(ED25519), None);
        assert_eq!(
            ssh_key_problem(ED25519.trim_end_matches(" stand@laptop")),
            None
        );
        let cut = &ED25519[..40];
        assert!(ssh_key_problem(cut).unwrap().contains("cut short"));
        let other = ED25519.replacen("ssh-ed25519", "ssh-rsa", 1);
        assert!(ssh_key_problem(&other)
            .unwrap()
            .contains("not a whole key of the type"));
        assert!(ssh_key_problem("-----BEGIN OPENSSH PRIVATE KEY-----")
            .unwrap()
            .contains("not the private key"));
        assert!(ssh_key_problem(&format!("{ED25519}\nssh-ed25519 AAAA"))
            .unwrap()
            .contains("one line"));
        assert!(ssh_key_problem("")
            .unwrap()
            .contains("not an OpenSSH public key"));
    }
}
