//! `o4send bench update`: how long the check of every byte of a system update takes (the
//! dm-verity hash tree of its payload, `update::verity`), the step that keeps a tampered bundle
//! from ever touching a slot. A payload of the release bundle's size is written to a file and
//! checked from it, as `o4send update` checks its copy on the data partition.

use crate::update::verity::{self, Verity};
use std::io::{BufReader, Write};
use std::time::Instant;

/// The Pi release bundle's payload is about this size (docs/benchmarks.md).
const PAYLOAD_MB: usize = 195;

pub fn run() -> Result<(), String> {
    let blocks = PAYLOAD_MB * (1 << 20) / verity::BLOCK;
    let mut data = vec![0u8; blocks * verity::BLOCK];
    getrandom::fill(&mut data).map_err(|e| e.to_string())?;
    let salt = [7u8; 32];
    let (tree, root) = verity::build(&data, &salt);
    let v = Verity {
        salt: salt.to_vec(),
        root,
        tree_bytes: tree.len() as u64,
    };
    let path = std::env::temp_dir().join(format!("o4send-bench-update-{}", std::process::id()));
    let checked = write_then_check(&path, &data, &tree, &v);
    let _ = std::fs::remove_file(&path);
    let secs = checked?;
    println!("update_verity_payload_mb={PAYLOAD_MB}");
    println!("update_verity_tree_bytes={}", tree.len());
    println!("update_verity_check_secs={secs:.2}");
    println!("update_verity_mb_per_sec={:.0}", PAYLOAD_MB as f64 / secs);
    Ok(())
}

/// Writes the payload and its tree to `path`, then times the check of it from the file.
fn write_then_check(
    path: &std::path::Path,
    data: &[u8],
    tree: &[u8],
    v: &Verity,
) -> Result<f64, String> {
    let mut f = std::fs::File::create(path).map_err(|e| e.to_string())?;
    f.write_all(data)
        .and_then(|()| f.write_all(tree))
        .map_err(|e| e.to_string())?;
    f.sync_all().map_err(|e| e.to_string())?;
    let start = Instant::now();
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    verity::check(&mut reader, data.len() as u64, v).map_err(|e| e.to_string())?;
    Ok(start.elapsed().as_secs_f64())
}
