#!/bin/sh
# base, system stage: run by mmdebstrap as a customize hook on the new root ($1) once every
# package is in. What every target shares:
#   - the kernel's initramfs, built once here with the root complete (the essential hook kept
#     dpkg from building it per package: 2 minutes each under emulation): zstd, and
#     MODULES=most, Debian's default, so it holds the drivers of SD cards, USB, SATA, NVMe and
#     virtio (the CI's QEMU) and one initramfs boots every board of the target;
#   - no documentation, manual pages or translations (dpkg's path-exclude, set by
#     scripts/image/system.sh); the copyright files stay, as Debian's licences ask.
set -eu
root=$1
mkdir -p "$root/etc/initramfs-tools/conf.d"
printf '# o4send: fast to unpack on a Pi, small enough for the boot partition.\nCOMPRESS=zstd\n' \
    >"$root/etc/initramfs-tools/conf.d/o4send.conf"
echo update_initramfs=yes >"$root/etc/initramfs-tools/update-initramfs.conf"
for kver in "$root"/usr/lib/modules/*; do
    chroot "$root" update-initramfs -c -k "${kver##*/}"
done
