#!/usr/bin/env bash
# Writes an o4send SD-card image to a card, shows progress, then reads the card back and
# compares it with the image.
#   flash.sh [--yes] IMAGE DEVICE        e.g. flash.sh output/images/o4send-0.1.0-pi.img /dev/sdb
# Refuses anything that is not a whole, removable, unused disk: a regular file, a partition, a
# fixed disk (the computer's own), a disk with a mounted partition, swap or device-mapper user,
# a disk smaller than the image. Asks before it erases the card unless --yes is given.
# O4SEND_FLASH_SYSFS (tests only) reads the disk's attributes from another sysfs tree.
set -euo pipefail

refuse() {
    echo "flash.sh: refused: $*" >&2
    exit 1
}

yes=
if [ "${1:-}" = --yes ]; then
    yes=1
    shift
fi
[ $# -eq 2 ] || refuse "usage: flash.sh [--yes] IMAGE DEVICE (e.g. flash.sh o4send-0.1.0-pi.img /dev/sdb)"
image=$1
device=$2
sys=${O4SEND_FLASH_SYSFS:-/sys}

if [ ! -f "$image" ] || [ ! -r "$image" ]; then
    refuse "image $image is not a readable file"
fi
size=$(stat -L -c %s "$image")
[ "$size" -gt 0 ] || refuse "image $image is empty"

[ -b "$device" ] || refuse "$device is not a block device (give the card's disk, e.g. /dev/sdb or /dev/mmcblk0)"
name=$(basename "$(readlink -f "$device")")
dir=$sys/class/block/$name
[ -d "$dir" ] || refuse "$device is unknown to the kernel ($dir is missing)"
[ ! -e "$dir/partition" ] || refuse "$device is a partition; give the whole card (the disk without the partition number)"

# A card in a USB reader says removable=1; a card in a built-in slot is an mmcblk disk of type SD
# (an eMMC, often the system disk, is of type MMC).
removable=$(cat "$dir/removable" 2>/dev/null || echo 0)
type=$(cat "$dir/device/type" 2>/dev/null || true)
[ "$removable" = 1 ] || { [[ $name == mmcblk* ]] && [ "$type" = SD ]; } ||
    refuse "$device is not a removable disk (removable=$removable${type:+, type $type}): it may be this computer's own disk"

# Nothing on it may be in use: mounted, swap, or held by device-mapper/RAID.
for part in "$dir" "$dir"/*/partition; do
    [ -e "$part" ] || continue
    part=${part%/partition}
    n=$(basename "$part")
    where=$(awk -v d="/dev/$n" '$1 == d { print $2; exit }' /proc/mounts)
    [ -z "$where" ] || refuse "/dev/$n is mounted on $where; unmount it first (umount /dev/$n)"
    ! grep -q "^/dev/$n " /proc/swaps || refuse "/dev/$n is in use as swap (swapoff /dev/$n)"
    holders=$(ls "$part/holders" 2>/dev/null || true)
    [ -z "$holders" ] || refuse "/dev/$n is in use by $holders"
done

disk_size=$(($(cat "$dir/size") * 512))
[ "$disk_size" -ge "$size" ] || refuse "$device holds $disk_size bytes, the image needs $size"
[ -w "$device" ] || refuse "cannot write $device: run as root (sudo)"

model=$(tr -s ' ' 2>/dev/null <"$dir/device/model" || true)
echo "flash.sh: $image ($size bytes) -> $device (${model:+$model, }$((disk_size / 1000000)) MB)"
if [ -z "$yes" ]; then
    [ -t 0 ] || refuse "not asking without a terminal; add --yes to erase $device"
    read -r -p "Everything on $device will be erased. Type yes to go on: " answer
    [ "$answer" = yes ] || refuse "not confirmed"
fi

echo "flash.sh: writing"
dd if="$image" of="$device" bs=4M conv=fsync oflag=direct status=progress
sync
blockdev --flushbufs "$device"

echo "flash.sh: verifying"
# cmp stops reading at the image's end, so dd may die of SIGPIPE: only cmp's verdict counts.
set +o pipefail
if ! dd if="$device" bs=4M iflag=direct count=$(((size + 4194303) / 4194304)) status=progress |
    cmp -n "$size" - "$image"; then
    echo "flash.sh: verification FAILED: $device does not read back as $image (a bad card or reader?)" >&2
    exit 1
fi
echo "flash.sh: wrote and verified $size bytes on $device; the card can be removed"
