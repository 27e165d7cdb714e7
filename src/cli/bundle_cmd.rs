//! `o4send bundle keygen|create|verify`: the operator's side of content sticks, run on a laptop.
//! Keys and signatures are minisign's own files, so `minisign` can stand in for any step.

use super::{optional_config, CliError};
use crate::content::bundle::{self, create, signing, Limits, TrustedKey};
use std::fs::OpenOptions;
use std::io::Write;
#[cfg(unix)]
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Writes a new key pair; never overwrites a key.
pub fn keygen(public: &Path, secret: &Path, unencrypted: bool) -> Result<ExitCode, CliError> {
    for path in [public, secret] {
        if path.symlink_metadata().is_ok() {
            return Err(CliError::Failed(format!(
                "{}: already exists (keygen never overwrites a key)",
                path.display()
            )));
        }
    }
    let pair = signing::generate(unencrypted).map_err(CliError::Failed)?;
    let (public_text, secret_text) = signing::key_files(&pair).map_err(CliError::Failed)?;
    write_new(secret, &secret_text, 0o600)?;
    write_new(public, &public_text, 0o644)?;
    let key = TrustedKey::read(public).map_err(CliError::Failed)?;
    println!(
        "secret key {} (keep it off the appliance)",
        secret.display()
    );
    println!("public key {} (key ID {})", public.display(), key.id);
    println!("in the appliance's o4send.toml:");
    println!("[bundle]\ntrusted_keys = [\"{}\"]", key.base64());
    Ok(ExitCode::SUCCESS)
}

fn write_new(path: &Path, text: &str, mode: u32) -> Result<(), CliError> {
    let fail = |e: std::io::Error| CliError::Failed(format!("{}: {e}", path.display()));
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    // Windows keeps the file to its user by the profile folder's own access list.
    #[cfg(unix)]
    options.mode(mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(fail)?;
    file.write_all(text.as_bytes()).map_err(fail)?;
    file.sync_all().map_err(fail)
}

/// What `bundle create` was asked for.
#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    /// The folder with the files (and optionally a campaign.toml).
    #[arg(long, value_name = "DIR")]
    pub from: PathBuf,
    /// The stick's root folder (where it is mounted).
    #[arg(long, value_name = "STICK_ROOT")]
    pub to: PathBuf,
    /// The secret key (o4send bundle keygen or minisign -G).
    #[arg(long, value_name = "SECRET_KEY")]
    pub key: PathBuf,
    /// Campaign name [default: campaign.toml's, else the folder's name].
    #[arg(long)]
    pub name: Option<String>,
    /// The sender name phones show [default: the campaign name].
    #[arg(long)]
    pub sender: Option<String>,
    /// Replace an o4send/ folder already on the stick.
    #[arg(long)]
    pub replace: bool,
    /// The bundle's sequence: an appliance imports only a larger one than its active
    /// campaign's [default: the signing time, in seconds since 1970 UTC].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=i64::MAX as u64))]
    pub sequence: Option<u64>,
}

/// Describes, signs and writes a bundle, then verifies what landed on the stick.
pub fn create(config: Option<&Path>, args: CreateArgs) -> Result<ExitCode, CliError> {
    let cfg = optional_config(config)?;
    let key = signing::read_secret_key(&args.key).map_err(CliError::Failed)?;
    let created = create::create(&create::Request {
        from: &args.from,
        to_root: &args.to,
        key: &key,
        name: args.name,
        sender: args.sender,
        replace: args.replace,
        sequence: args.sequence,
    })
    .map_err(|e| CliError::Failed(format!("bundle not written: {e}")))?;
    for warning in &created.warnings {
        eprintln!("warning: {warning}");
    }
    let public = TrustedKey::of_secret(&key).map_err(CliError::Failed)?;
    bundle::verify(&args.to, &[public], &Limits::of(&cfg))
        .map_err(|e| CliError::Failed(format!("the written bundle does not verify: {e}")))?;
    println!(
        "wrote {}: campaign {:?}, sequence {}, {} item(s), {} bytes, signed by key {}, sha256 {}",
        created.dir.display(),
        created.name,
        created.sequence,
        created.items,
        created.bytes,
        created.key_id,
        created.sha256
    );
    Ok(ExitCode::SUCCESS)
}

/// Checks a stick like the appliance would (without copying), with `--pub` keys or the
/// config's trusted keys.
pub fn verify(
    config: Option<&Path>,
    stick: &Path,
    public: &[PathBuf],
) -> Result<ExitCode, CliError> {
    let cfg = optional_config(config)?;
    let keys = if public.is_empty() {
        bundle::trusted_keys(&cfg).map_err(CliError::Config)?
    } else {
        public
            .iter()
            .map(|p| TrustedKey::read(p))
            .collect::<Result<_, _>>()
            .map_err(CliError::Failed)?
    };
    let checked = bundle::verify(stick, &keys, &Limits::of(&cfg))
        .map_err(|e| CliError::Failed(format!("bundle refused: {e}")))?;
    let m = &checked.manifest;
    println!(
        "{}: ok — campaign {:?}, {}, {} item(s), {} bytes, signed by key {}, sha256 {}",
        checked.dir.display(),
        m.file.name,
        sequence_words(m.file.sequence),
        m.items.len(),
        m.total_bytes(),
        checked.signed.key_id,
        m.sha256
    );
    Ok(ExitCode::SUCCESS)
}

/// "sequence N", or what a bundle without one is.
pub fn sequence_words(sequence: Option<u64>) -> String {
    match sequence {
        Some(n) => format!("sequence {n}"),
        None => "no sequence (counts as 0)".into(),
    }
}
