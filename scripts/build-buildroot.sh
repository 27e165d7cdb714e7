#!/usr/bin/env bash
# Builds the minimal SD-card image for one board with a pinned Buildroot release (the images CI
# builds and releases come from Debian's packages instead: scripts/build-image.sh):
#   build-buildroot.sh pi3|pi4|pi5|zero2w    ->  output/<board>/images/sdcard.img
# Needs the internet: it fetches Buildroot into output/buildroot-<version>, and Buildroot
# then downloads the toolchain, the kernel, every package's sources and o4send's crates (into
# output/dl). The first build takes hours of CPU and about 20 GB of disk; later ones reuse it.
# BUILDROOT_DIR=<checkout> builds with that Buildroot tree instead of the pinned one.
# Installs Buildroot's host requirements with apt-get when run as root on Debian/Ubuntu.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

BR_VERSION=2026.02.3
BR_COMMIT=679b9ead7620bbf193620d1ebf56f53c1764d37a
BR_GIT=https://gitlab.com/buildroot.org/buildroot.git

die() {
    echo "build-buildroot.sh: $*" >&2
    exit 1
}

board=${1:-}
case $board in
pi3 | pi4 | pi5 | zero2w) ;;
*) die "usage: build-buildroot.sh pi3|pi4|pi5|zero2w (got '${board}')" ;;
esac

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        build-essential binutils diffutils patch gzip bzip2 perl tar cpio unzip rsync file bc \
        findutils gawk wget git ca-certificates python3 >/dev/null ||
        die "apt-get install of Buildroot's host requirements failed"
fi

git ls-remote --exit-code "$BR_GIT" "refs/tags/$BR_VERSION" >/dev/null 2>&1 ||
    die "no internet: cannot reach $BR_GIT. An image build downloads Buildroot, the kernel, every package's sources and the crates; offline, scripts/validate-buildroot.sh checks the Buildroot tree instead"

br=${BUILDROOT_DIR:-$repo/output/buildroot-$BR_VERSION}
if [ -n "${BUILDROOT_DIR:-}" ]; then
    [ -f "$br/Makefile" ] || die "BUILDROOT_DIR=$br is not a Buildroot tree"
elif [ ! -f "$br/Makefile" ]; then
    rm -rf "$br.tmp"
    git clone -q --depth 1 --branch "$BR_VERSION" "$BR_GIT" "$br.tmp"
    [ "$(git -C "$br.tmp" rev-parse HEAD)" = "$BR_COMMIT" ] ||
        die "Buildroot $BR_VERSION from $BR_GIT is not commit $BR_COMMIT; refusing it"
    mv "$br.tmp" "$br"
fi

out=$repo/output/$board
export BR2_DL_DIR=${BR2_DL_DIR:-$repo/output/dl}
make -C "$br" BR2_EXTERNAL="$repo/buildroot" O="$out" "o4send_${board}_defconfig"
# o4send is a local package: Buildroot copies this repository once and does not notice edits.
if compgen -G "$out/build/o4send-*/.stamp_rsynced" >/dev/null; then
    make -C "$out" o4send-rebuild
fi
make -C "$out"

img=$out/images/sdcard.img
[ -f "$img" ] || die "the build ended without $img"
echo "build-buildroot.sh: $img ($(du -h --apparent-size "$img" | cut -f1)); write it to a card with scripts/flash.sh $img /dev/sdX"
