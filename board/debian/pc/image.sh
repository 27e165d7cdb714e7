#!/bin/sh
# pc, image stage: the boot partition of an amd64 mini-PC or laptop, booted by its UEFI firmware.
#   ROOT BOOT: the assembled root file system and the directory that becomes the FAT partition.
# systemd-boot as the removable-media loader (EFI/BOOT/BOOTX64.EFI, found without any boot entry
# in the firmware), one entry that starts Debian's kernel with root A by its PARTUUID, no menu
# (timeout 0) and no editing of the kernel's command line at the keyboard (editor no).
set -eu
root=$1 boot=$2
here=$(cd "$(dirname "$0")" && pwd)
kver=$(find "$root/usr/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | tail -1)

mkdir -p "$boot/EFI/BOOT" "$boot/loader/entries"
cp "$root/usr/lib/systemd/boot/efi/systemd-bootx64.efi" "$boot/EFI/BOOT/BOOTX64.EFI"
cp "$here/loader.conf" "$boot/loader/loader.conf"
sed "s/@ROOT_PARTUUID@/$ROOT_PARTUUID/" "$here/o4send.conf" >"$boot/loader/entries/o4send.conf"
cp "$root/boot/vmlinuz-$kver" "$boot/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$boot/initrd.img"

# Only the boot partition needs these: the root slot stays small.
rm -rf "${root:?}/boot"/* "$root/usr/lib/systemd/boot"
