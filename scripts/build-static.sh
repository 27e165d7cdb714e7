#!/usr/bin/env bash
# Builds a fully static o4send (musl) for x86_64 and aarch64 and prints, per target, what `file`
# says of it and its stripped size against the 8 MiB goal. The release profile in Cargo.toml
# already strips. Installs what it needs on Debian:
#   - the musl targets (rustup);
#   - x86_64: musl-gcc from musl-tools (apt-get, as root);
#   - aarch64: zig from PyPI (pip install ziglang) and cargo-zigbuild from crates.io, since
#     Debian has no aarch64 musl C compiler (SQLite, ring and libdbus are C).
#   build-static.sh [x86_64|aarch64]...     (default: both)
# Binaries: $CARGO_TARGET_DIR (default target/)/<arch>-unknown-linux-musl/release/o4send
set -euo pipefail
cd "$(dirname "$0")/.."

GOAL=$((8 * 1024 * 1024))
ZIGBUILD_VERSION=0.24.1
ZIG_VERSION=0.15.2
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(x86_64 aarch64)

die() {
    echo "build-static.sh: $*" >&2
    exit 1
}

need_apt() {
    command -v "$1" >/dev/null && return 0
    [ "$(id -u)" -eq 0 ] || die "$1 is missing (run as root, or: sudo apt-get install $2)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null ||
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null; } ||
        die "apt-get install $2 failed"
}

need_zig() {
    python3 -m ziglang version >/dev/null 2>&1 || python3 -m pip install -q --root-user-action=ignore "ziglang==$ZIG_VERSION" ||
        die "pip install ziglang failed (zig is the C cross compiler for aarch64 musl)"
    command -v cargo-zigbuild >/dev/null ||
        cargo install -q --locked cargo-zigbuild --version "$ZIGBUILD_VERSION" ||
        die "cargo install cargo-zigbuild failed"
}

need_apt file file
for arch in "${arches[@]}"; do
    case $arch in
    x86_64) need_apt musl-gcc musl-tools ;;
    aarch64) need_zig ;;
    *) die "unknown target '$arch' (expected x86_64 or aarch64)" ;;
    esac
    rustup target list --installed | grep -qx "$arch-unknown-linux-musl" ||
        rustup target add "$arch-unknown-linux-musl" >/dev/null ||
        die "rustup target add $arch-unknown-linux-musl failed"
done

out=${CARGO_TARGET_DIR:-target}
status=0
for arch in "${arches[@]}"; do
    triple=$arch-unknown-linux-musl
    start=$SECONDS
    if [ "$arch" = x86_64 ]; then
        # The linker is the toolchain's own LLD (its gcc-ld/ld.lld, found by cc's -fuse-ld=lld;
        # .cargo/config.toml says why).
        PATH="$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin/gcc-ld:$PATH" \
            cargo build --locked --release --target "$triple" --bin o4send
    else
        cargo zigbuild --locked --release --target "$triple" --bin o4send
    fi
    bin=$out/$triple/release/o4send
    info=$(file -b "$bin")
    size=$(stat -c %s "$bin")
    echo "build-static.sh: $bin: $info"
    case $info in
    *"statically linked"* | *"static-pie linked"*) ;;
    *) echo "build-static.sh: $bin is not statically linked" >&2; status=1 ;;
    esac
    case $info in
    *", stripped"*) ;;
    *) echo "build-static.sh: $bin is not stripped (profile.release.strip?)" >&2; status=1 ;;
    esac
    verdict="within"
    [ "$size" -le "$GOAL" ] || { verdict="OVER"; status=1; }
    awk -v a="$arch" -v s="$size" -v v="$verdict" -v t=$((SECONDS - start)) 'BEGIN {
        printf "build-static.sh: %s: %d bytes = %.2f MiB stripped, %s the 8 MiB goal (built in %d s)\n", a, s, s / 1048576, v, t }'
done
exit "$status"
