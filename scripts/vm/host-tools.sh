#!/usr/bin/env bash
# Installs the host tools the VM rig needs (QEMU, debootstrap, cpio, e2fsprogs; mtools and
# dosfstools for the FAT content sticks; BlueZ's btvirt comes from the cache build). Needs root
# (apt-get). Exits non-zero with one line saying why when it cannot.
#
# Pitfall kept from the original recipe: some of our hosts carry qemu-utils from bookworm-backports,
# which Breaks bookworm's qemu-system-common 7.2; then qemu-system-x86 must come from
# bookworm-backports too. We do that through a private apt source list under the cache dir, so the
# system apt configuration is never changed.
set -euo pipefail
CACHE=${O4SEND_VM_CACHE:-/var/cache/o4send-vm}

have_all() {
    command -v qemu-system-x86_64 >/dev/null && command -v debootstrap >/dev/null &&
        command -v cpio >/dev/null && command -v mkfs.ext4 >/dev/null && command -v python3 >/dev/null &&
        command -v unshare >/dev/null && command -v mcopy >/dev/null && command -v mkfs.vfat >/dev/null
}
have_all && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "host-tools: qemu-system-x86_64/debootstrap missing and not root (cannot apt-get install)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
PKGS="qemu-system-x86 debootstrap cpio e2fsprogs python3 util-linux mtools dosfstools"
apt-get update -qq || true
if ! apt-get install -y -qq --no-install-recommends $PKGS >/dev/null 2>&1; then
    A=$CACHE/apt
    mkdir -p "$A/lists/partial" "$A/cache/archives/partial"
    printf '%s\n' 'deb http://deb.debian.org/debian bookworm main' \
        'deb http://deb.debian.org/debian-security bookworm-security main' \
        'deb http://deb.debian.org/debian bookworm-backports main' > "$A/sources.list"
    O=(-o "Dir::Etc::SourceList=$A/sources.list" -o Dir::Etc::SourceParts=/nonexistent
       -o "Dir::State::Lists=$A/lists" -o "Dir::Cache=$A/cache")
    apt-get "${O[@]}" update -qq
    apt-get "${O[@]}" install -y -qq --no-install-recommends -t bookworm-backports $PKGS >/dev/null ||
        { echo "host-tools: apt-get could not install $PKGS" >&2; exit 1; }
fi
have_all || { echo "host-tools: still missing a tool after apt-get ($PKGS)" >&2; exit 1; }
