//! An appliance data directory and content sticks for the bundle tests, driven through the real
//! `o4send` binary: a signing key made by `o4send bundle keygen`, a config that trusts it (sim
//! radio, so `o4send run` starts here), sticks written by `o4send bundle create` (each with a
//! larger `--sequence` than the rig's previous one, so they import in the order they are made),
//! and snapshots of the active content read straight from the disk (not through o4send's own
//! loader).

#![allow(dead_code)]

use o4send::content::bundle::signing;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Rig {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub data: PathBuf,
    pub secret: PathBuf,
    pub public: PathBuf,
    /// The last `--sequence` handed out by [`Rig::next_sequence`].
    sequence: Cell<u64>,
}

/// The `o4send` binary, with logging left at its default.
pub fn o4send() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_o4send"));
    c.env_remove("RUST_LOG");
    c
}

/// Runs a command; panics with its output unless it succeeds.
pub fn ok(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

impl Rig {
    /// A fresh appliance whose data directory is `data` (default: inside the rig's temp dir).
    pub fn new() -> Rig {
        Rig::with_data(None)
    }

    pub fn with_data(data: Option<PathBuf>) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("o4send.key");
        let public = dir.path().join("o4send.pub");
        ok(o4send()
            .args(["bundle", "keygen", "--unencrypted", "--pub"])
            .arg(&public)
            .arg("--secret")
            .arg(&secret));
        let data = data.unwrap_or_else(|| dir.path().join("data"));
        std::fs::create_dir_all(&data).unwrap();
        let config = dir.path().join("o4send.toml");
        let rig = Rig {
            dir,
            config,
            data,
            secret,
            public,
            sequence: Cell::new(0),
        };
        rig.write_config(&rig.config, &[&rig.public_line()]);
        rig
    }

    /// The base64 line of the rig's public key.
    pub fn public_line(&self) -> String {
        let text = std::fs::read_to_string(&self.public).unwrap();
        text.lines().nth(1).unwrap().to_string()
    }

    /// Writes a config trusting `keys`, with the rig's data dir and simulated radios.
    pub fn write_config(&self, path: &Path, keys: &[&str]) {
        let keys: Vec<String> = keys.iter().map(|k| format!("{k:?}")).collect();
        let text = format!(
            "[appliance]\ndata_dir = {:?}\n\
             [radio]\nbackend = \"sim\"\n[[radio.adapters]]\nid = \"sim0\"\nrole = \"both\"\n\
             [radio.sim]\nphones = 5\narrival_window_secs = 1\n\
             [bundle]\ntrusted_keys = [{}]\n",
            self.data.display().to_string(),
            keys.join(", ")
        );
        std::fs::write(path, text).unwrap();
    }

    /// `o4send ARGS --config <rig config>`.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = o4send();
        c.args(args).arg("--config").arg(&self.config);
        c
    }

    /// A sequence larger than every one this rig handed out before (1, 2, 3...): sticks made
    /// within one second would otherwise share the signing time.
    pub fn next_sequence(&self) -> String {
        self.sequence.set(self.sequence.get() + 1);
        self.sequence.get().to_string()
    }

    /// A folder of `files` turned into a stick by `o4send bundle create` with the rig's next
    /// sequence; returns the stick root.
    pub fn stick(&self, label: &str, files: &[(&str, &[u8])]) -> PathBuf {
        let sequence = self.next_sequence();
        self.stick_with(label, files, &["--sequence", &sequence])
    }

    /// A stick made by `o4send bundle create ARGS` (its own default sequence when ARGS gives
    /// none).
    pub fn stick_with(&self, label: &str, files: &[(&str, &[u8])], args: &[&str]) -> PathBuf {
        let from = self.dir.path().join(format!("{label}-files"));
        std::fs::create_dir_all(&from).unwrap();
        for (name, body) in files {
            std::fs::write(from.join(name), body).unwrap();
        }
        let root = self.dir.path().join(format!("{label}-stick"));
        std::fs::create_dir_all(&root).unwrap();
        ok(self
            .cmd(&["bundle", "create", "--name", label, "--sender", "Stand 12"])
            .arg("--from")
            .arg(&from)
            .arg("--to")
            .arg(&root)
            .arg("--key")
            .arg(&self.secret)
            .args(args));
        root
    }

    /// Replaces the stick's bundle.toml with `text`, signed by the rig's key (a hostile bundle
    /// that nevertheless carries a good signature).
    pub fn resign(&self, root: &Path, text: &str) {
        let key = signing::read_secret_key(&self.secret).unwrap();
        sign_with(&key, root, text);
    }

    pub fn import(&self, root: &Path) -> Output {
        self.cmd(&["import"]).arg(root).output().unwrap()
    }

    /// What `content` shows now, read from the disk.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot::of(&self.data)
    }
}

/// Signs `text` as the stick's bundle.toml with `key`.
pub fn sign_with(key: &minisign::SecretKey, root: &Path, text: &str) {
    let dir = root.join("o4send");
    std::fs::write(dir.join("bundle.toml"), text).unwrap();
    let sig = signing::sign(text.as_bytes(), key, "timestamp:0\tfile:bundle.toml").unwrap();
    std::fs::write(dir.join("bundle.toml.minisig"), sig).unwrap();
}

/// The state of an appliance's content: every file the active campaign folder holds (name and
/// bytes), where `content` and `content.previous` point, and what `campaigns/` holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub files: BTreeMap<String, Vec<u8>>,
    pub content_link: Option<PathBuf>,
    pub previous_link: Option<PathBuf>,
    pub campaigns: Vec<String>,
}

impl Snapshot {
    pub fn of(data: &Path) -> Snapshot {
        let content = data.join("content");
        let mut files = BTreeMap::new();
        if let Ok(entries) = std::fs::read_dir(&content) {
            for e in entries {
                let e = e.unwrap();
                let name = e.file_name().to_string_lossy().to_string();
                files.insert(name, std::fs::read(e.path()).unwrap());
            }
        }
        let mut campaigns: Vec<String> = std::fs::read_dir(data.join("campaigns"))
            .map(|r| {
                r.map(|e| e.unwrap().file_name().to_string_lossy().to_string())
                    .collect()
            })
            .unwrap_or_default();
        campaigns.sort();
        Snapshot {
            files,
            content_link: std::fs::read_link(&content).ok(),
            previous_link: std::fs::read_link(data.join("content.previous")).ok(),
            campaigns,
        }
    }

    /// The item files only (without the campaign's description and signature).
    pub fn items(&self) -> BTreeMap<String, Vec<u8>> {
        self.files
            .iter()
            .filter(|(k, _)| !k.starts_with("campaign.toml"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// The files a stick carries (bundle.toml and signature left out).
pub fn stick_items(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut items = BTreeMap::new();
    for e in std::fs::read_dir(root.join("o4send")).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().to_string();
        if !name.starts_with("bundle.toml") {
            items.insert(name, std::fs::read(e.path()).unwrap());
        }
    }
    items
}

/// Whether this process may mount and make device nodes.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}
