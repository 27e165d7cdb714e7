//! Checks a verity bundle's payload against the root hash its signature covers, before anything
//! is installed: RAUC finds a changed byte only while it copies (dm-verity fails the read), when
//! it has already marked the other slot bad, so a tampered bundle would cost the box its way back.
//!
//! The hash tree is dm-verity's format 1 as RAUC writes it (`verity_hash.c`, from cryptsetup):
//! 4096-byte data and hash blocks, SHA-256 of the salt then the block, 128 hashes per hash block
//! zero-padded, the levels stored top level first, right after the data; the root hash is the
//! hash of the top block.

use sha2::{Digest, Sha256};
use std::io::{self, Read};

pub const BLOCK: usize = 4096;
const HASHES_PER_BLOCK: usize = BLOCK / 32;

/// What the signed manifest says about the payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verity {
    pub salt: Vec<u8>,
    pub root: [u8; 32],
    /// Bytes of hash tree after the data.
    pub tree_bytes: u64,
}

/// Reads `data_bytes` of payload then the hash tree from `r` and checks both against `v`.
/// The error names what did not match.
pub fn check(r: &mut impl Read, data_bytes: u64, v: &Verity) -> io::Result<()> {
    if data_bytes == 0 || !data_bytes.is_multiple_of(BLOCK as u64) {
        return Err(io::Error::other(format!(
            "its payload is {data_bytes} bytes, not whole 4096-byte blocks"
        )));
    }
    let tree = tree(r, data_bytes / BLOCK as u64, &v.salt)?;
    if tree.len() as u64 != v.tree_bytes {
        return Err(io::Error::other(format!(
            "its hash tree should be {} bytes, the manifest says {}",
            tree.len(),
            v.tree_bytes
        )));
    }
    let mut stored = vec![0; tree.len()];
    r.read_exact(&mut stored)?;
    let top = &tree[..BLOCK];
    if salted(&v.salt, top) != v.root {
        return Err(io::Error::other(
            "its payload does not match the signed root hash",
        ));
    }
    if stored != tree {
        return Err(io::Error::other("its hash tree does not match its payload"));
    }
    Ok(())
}

/// Hashes `blocks` blocks of `r` into one level: the hashes packed into zero-padded blocks.
fn hash_level(r: &mut impl Read, blocks: u64, salt: &[u8]) -> io::Result<Vec<u8>> {
    let per_block = HASHES_PER_BLOCK as u64;
    let out_blocks = blocks.div_ceil(per_block) as usize;
    let mut out = vec![0u8; out_blocks * BLOCK];
    let mut block = vec![0u8; BLOCK];
    for i in 0..blocks as usize {
        r.read_exact(&mut block)
            .map_err(|e| io::Error::new(e.kind(), format!("reading payload block {i}: {e}")))?;
        out[i * 32..i * 32 + 32].copy_from_slice(&salted(salt, &block));
    }
    Ok(out)
}

fn salted(salt: &[u8], block: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(block);
    h.finalize().into()
}

/// The hash tree of `blocks` data blocks read from `r`, top level first.
fn tree(r: &mut impl Read, blocks: u64, salt: &[u8]) -> io::Result<Vec<u8>> {
    let mut levels = vec![hash_level(r, blocks, salt)?];
    while let Some(below) = levels.last().filter(|l| l.len() > BLOCK) {
        let above = hash_level(&mut below.as_slice(), (below.len() / BLOCK) as u64, salt)?;
        levels.push(above);
    }
    Ok(levels.iter().rev().flatten().copied().collect())
}

/// The tree `check` expects after `data`, and its root: for tests and the benchmark.
pub fn build(data: &[u8], salt: &[u8]) -> (Vec<u8>, [u8; 32]) {
    let tree = tree(&mut &data[..], (data.len() / BLOCK) as u64, salt).expect("whole blocks");
    let root = salted(salt, &tree[..BLOCK]);
    (tree, root)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(blocks: usize) -> (Vec<u8>, Verity) {
        let data: Vec<u8> = (0..blocks * BLOCK).map(|i| (i * 7 % 251) as u8).collect();
        let salt = vec![9u8; 32];
        let (tree, root) = build(&data, &salt);
        let v = Verity {
            salt,
            root,
            tree_bytes: tree.len() as u64,
        };
        ([data, tree].concat(), v)
    }

    #[test]
    fn an_intact_payload_passes() {
        for blocks in [2, 128, 129, 300] {
            let (bytes, v) = sample(blocks);
            check(&mut bytes.as_slice(), (blocks * BLOCK) as u64, &v).unwrap();
        }
    }

    #[test]
    fn one_changed_byte_is_named() {
        let (mut bytes, v) = sample(300);
        bytes[5 * BLOCK + 17] ^= 1;
        let e = check(&mut bytes.as_slice(), (300 * BLOCK) as u64, &v).unwrap_err();
        assert!(e.to_string().contains("signed root hash"), "{e}");
        let (mut bytes, v) = sample(300);
        let last = bytes.len() - 1;
        bytes[last - 40] ^= 1;
        let e = check(&mut bytes.as_slice(), (300 * BLOCK) as u64, &v).unwrap_err();
        assert!(e.to_string().contains("hash tree"), "{e}");
    }

    #[test]
    fn a_short_payload_is_named() {
        let (bytes, v) = sample(300);
        let e = check(&mut &bytes[..100 * BLOCK], (300 * BLOCK) as u64, &v).unwrap_err();
        assert!(e.to_string().contains("payload block 100"), "{e}");
    }
}
