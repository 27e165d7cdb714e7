#!/usr/bin/env bash
# Builds the o4send images from Debian's packages, with no internet but Debian's archive:
#   build-image.sh [pi] [pc]        (default: both)
# writes into output/images/ (O4SEND_IMAGE_OUT to change):
#   o4send-<version>-pi.img.xz   Raspberry Pi 3 (B, B+), 4 (B, 400) and Zero 2 W (arm64)
#   o4send-<version>-pc.img.xz   an amd64 mini-PC or laptop with a USB Bluetooth dongle (UEFI)
#   SHA256SUMS                   of the .img.xz files and the raw images inside them
# and keeps the raw o4send-<version>-<target>.img beside them (the CI's boot test boots it).
# Steps, each in scripts/image/: host-tools.sh (mmdebstrap, genimage, QEMU; arm64 emulation),
# the static o4send binary for the target's architecture (scripts/build-static.sh), system.sh
# (the Debian system of the target's layers in board/debian, cached by its inputs under
# /var/cache/o4send-image), assemble.sh (this checkout's board/common and binary on it, the
# file systems and the card), then xz. Pinned to Debian trixie; reproducible: the same package
# set and sources give the same bytes (SOURCE_DATE_EPOCH defaults to the last commit's time).
# Root only (mmdebstrap, chroot, binfmt_misc). docs/image.md says what is in an image and why.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
# shellcheck source=scripts/image/common.sh
. scripts/image/common.sh

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(pi pc)
for t in "${targets[@]}"; do target_arch "$t" >/dev/null; done
[ "$(id -u)" -eq 0 ] || die "needs root (mmdebstrap's root mode, chroot, binfmt_misc for arm64)"

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
export IMAGE_VERSION=$version
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
out=${O4SEND_IMAGE_OUT:-$repo/output/images}
mkdir -p "$out"

for t in "${targets[@]}"; do
    start=$SECONDS
    arch=$(target_arch "$t")
    scripts/image/host-tools.sh "$arch"
    case $arch in
    arm64) rust=aarch64 ;;
    amd64) rust=x86_64 ;;
    esac
    scripts/build-static.sh "$rust" >&2 || die "$t: the static o4send build for $rust failed"
    bin=${CARGO_TARGET_DIR:-$repo/target}/$rust-unknown-linux-musl/release/o4send
    system=$(scripts/image/system.sh "$t" | tail -1)
    img=$out/o4send-$version-$t.img
    rm -f "$img" "$img.xz"
    scripts/image/assemble.sh "$t" "$system" "$bin" "$img"
    need_space "$out" 400 "compressing the $t image"
    xz -T0 -6 --keep --stdout "$img" >"$img.xz.tmp" || { rm -f "$img.xz.tmp"; die "$t: xz failed"; }
    mv "$img.xz.tmp" "$img.xz"
    echo "build-image.sh: $t: $img.xz ($(du -m "$img.xz" | cut -f1) MB; $(($(stat -c %s "$img") / 1048576)) MiB written to the card) in $((SECONDS - start)) s"
done
(cd "$out" && find . -maxdepth 1 -name 'o4send-*.img*' ! -name '*.tmp' ! -name '*.work' -printf '%f\n' |
    grep -E '\.img(\.xz)?$' | LC_ALL=C sort | xargs sha256sum >SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS)
echo "build-image.sh: $out/SHA256SUMS"
