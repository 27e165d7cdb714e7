#!/usr/bin/env bash
# Runs every o4send test, installing what the tests need on a fresh Debian machine:
#   - openobex-apps (OpenOBEX's own OBEX server, for the interop test), mariadb-server (the
#     sync tests start a throwaway MariaDB on loopback), systemd (systemd-analyze rates the
#     shipped unit's sandbox, tests/service.rs) and minisign (bundles signed by Debian's
#     minisign must import), with apt-get when root;
#   - the Rust 1.88 toolchain (Buildroot 2026.02 LTS's compiler), to prove the crate builds on it;
#   - crates, with cargo (Cargo.lock is committed; --locked everywhere).
# Ends with one line "test.sh: N passed, M failed" and a non-zero exit if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

MSRV=1.88
passed=0
failed=0
failures=()

step() {
    local name=$1
    shift
    echo "=== test.sh: $name"
    if "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failures+=("$name")
        echo "=== test.sh: $name FAILED"
    fi
}

install_debian_packages() {
    local missing=()
    command -v obex_test >/dev/null || missing+=(openobex-apps)
    command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
    command -v systemd-analyze >/dev/null || missing+=(systemd)
    command -v minisign >/dev/null || missing+=(minisign)
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "test.sh: missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
        return 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_msrv_toolchain() {
    rustup toolchain list | grep -q "^$MSRV" || rustup toolchain install "$MSRV" --profile minimal
}

release_clippy() {
    # The image's binary is built without the test-only fault injection (the tests turn it on
    # through a dev-dependency): lint that build too.
    cargo clippy --locked --lib --bins -- -D warnings
}

unit_exposure() {
    # The shipped unit's sandbox by systemd's own measure; the test also prints the figure.
    systemd-analyze security --offline=true --threshold=30 --no-pager \
        --root=board/common/rootfs-overlay o4send.service | tail -1
}

msrv_build() {
    # Its own target dir, so the two compilers do not rebuild each other's artefacts.
    CARGO_TARGET_DIR=target/msrv cargo "+$MSRV" build --locked --all-targets
}

bench_smoke() {
    # The benchmark runs end to end on a small hall; figures for docs/benchmarks.md come from
    # a release build with the full sizes (see docs/benchmarks.md).
    cargo run --locked --quiet -- bench --phones 30 --sightings 5000
}

step "install Debian packages" install_debian_packages
step "install Rust $MSRV" install_msrv_toolchain
step "cargo fmt --check" cargo fmt --all -- --check
step "cargo clippy -D warnings" cargo clippy --locked --all-targets -- -D warnings
step "cargo clippy (release features) -D warnings" release_clippy
step "cargo test" cargo test --locked
step "systemd-analyze security o4send.service <= 3.0" unit_exposure
step "build with Rust $MSRV" msrv_build
step "bench smoke run" bench_smoke

if [ "$failed" -gt 0 ]; then
    echo "test.sh: failed steps: ${failures[*]}"
fi
echo "test.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
