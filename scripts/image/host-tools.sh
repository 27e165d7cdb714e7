#!/usr/bin/env bash
# host-tools.sh [arm64]: installs what building and booting the images needs on a Debian 12 host,
# with apt-get (root): mmdebstrap, genimage, mtools, dosfstools, e2fsprogs, xz, mkimage (the Pi's
# boot script), QEMU (aarch64 and
# x86_64, OVMF's UEFI firmware), and for arm64 qemu-user registered in binfmt_misc, so the
# arm64 maintainer scripts run under emulation. QEMU and e2fsprogs come from bookworm-backports
# (QEMU 10, e2fsprogs 1.47.2: reproducible times in mke2fs -d), through a private apt source list
# under the cache (the system's apt configuration is never changed), as the VM rig does.
# Exits 1 with one line saying why when it cannot.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/image/common.sh
. "$here/common.sh"

have_all() {
    command -v mmdebstrap >/dev/null && command -v genimage >/dev/null && command -v mcopy >/dev/null &&
        command -v mkfs.vfat >/dev/null && command -v xz >/dev/null && command -v qemu-system-aarch64 >/dev/null &&
        command -v qemu-system-x86_64 >/dev/null && [ -e /usr/share/OVMF/OVMF_CODE_4M.fd ] &&
        [ -x /usr/libexec/qemu-binfmt/aarch64-binfmt-P ] && command -v sfdisk >/dev/null && command -v mkimage >/dev/null && command -v rauc >/dev/null && command -v mksquashfs >/dev/null &&
        dpkg --compare-versions "$(dpkg-query -W -f '${Version}' e2fsprogs)" ge 1.47.1
}
if ! have_all; then
    [ "$(id -u)" -eq 0 ] || die "mmdebstrap, genimage, QEMU or e2fsprogs 1.47.1+ missing, and not root (cannot apt-get install)"
    a=$(image_cache)/apt
    mkdir -p "$a"
    printf '%s\n' 'deb http://deb.debian.org/debian bookworm main' \
        'deb http://deb.debian.org/debian-security bookworm-security main' \
        'deb http://deb.debian.org/debian bookworm-backports main' >"$a/sources.list"
    export DEBIAN_FRONTEND=noninteractive
    private_apt "$a" update -qq || die "apt-get update failed (is Debian's archive reachable?)"
    private_apt "$a" install -y -qq --no-install-recommends -t bookworm-backports \
        mmdebstrap genimage mtools dosfstools e2fsprogs fdisk xz-utils zstd arch-test \
        qemu-system-arm qemu-system-x86 qemu-user qemu-user-binfmt qemu-efi-aarch64 ovmf \
        binfmt-support debian-archive-keyring u-boot-tools rauc squashfs-tools >/dev/null ||
        die "apt-get could not install the image tools"
    have_all || die "a tool is still missing after apt-get"
fi
# arm64 maintainer scripts run under qemu-user: registered in binfmt_misc (containers have no
# systemd-binfmt to do it at boot).
if [ "${1:-}" = arm64 ] && ! arch-test arm64 >/dev/null 2>&1; then
    [ "$(id -u)" -eq 0 ] || die "arm64 binaries do not run here and only root can register qemu-user in binfmt_misc"
    [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc ||
        die "cannot mount binfmt_misc"
    [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || cat /usr/lib/binfmt.d/qemu-aarch64.conf >/proc/sys/fs/binfmt_misc/register ||
        die "cannot register qemu-aarch64 in binfmt_misc"
    arch-test arm64 >/dev/null || die "arm64 binaries still do not run after registering qemu-user (arch-test arm64)"
fi
