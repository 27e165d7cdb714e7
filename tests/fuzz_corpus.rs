//! Replays every committed fuzz input (fuzz/corpus/<target>/ and the crash reproducers in
//! fuzz/regressions/<target>/) through the fuzz targets' own checks, on the stable toolchain
//! under plain `cargo test`, so nothing a fuzzer found once can come back unnoticed. The checks
//! are fuzz/src, included here by path: one copy for both.

#[path = "../fuzz/src/lib.rs"]
mod checks;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

#[test]
fn every_committed_fuzz_input_passes_its_target() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut failed = Vec::new();
    let mut replayed = 0;
    for (target, check) in checks::TARGETS {
        for dir in ["corpus", "regressions"] {
            for file in inputs(&fuzz.join(dir).join(target)) {
                let data = std::fs::read(&file).unwrap();
                replayed += 1;
                if catch_unwind(AssertUnwindSafe(|| check(&data))).is_err() {
                    failed.push(file.display().to_string());
                }
            }
        }
        assert!(
            fuzz.join("corpus").join(target).is_dir(),
            "no corpus for {target}"
        );
    }
    assert!(
        failed.is_empty(),
        "inputs that fail their target: {failed:?}"
    );
    assert!(replayed >= checks::TARGETS.len(), "only {replayed} inputs");
}

/// The files of `dir`, sorted; none when it does not exist.
fn inputs(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}
