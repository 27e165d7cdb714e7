#!/usr/bin/env bash
# The appliance VM's boot disk, laid out like the image's SD card start (board/common/genimage.cfg):
# an MBR whose first partition (type 0x0C, bootable, at 4 MiB) is a 64 MiB FAT labelled O4SEND
# holding o4send.toml at its root, as the operator's laptop leaves it. QEMU gives it to the guest
# read-only; boot.mount mounts it at /boot.
#   mkbootdisk.sh OUT.img TOML       make the disk with TOML as o4send.toml
#   mkbootdisk.sh --edit OUT.img TOML  overwrite o4send.toml on the disk (mtools; the guest may
#                                      have the partition mounted, as a card edited in a laptop
#                                      and put back)
set -euo pipefail
part() { echo "$1@@4M"; }   # mtools: the FAT partition at 4 MiB into the disk
if [ "$1" = --edit ]; then
    mcopy -o -i "$(part "$2")" "$3" ::o4send.toml
    exit 0
fi
OUT=$1 TOML=$2
rm -f "$OUT"
truncate -s 68M "$OUT"
printf 'label: dos\nstart=4MiB, size=64MiB, type=c, bootable\n' | sfdisk -q "$OUT"
mkfs.vfat -n O4SEND --offset 8192 "$OUT" 65536 > /dev/null
mcopy -i "$(part "$OUT")" "$TOML" ::o4send.toml
