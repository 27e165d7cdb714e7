//! The dashboard's own TLS identity: the password and the session cookie cross a hall's shared
//! network, so the dashboard speaks HTTPS. No public authority can vouch for a box at
//! `o4send-3fa2.local`, so each box makes its own key and self-signed certificate on first start
//! (rcgen, ECDSA P-256), keeps them on the data partition (`<data_dir>/tls/`, the key readable
//! only by the dashboard's user) and shows the certificate's SHA-256 fingerprint on the console
//! banner, in `o4send status` and on the login page: the operator compares it with what the
//! browser shows once, and the browser remembers the exception. The same certificate for the
//! box's life: a new one on every boot would teach operators to click through warnings.

use std::io;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The folder under the data directory that holds the key and the certificate.
pub const DIR: &str = "tls";
const KEY: &str = "dashboard-key.pem";
const CERT: &str = "dashboard-cert.pem";

/// The key and certificate the dashboard serves.
pub struct Identity {
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
}

impl Identity {
    /// The box's identity from `data_dir`, made (for the host `name`) when there is none yet.
    pub fn load_or_make(data_dir: &Path, name: &str) -> Result<Identity, String> {
        let dir = data_dir.join(DIR);
        if !dir.join(CERT).exists() || !dir.join(KEY).exists() {
            make(&dir, name)?;
        }
        let cert = CertificateDer::from_pem_file(dir.join(CERT))
            .map_err(|e| format!("{}: not a certificate: {e}", dir.join(CERT).display()))?;
        let key = PrivateKeyDer::from_pem_file(dir.join(KEY))
            .map_err(|e| format!("{}: not a private key: {e}", dir.join(KEY).display()))?;
        Ok(Identity { cert, key })
    }

    /// The certificate's SHA-256 fingerprint, as browsers show it (`AB:CD:…`, 32 bytes).
    pub fn fingerprint(&self) -> String {
        fingerprint_of(&self.cert)
    }

    /// A rustls server for this identity: TLS 1.2 and 1.3, HTTP/1.1.
    pub fn server(self) -> Result<Arc<rustls::ServerConfig>, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .with_no_client_auth()
            .with_single_cert(vec![self.cert], self.key)
            .map_err(|e| format!("TLS: the dashboard's key and certificate do not fit: {e}"))?;
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(cfg))
    }
}

/// The fingerprint of the certificate kept under `data_dir`, if the dashboard has made one.
pub fn fingerprint(data_dir: &Path) -> Option<String> {
    let cert = CertificateDer::from_pem_file(data_dir.join(DIR).join(CERT)).ok()?;
    Some(fingerprint_of(&cert))
}

/// One line for the console banner and `o4send status`: the dashboard's address by the box's
/// `.local` name and its certificate's fingerprint; None until the dashboard has made its
/// certificate.
pub fn line(cfg: &crate::config::Config) -> Option<String> {
    let print = fingerprint(&cfg.appliance.data_dir)?;
    Some(format!(
        "dashboard: {} certificate SHA-256 {print}",
        url(cfg)
    ))
}

/// The dashboard's address by the box's `.local` name.
pub fn url(cfg: &crate::config::Config) -> String {
    let host = super::host_check::host_name();
    let host = match host.as_str() {
        "" | "localhost" => "<this box>".to_string(),
        name => format!("{name}.local"),
    };
    format!("https://{host}:{}/", cfg.dashboard.port)
}

/// The first visit's line while the dashboard has no password: the code to choose one.
pub fn first_visit_line(cfg: &crate::config::Config) -> Option<String> {
    super::first_visit::line(&cfg.appliance.data_dir, &url(cfg))
}

fn fingerprint_of(cert: &CertificateDer) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(cert.as_ref());
    let hex: Vec<String> = digest.iter().map(|b| format!("{b:02X}")).collect();
    hex.join(":")
}

/// A new key and self-signed certificate for `name` and `name.local` in `dir`: the key written
/// 0600 and in place before the certificate, so a cut leaves no certificate without its key.
fn make(dir: &Path, name: &str) -> Result<(), String> {
    let at = |p: &Path, e: io::Error| format!("{}: {e}", p.display());
    std::fs::create_dir_all(dir).map_err(|e| at(dir, e))?;
    let mut names = vec![name.to_string(), format!("{name}.local")];
    names.retain(|n| !n.is_empty() && n != ".local");
    names.push("localhost".into());
    let mut params = rcgen::CertificateParams::new(names).map_err(|e| format!("TLS: {e}"))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("o4send {name}"));
    let key = rcgen::KeyPair::generate().map_err(|e| format!("TLS: {e}"))?;
    let cert = params.self_signed(&key).map_err(|e| format!("TLS: {e}"))?;
    let key_path = dir.join(KEY);
    crate::setup::write_atomic(&key_path, key.serialize_pem().as_bytes(), 0o600, None)?;
    crate::setup::write_atomic(&dir.join(CERT), cert.pem().as_bytes(), 0o644, None)?;
    tracing::info!(
        "dashboard: made its key and certificate in {}",
        dir.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let first = Identity::load_or_make(dir.path(), "o4send-3fa2").unwrap();
        let print = first.fingerprint();
        assert_eq!(print.len(), 32 * 3 - 1, "{print}");
        let again = Identity::load_or_make(dir.path(), "another-name").unwrap();
        assert_eq!(
            again.fingerprint(),
            print,
            "the same certificate on every start"
        );
        assert_eq!(fingerprint(dir.path()).as_deref(), Some(print.as_str()));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(DIR).join(KEY))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the key is the dashboard user's alone");
        first.server().unwrap();
    }

    #[test]
    fn a_damaged_key_is_named() {
        let dir = tempfile::tempdir().unwrap();
        Identity::load_or_make(dir.path(), "box").unwrap();
        std::fs::write(dir.path().join(DIR).join(KEY), "garbage").unwrap();
        let e = Identity::load_or_make(dir.path(), "box").err().unwrap();
        assert!(e.contains("dashboard-key.pem: not a private key"), "{e}");
    }
}
