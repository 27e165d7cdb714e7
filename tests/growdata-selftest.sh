#!/usr/bin/env bash
# Proves board/common/image-overlay/usr/lib/o4send/growdata (o4send-growdata.service) on a real
# kernel, with the data file system mounted (online), on a small card laid out like
# board/common/genimage.cfg (MBR, 4 MiB alignment: FAT boot, ext4 root, ext4 "o4send-data"):
#   a. a freshly flashed card that is larger than the image: the first run grows partition 3 to
#      the card's last sector and the file system with it, a file on it stays intact, fsck is
#      clean, and a second run changes nothing (the MBR sector and the block count are the same);
#   b. a power cut after the table was written but before the file system grew (the table is
#      grown here beforehand, as the cut would have left it): the next boot grows only the file
#      system and leaves the table as it is.
# Why a User-Mode Linux kernel: growing a mounted ext4 needs CAP_SYS_RESOURCE, which this
# machine's sandbox (and CI's) does not grant even to root, so resize2fs is refused ("Permission
# denied to resize filesystem") on the host's loop devices. Debian's user-mode-linux is a Linux
# kernel run as a process (about 3 s to boot): the card image is its disk (/dev/ubda, partitions
# ubda1-3 scanned at boot like mmcblk0p1-3), the host's root its read-only root file system, and
# its root has every capability. The host's loop devices write the file before and read it back
# after, with the host's own kernel. growdata runs under BusyBox's sh and tools, as on the image.
# Root only (apt-get, loop devices). Exits 1 when it cannot run, saying why; scripts/test.sh
# skips it without root unless CI=true.
# shellcheck disable=SC2016 # check's conditions are single-quoted: check evaluates them
set -euo pipefail
cd "$(dirname "$0")/.."
growdata=$PWD/board/common/image-overlay/usr/lib/o4send/growdata

cannot() {
    echo "growdata-selftest: cannot run: $*" >&2
    exit 1
}
[ "$(id -u)" -eq 0 ] || cannot "needs root (apt-get, loop devices)"
[ -x "$growdata" ] || cannot "no executable $growdata"
missing=()
command -v linux.uml >/dev/null || missing+=(user-mode-linux)
command -v sfdisk >/dev/null || missing+=(fdisk)
command -v partx >/dev/null || missing+=(util-linux)
command -v resize2fs >/dev/null || missing+=(e2fsprogs)
command -v busybox >/dev/null || missing+=(busybox)
command -v mkfs.vfat >/dev/null || missing+=(dosfstools)
if [ ${#missing[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
        { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } ||
        cannot "apt-get install ${missing[*]} failed"
fi

t=$(mktemp -d /var/tmp/growdata-selftest.XXXXXX)
loops=()
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    umount "$t/mnt" 2>/dev/null || true
    for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null || true; done
    rm -rf "$t"
}
trap cleanup EXIT
mkdir "$t/mnt" "$t/out"

failed=0
check() { # check NAME CONDITION: CONDITION is shell code, true when the check passes
    local name=$1
    if eval "$2"; then
        echo "growdata-selftest: ok: $name"
    else
        echo "growdata-selftest: FAILED: $name"
        failed=1
    fi
}

# The image as genimage.cfg lays it out, smaller: partitions start on 4 MiB boundaries, the
# image ends where the data partition does. In 512-byte sectors.
mib=2048
p1_start=$((4 * mib)) p1_size=$((8 * mib))
p2_start=$((12 * mib)) p2_size=$((8 * mib))
p3_start=$((20 * mib)) p3_size=$((16 * mib))
card=$t/card.img
truncate -s $(((p3_start + p3_size) * 512)) "$card"
sfdisk -q "$card" <<EOF
label: dos
start=$p1_start, size=$p1_size, type=c, bootable
start=$p2_start, size=$p2_size, type=83
start=$p3_start, size=$p3_size, type=83
EOF
mkfs.vfat -n O4SEND --offset "$p1_start" "$card" $((p1_size / 2)) >/dev/null 2>&1
# The data file system as mke2fs makes genimage's 1 GiB data.ext4 (ext4 defaults, 4 KiB
# blocks), written through a loop device over partition 3; then a file on it, as the
# appliance's log would be.
data_loop() { # data_loop [-r]: a loop device over partition 3 as the card is now
    local size
    size=$(sfdisk --dump "$card" | sed -n 's|.*img3 : .*size= *\([0-9]*\).*|\1|p')
    losetup -f --show "$@" -o $((p3_start * 512)) --sizelimit $((size * 512)) "$card"
}
l=$(data_loop)
loops+=("$l")
mkfs.ext4 -q -b 4096 -L o4send-data "$l"
mount "$l" "$t/mnt"
mkdir -p "$t/mnt/upper/lib/o4send"
head -c 3M /dev/urandom >"$t/mnt/upper/lib/o4send/o4send.db"
# shellcheck disable=SC2034 # used in a check's condition
sum=$(sha256sum <"$t/mnt/upper/lib/o4send/o4send.db")
umount "$t/mnt"
losetup -d "$l"
blocks_of() { dumpe2fs -h "$1" 2>/dev/null | sed -n 's/^Block count: *//p'; }

# The card is larger than the image, by an amount no alignment rounds to (as real cards are).
card_sectors=$((256 * mib + 7))
truncate -s $((card_sectors * 512)) "$card"
cp --sparse=always "$card" "$t/cut.img"

# The image runs growdata with BusyBox's sh, awk, sed, grep, readlink and cat, and util-linux's
# and e2fsprogs' own programs: so does the guest.
mkdir "$t/bb"
for applet in sh awk sed grep readlink cat tr; do ln -s "$(command -v busybox)" "$t/bb/$applet"; done

# The guest's init: mounts the data partition, runs growdata as the unit would (RUNS times),
# and after each run writes its output, exit status, MBR sector and block count to out/.
cat >"$t/init" <<EOF
#!/bin/sh
PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t hostfs -o $t/out hostfs $t/out
runs=\$(cat $t/out/runs)
mount /dev/ubda3 $t/mnt && echo mounted >$t/out/mounted
i=1
while [ \$i -le \$runs ]; do
    PATH=$t/bb:\$PATH $t/bb/sh $growdata $t/mnt >$t/out/run\$i.out 2>&1
    echo \$? >$t/out/run\$i.rc
    sync
    dd if=/dev/ubda bs=512 count=1 of=$t/out/mbr\$i 2>/dev/null
    dumpe2fs -h /dev/ubda3 2>/dev/null | sed -n 's/^Block count: *//p' >$t/out/blocks\$i
    i=\$((i + 1))
done
umount $t/mnt
e2fsck -fn /dev/ubda3 >$t/out/fsck.out 2>&1
echo \$? >$t/out/fsck.rc
umount $t/out
poweroff -f
EOF
chmod 755 "$t/init"

boot() { # boot IMAGE RUNS: the UML kernel with IMAGE as its disk
    rm -f "$t"/out/*
    echo "$2" >"$t/out/runs"
    timeout 180 linux.uml mem=192M root=/dev/root rootfstype=hostfs rootflags=/ ro \
        init="$t/init" "ubd0=$1" con=null con0=null,fd:1 quiet >"$t/uml.log" 2>&1 </dev/null || true
    if [ ! -e "$t/out/mounted" ] || [ ! -e "$t/out/fsck.rc" ]; then
        echo "growdata-selftest: the UML guest did not mount the data partition or did not finish:"
        tail -n 20 "$t/uml.log"
        exit 1
    fi
}
end_of_p3() { sfdisk --dump "$1" | sed -n 's|.*img3 : start= *\([0-9]*\), size= *\([0-9]*\).*|\1 \2|p'; }

# a. A fresh card: grown online, then a second run changes nothing.
boot "$card" 2
sed 's/^/growdata-selftest: a: run 1: /' "$t/out/run1.out"
sed 's/^/growdata-selftest: a: run 2: /' "$t/out/run2.out"
# shellcheck disable=SC2034 # used in a check's condition
read -r s3 z3 <<<"$(end_of_p3 "$card")"
check "a: the first run exits 0" '[ "$(cat "$t/out/run1.rc")" = 0 ]'
check "a: partition 3 keeps its start ($p3_start) and ends at the card's last sector ($((card_sectors - 1)))" \
    '[ "$s3" = "$p3_start" ] && [ $((s3 + z3)) = "$card_sectors" ]'
check "a: partitions 1 and 2 are unchanged" \
    'sfdisk --dump "$card" | grep -q "img1 : start= *$p1_start, size= *$p1_size, type=c, bootable" &&
     sfdisk --dump "$card" | grep -q "img2 : start= *$p2_start, size= *$p2_size, type=83"'
check "a: the file system grew (4 KiB blocks: $((p3_size / 8)) before, $(cat "$t/out/blocks1") after)" \
    '[ "$(cat "$t/out/blocks1")" -gt $((p3_size / 8)) ]'
check "a: the second run exits 0 and says nothing to do" \
    '[ "$(cat "$t/out/run2.rc")" = 0 ] && grep -q "^growdata: nothing to do" "$t/out/run2.out"'
check "a: the second run wrote no partition table (MBR sector identical)" 'cmp -s "$t/out/mbr1" "$t/out/mbr2"'
check "a: the second run left the block count as it was" 'cmp -s "$t/out/blocks1" "$t/out/blocks2"'
check "a: e2fsck -fn is clean after growing" '[ "$(cat "$t/out/fsck.rc")" = 0 ]'
l=$(data_loop -r)
loops+=("$l")
mount -o ro "$l" "$t/mnt"
check "a: the host's kernel mounts it ($(df -BM --output=size "$t/mnt" | tail -n 1 | tr -d ' ')), the file is intact" \
    '[ "$(sha256sum <"$t/mnt/upper/lib/o4send/o4send.db")" = "$sum" ]'
check "a: the file system holds the partition's $((z3 / 8)) blocks, less at most one block group ($(blocks_of "$l"))" \
    'n=$(blocks_of "$l") && [ "$n" -le $((z3 / 8)) ] && [ $((z3 / 8 - n)) -lt 32768 ]'
umount "$t/mnt"

# b. The power cut after the table write: the table is grown, the file system is not.
echo ', +' | sfdisk -q --no-reread --no-tell-kernel -N 3 "$t/cut.img"
cp "$t/cut.img" "$t/cut-before.img"
boot "$t/cut.img" 1
sed 's/^/growdata-selftest: b: /' "$t/out/run1.out"
check "b: the run after the cut exits 0" '[ "$(cat "$t/out/run1.rc")" = 0 ]'
check "b: it grew the file system only" \
    '! grep -q "^growdata: \(partition table\|kernel\)" "$t/out/run1.out" &&
     grep -q "^growdata: file system on ubda3 grown online" "$t/out/run1.out"'
check "b: the table it found is the one it left (MBR sector identical)" \
    'cmp -s -n 512 "$t/cut-before.img" "$t/cut.img"'
check "b: e2fsck -fn is clean" '[ "$(cat "$t/out/fsck.rc")" = 0 ]'

[ "$failed" -eq 0 ] && echo "growdata-selftest: all checks passed"
exit "$failed"
