#!/usr/bin/env bash
# qemu-u-boot.sh: prints the path of Debian trixie's U-Boot for QEMU's arm64 machine
# (u-boot-qemu, qemu_arm64/u-boot.bin), downloaded once into the image cache. The boot test
# starts the Pi image with it: the same U-Boot release as the Pi's (u-boot-rpi), running the
# image's own boot script, so slot choice and fallback are tested as the Pi does them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/image/common.sh
. "$here/common.sh"

dir=$(image_cache)/u-boot-qemu-trixie
bin=$dir/usr/lib/u-boot/qemu_arm64/u-boot.bin
if [ ! -f "$bin" ]; then
    a=$(image_cache)/apt-trixie
    mkdir -p "$a" "$dir"
    echo 'deb http://deb.debian.org/debian trixie main' >"$a/sources.list"
    private_apt "$a" update -qq || die "apt-get update (trixie) failed: is Debian's archive reachable?"
    # apt's sandbox user may not write the cache; the download goes there as root.
    (cd "$a/cache" && private_apt "$a" -o APT::Sandbox::User=root download -qq u-boot-qemu) ||
        die "cannot download trixie's u-boot-qemu"
    for deb in "$a"/cache/u-boot-qemu_*_all.deb; do
        dpkg-deb -x "$deb" "$dir" && rm -f "$deb"
    done
    [ -f "$bin" ] || die "trixie's u-boot-qemu has no qemu_arm64/u-boot.bin"
fi
echo "$bin"
