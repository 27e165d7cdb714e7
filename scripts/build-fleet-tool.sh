#!/usr/bin/env bash
# Builds the fleet tool: o4send for the operator's and the manager's laptops, Windows (x86_64)
# and macOS (arm64, x86_64), with the commands a laptop needs: `bundle` (keygen, create, verify),
# `passwd`, `config check`, `report --db` and `demo`. Nothing of the appliance's own (BlueZ,
# systemd, the dashboard) is in it. Profile `fleet` (Cargo.toml). Installs what it needs on
# Debian: the MinGW-w64 C compiler (apt-get, as root) for Windows, zig and cargo-zigbuild for
# macOS (as build-static.sh does for aarch64; zig links Mach-O without Apple's SDK).
#   build-fleet-tool.sh OUT_DIR VERSION
# writes OUT_DIR/o4send-VERSION-windows-x86_64.exe, o4send-VERSION-macos-arm64 and
# o4send-VERSION-macos-x86_64.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: build-fleet-tool.sh OUT_DIR VERSION}
version=${2:?usage: build-fleet-tool.sh OUT_DIR VERSION}
ZIGBUILD_VERSION=0.24.1
ZIG_VERSION=0.15.2

die() {
    echo "build-fleet-tool.sh: $*" >&2
    exit 1
}

if ! command -v x86_64-w64-mingw32-gcc >/dev/null; then
    [ "$(id -u)" -eq 0 ] || die "x86_64-w64-mingw32-gcc is missing (sudo apt-get install gcc-mingw-w64-x86-64-posix)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc-mingw-w64-x86-64-posix >/dev/null ||
        die "apt-get install gcc-mingw-w64-x86-64-posix failed"
fi
python3 -m ziglang version >/dev/null 2>&1 || python3 -m pip install -q --root-user-action=ignore "ziglang==$ZIG_VERSION" ||
    die "pip install ziglang failed"
command -v cargo-zigbuild >/dev/null || cargo install -q --locked cargo-zigbuild --version "$ZIGBUILD_VERSION" ||
    die "cargo install cargo-zigbuild failed"
for t in x86_64-pc-windows-gnu aarch64-apple-darwin x86_64-apple-darwin; do
    rustup target list --installed | grep -qx "$t" || rustup target add "$t" >/dev/null || die "rustup target add $t failed"
done

mkdir -p "$out"
target=${CARGO_TARGET_DIR:-target}
cargo build --locked --profile fleet --target x86_64-pc-windows-gnu --bin o4send
cp "$target/x86_64-pc-windows-gnu/fleet/o4send.exe" "$out/o4send-$version-windows-x86_64.exe"
for arch in arm64:aarch64 x86_64:x86_64; do
    cargo zigbuild --locked --profile fleet --target "${arch#*:}-apple-darwin" --bin o4send
    cp "$target/${arch#*:}-apple-darwin/fleet/o4send" "$out/o4send-$version-macos-${arch%%:*}"
done
for f in "$out/o4send-$version-windows-x86_64.exe" "$out/o4send-$version-macos-arm64" "$out/o4send-$version-macos-x86_64"; do
    echo "build-fleet-tool.sh: $f: $(stat -c %s "$f") bytes, $(file -b "$f" | cut -d, -f1-2)"
done
