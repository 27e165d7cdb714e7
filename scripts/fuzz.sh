#!/usr/bin/env bash
# A short coverage-guided fuzz run of every target in fuzz/fuzz_targets (cargo-fuzz, libFuzzer,
# nightly Rust): FUZZ_SECONDS each (default 10), FUZZ_JOBS at once (default: the cores), over the
# committed corpus, which stays as it is (new inputs go to a temporary folder). Fails with one
# line naming the targets that crashed.
# docs/benchmarks.md ("Fuzzing") has a long run's figures and how to make one.
#
# Build choices, for CI's time:
#   - --sanitizer none: what the targets reach is safe Rust (o4send's and its dependencies';
#     no C library such as SQLite is on these paths), where a bad index or overflow is a panic
#     libFuzzer reports anyway; AddressSanitizer would slow every execution and instrument every
#     dependency, for memory errors that cannot happen there.
#   - release with debug assertions and overflow checks (cargo-fuzz's default): an integer that
#     wraps is a bug the checks should see, and optimised code still runs thousands of inputs a
#     second.
#   - the targets run as many at once as there are cores (CI's step has the machine to itself).
#   - the target dir is cached by the inputs that decide it (both lock files and the nightly
#     compiler): /var/cache/o4send-fuzz/<key> as root, else $XDG_CACHE_HOME/o4send-fuzz/<key>,
#     so a warm machine rebuilds only o4send and the targets; older keys are pruned.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-10}
start=$SECONDS

# Without nightly or cargo-fuzz the run cannot happen: a failure under CI, a note elsewhere.
unavailable() {
    echo "fuzz.sh: $1"
    [ "${CI:-}" = true ] && exit 1
    echo "fuzz.sh: skipped (not under CI)"
    exit 0
}

rustup toolchain list | grep -q '^nightly' ||
    rustup toolchain install nightly --profile minimal ||
    unavailable "the nightly toolchain cannot be installed"
command -v cargo-fuzz >/dev/null ||
    cargo install cargo-fuzz --locked --quiet ||
    unavailable "cargo-fuzz cannot be installed"

if [ "$(id -u)" -eq 0 ]; then
    cache_root=/var/cache/o4send-fuzz
else
    cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/o4send-fuzz
fi
key=$( (cat fuzz/Cargo.lock Cargo.lock; rustc +nightly -V) | sha256sum | cut -c1-16)
target_dir=$cache_root/$key
mkdir -p "$target_dir"
find "$cache_root" -mindepth 1 -maxdepth 1 ! -name "$key" -exec rm -rf {} +

# cargo-fuzz has no --locked: the fetch refuses a fuzz/Cargo.lock that the build would change
# (as after a dependency of o4send changed in Cargo.lock).
if ! cargo +nightly fetch --locked --quiet --manifest-path fuzz/Cargo.toml; then
    echo "fuzz.sh: fuzz/Cargo.lock is out of date (o4send's dependencies changed?): run" \
        "'cp Cargo.lock fuzz && cargo +nightly fetch --manifest-path fuzz/Cargo.toml' and commit it"
    exit 1
fi
cargo +nightly fuzz build --sanitizer none --target-dir "$target_dir" >/dev/null
build_secs=$((SECONDS - start))
bin_dir=$target_dir/$(rustc +nightly -vV | sed -n 's/^host: //p')/release

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One target for FUZZ_SECONDS over its corpus (new inputs into $work); on a crash its log, the
# input (kept in fuzz/artifacts, which is not committed: once fixed it goes to
# fuzz/regressions/<target>/ for tests/fuzz_corpus.rs) and one line naming the target.
run_one() {
    local target=$1 log=$work/$1/log crash
    mkdir -p "$work/$target/new" "$work/$target/crash"
    local dirs=("$work/$target/new" "fuzz/corpus/$target")
    [ -d "fuzz/regressions/$target" ] && dirs+=("fuzz/regressions/$target")
    # TMPDIR: web_forms keeps its data directory there, removed with the rest on exit.
    if ! TMPDIR=$work "$bin_dir/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$work/$target/crash/" "${dirs[@]}" >"$log" 2>&1; then
        tail -n 30 "$log"
        mkdir -p "fuzz/artifacts/$target"
        cp "$work/$target/crash"/* "fuzz/artifacts/$target/"
        crash=fuzz/artifacts/$target/$(basename "$(find "$work/$target/crash" -type f | head -1)")
        echo "fuzz.sh: the input, base64: $(head -c 4096 "$crash" | base64 -w0)"
        echo "fuzz.sh: $target FAILED on $crash (again: cargo +nightly fuzz run $target $crash)"
        return 1
    fi
    echo "fuzz.sh: $target: $(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$log")," \
        "$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)"
}

# As many targets at once as there are cores (each libFuzzer process uses one).
jobs=${FUZZ_JOBS:-$(nproc)}
failed=()
pids=()
names=()
wait_all() {
    for i in "${!pids[@]}"; do wait "${pids[$i]}" || failed+=("${names[$i]}"); done
    pids=()
    names=()
}
for path in fuzz/fuzz_targets/*.rs; do
    names+=("$(basename "$path" .rs)")
    run_one "${names[-1]}" &
    pids+=("$!")
    [ "${#pids[@]}" -lt "$jobs" ] || wait_all
done
wait_all
if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz.sh: FAILED: ${failed[*]} (the inputs are in fuzz/artifacts/)"
    exit 1
fi
echo "fuzz.sh: every target ran ${seconds} s ($jobs at a time): ${build_secs} s to build, $((SECONDS - start)) s in all"
