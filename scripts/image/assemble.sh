#!/usr/bin/env bash
# assemble.sh TARGET SYSTEM_TAR O4SEND_BIN OUT_IMG: the image, from the target's cached system
# (system.sh) and this checkout: each layer's image.sh on the unpacked root, then the file
# systems and the card (board/common/genimage.cfg). Takes about a minute. Writes OUT_IMG only
# when everything worked (a .tmp file until then, removed on failure) and OUT_IMG.packages.
# Env: IMAGE_VERSION, SOURCE_DATE_EPOCH (both set by build-image.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=scripts/image/common.sh
. "$here/common.sh"

target=$1 tar=$2 bin=$3 out=$4
read -ra layers <<<"$(target_layers "$target")"
[ -f "$tar" ] || die "no system tarball $tar"
[ -x "$bin" ] || die "no o4send binary $bin"
: "${IMAGE_VERSION:?}" "${SOURCE_DATE_EPOCH:?}"
export IMAGE_VERSION SOURCE_DATE_EPOCH IMAGE_TARGET=$target IMAGE_PACKAGES=$tar.packages
export O4SEND_BIN=$bin ROOT_PARTUUID=6f347365-02
# The certificate the image trusts for system bundles (a development one unless a release's).
RELEASE_CERT=$("$here/release-key.sh")/cert.pem
export RELEASE_CERT
# Every tool that writes a file system takes its times from here (e2fsprogs, e2fsck, mtools).
export E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH E2FSCK_TIME=$SOURCE_DATE_EPOCH

w=$out.work
need_space "$(dirname "$out")" 5000 "assembling the $target image"
rm -rf "$w" "$out.tmp"
trap 'rm -rf "$w" "$out.tmp"' EXIT
mkdir -p "$w/root" "$w/input/boot" "$w/empty"
tar --numeric-owner --xattrs --xattrs-include='*' -xpf "$tar" -C "$w/root" ||
    die "cannot unpack $tar"

for layer in "${layers[@]}"; do
    f=$repo/board/debian/$layer/image.sh
    [ ! -e "$f" ] || "$f" "$w/root" "$w/input/boot" || die "layer $layer: board/debian/$layer/image.sh failed"
done
cp "$repo/board/common/boot/o4send.toml" "$w/input/boot/o4send.toml"
find "$w/input/boot" -exec touch --no-dereference --date="@$SOURCE_DATE_EPOCH" {} +

# Root A: the whole slot, so a future update can write any root up to its size.
mke2fs -q -t ext4 -d "$w/root" -L o4send-root -U 6f347365-0000-4000-8000-000000000002 \
    -E hash_seed=6f347365-0000-4000-8000-000000000002,root_owner=0:0 \
    "$w/input/rootfs.ext4" 1G || die "mke2fs of the root file system failed (is the root larger than its 1 GiB slot?)"
mapfile -t boot < <(cd "$w/input" && find boot -mindepth 1 -maxdepth 1 | LC_ALL=C sort)
"$repo/board/common/genimage-config.sh" "$w/genimage.cfg" "${boot[@]}"
genimage --rootpath "$w/empty" --tmppath "$w/genimage.tmp" --inputpath "$w/input" \
    --outputpath "$w/output" --config "$w/genimage.cfg" >"$w/genimage.log" 2>&1 ||
    die "genimage failed: $(grep -m1 -i 'error\|no space' "$w/genimage.log" || tail -1 "$w/genimage.log")"
mv "$w/output/sdcard.img" "$out.tmp"
cp "$tar.packages" "$out.packages"
mv "$out.tmp" "$out"
