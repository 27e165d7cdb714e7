#!/bin/sh
# pi, image stage: the boot partition of the Raspberry Pi 3 (B, B+), 4 (B, 400) and Zero 2 W.
#   ROOT BOOT: the assembled root file system and the directory that becomes the FAT partition.
# The GPU firmware of both families (bootcode.bin, start.elf and fixup.dat start the Pi 3 and
# Zero 2 W; start4.elf and fixup4.dat the Pi 4 and 400), the mainline device trees of the five
# boards, Debian's U-Boot for them (rpi_arm64) and its script (boot.cmd: it chooses root slot A
# or B), and the appliance's own config.txt and cmdline.txt. The kernel and initramfs stay in
# the root slot (/usr/lib/o4send/slot), so a system update brings its own. Nothing here is
# written again on the appliance: Debian's raspi-firmware kernel hook never runs there.
set -eu
root=$1 boot=$2
here=$(cd "$(dirname "$0")" && pwd)
kver=$(find "$root/usr/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | tail -1)
firmware=$root/usr/lib/raspi-firmware
dtbs=$root/usr/lib/linux-image-$kver/broadcom

for f in bootcode.bin start.elf fixup.dat start4.elf fixup4.dat; do
    cp "$firmware/$f" "$boot/"
done
for board in bcm2837-rpi-3-b bcm2837-rpi-3-b-plus bcm2837-rpi-zero-2-w bcm2711-rpi-4-b bcm2711-rpi-400; do
    cp "$dtbs/$board.dtb" "$boot/"
done
cp "$root/usr/lib/u-boot/rpi_arm64/u-boot.bin" "$boot/u-boot.bin"
# mkimage stamps the script with SOURCE_DATE_EPOCH.
mkimage -A arm64 -T script -C none -n "o4send root slot" -d "$here/boot.cmd" "$boot/boot.scr" >/dev/null
cp "$here/config.txt" "$boot/config.txt"
sed "s/@ROOT_PARTUUID@/$ROOT_PARTUUID/" "$here/cmdline.txt" >"$boot/cmdline.txt"
# RAUC: the slots, the custom boot-loader backend and the release certificate.
install -D -m 0644 "$here/rauc/system.conf" "$root/etc/rauc/system.conf"
install -D -m 0644 "$RELEASE_CERT" "$root/etc/rauc/keyring.pem"
install -D -m 0755 "$here/rauc/rauc-bootloader" "$root/usr/lib/o4send/rauc-bootloader"
mkdir -p "$root/usr/lib/o4send/slot"
mv "$root/boot/vmlinuz-$kver" "$root/usr/lib/o4send/slot/vmlinuz"
mv "$root/boot/initrd.img-$kver" "$root/usr/lib/o4send/slot/initrd.img"

# Only the boot partition needs these: the root slot stays small.
rm -rf "$firmware" "$root/usr/lib/linux-image-$kver" "$root/usr/lib/u-boot" "${root:?}/boot"/*
