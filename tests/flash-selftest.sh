#!/usr/bin/env bash
# Runs scripts/flash.sh against real loop devices (root only): it must refuse a regular file, a
# partition, a fixed disk, a mounted disk, a disk too small and an unconfirmed run, and write and
# verify a card. Loop devices are never removable, so the cases that must get past that check
# read a copy of the loop device's sysfs entries in which it is (O4SEND_FLASH_SYSFS).
set -euo pipefail
cd "$(dirname "$0")/.."
flash=$PWD/scripts/flash.sh
[ "$(id -u)" -eq 0 ] || { echo "flash-selftest: needs root (loop devices)" >&2; exit 1; }

t=$(mktemp -d)
loops=()
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    umount "$t/mnt" 2>/dev/null || true
    for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null || true; done
    rm -rf "$t"
}
trap cleanup EXIT

failed=0
# expect_refusal NAME WORDS -- flash.sh args: flash.sh must exit 1 and its message contain WORDS.
expect_refusal() {
    local name=$1 words=$2
    shift 3
    local out
    if out=$("$@" </dev/null 2>&1); then
        echo "flash-selftest: $name: NOT refused"
        failed=1
    elif [[ $out == *"$words"* ]]; then
        echo "flash-selftest: $name: ok ($out)"
    else
        echo "flash-selftest: $name: refused for another reason: $out"
        failed=1
    fi
}

# A 24 MiB "card", a loop device over 16 MiB of it standing for its first partition (this
# machine's loop devices may not scan partition tables), a 2 MiB card and a 4 MiB image.
truncate -s 24M "$t/card"
card=$(losetup -f --show "$t/card")
loops+=("$card")
part=$(losetup -f --show -o 1M --sizelimit 16M "$t/card")
loops+=("$part")
truncate -s 2M "$t/small"
small=$(losetup -f --show "$t/small")
loops+=("$small")
head -c 4M /dev/urandom >"$t/sdcard.img"

# The fake sysfs: the loop devices' real sizes; the card and the small one removable, the
# partition loop a partition of the card (as /sys/class/block/sdb/sdb1 is of sdb).
fake=$t/sys/class/block
for l in "$card" "$small" "$part"; do
    mkdir -p "$fake/${l#/dev/}"
    cp "/sys/class/block/${l#/dev/}/size" "$fake/${l#/dev/}/"
done
echo 1 >"$fake/${card#/dev/}/removable"
echo 1 >"$fake/${small#/dev/}/removable"
echo 1 >"$fake/${part#/dev/}/partition"
mkdir "$fake/${card#/dev/}/${part#/dev/}"
echo 1 >"$fake/${card#/dev/}/${part#/dev/}/partition"

expect_refusal "regular file" "is not a block device" -- "$flash" --yes "$t/sdcard.img" "$t/card"
expect_refusal "missing image" "is not a readable file" -- "$flash" --yes "$t/nothing.img" "$card"
expect_refusal "fixed disk" "is not a removable disk" -- "$flash" --yes "$t/sdcard.img" "$card"
export O4SEND_FLASH_SYSFS=$t/sys
expect_refusal "partition" "is a partition" -- "$flash" --yes "$t/sdcard.img" "$part"
expect_refusal "too small" "the image needs" -- "$flash" --yes "$t/sdcard.img" "$small"
expect_refusal "no terminal, no --yes" "add --yes" -- "$flash" "$t/sdcard.img" "$card"
mkfs.ext4 -q "$part"
mkdir "$t/mnt"
mount "$part" "$t/mnt"
expect_refusal "mounted partition" "$part is mounted on $t/mnt" -- "$flash" --yes "$t/sdcard.img" "$card"
umount "$t/mnt"

if out=$("$flash" --yes "$t/sdcard.img" "$card" 2>&1) && cmp -s -n 4194304 "$t/sdcard.img" "$card"; then
    echo "flash-selftest: write and verify: ok ($(tail -n 1 <<<"$out"))"
else
    echo "flash-selftest: write and verify FAILED: $out"
    failed=1
fi
[ "$failed" -eq 0 ] && echo "flash-selftest: all cases passed"
exit "$failed"
