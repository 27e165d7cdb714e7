#!/usr/bin/env bash
# bundle.sh TARGET IMAGE VERSION OUT: the system update of an image, as a RAUC bundle: root slot A
# of the built card (partition 2, the whole 1 GiB slot, with its kernel and initramfs) in RAUC's
# verity format, for the compatible string the image's system.conf names (o4send-TARGET),
# signed with the release key (release-key.sh). The slot's os-release says VERSION (so a test
# can make release N+1 from an image of release N). Tests only: O4SEND_BUNDLE_EDIT=PROGRAM is run
# with the slot's file system image before it is bundled (to make a release that is broken on
# purpose). Writes OUT only when everything worked.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/image/common.sh
. "$here/common.sh"

target=$1 image=$2 version=$3 out=$4
if ! command -v rauc >/dev/null || ! command -v mksquashfs >/dev/null; then
    die "rauc and mksquashfs are needed to make a system bundle (apt-get install rauc squashfs-tools)"
fi
keys=$("$here/release-key.sh")
w=$out.work
rm -rf "$w" "$out.tmp"
trap 'rm -rf "$w" "$out.tmp"' EXIT
mkdir -p "$w/content"
start=$(sfdisk --dump "$image" | sed -n "s|^$image""2 : start= *\([0-9]*\),.*|\1|p")
[ -n "$start" ] || die "$image has no second partition (root slot A)"
slot=$w/content/rootfs.ext4
dd if="$image" of="$slot" bs=512 skip="$start" count=$((1 << 21)) conv=sparse status=none
debugfs -R "cat /usr/lib/os-release" "$slot" 2>/dev/null |
    sed "s/^IMAGE_VERSION=.*/IMAGE_VERSION=$version/" >"$w/os-release"
grep -qx "IMAGE_VERSION=$version" "$w/os-release" || die "$image: no IMAGE_VERSION in slot A's os-release"
debugfs -w -R "rm /usr/lib/os-release" "$slot" >/dev/null 2>&1
debugfs -w -R "write $w/os-release /usr/lib/os-release" "$slot" >/dev/null 2>&1
[ -z "${O4SEND_BUNDLE_EDIT:-}" ] || "$O4SEND_BUNDLE_EDIT" "$slot" || die "$O4SEND_BUNDLE_EDIT failed"
cat >"$w/content/manifest.raucm" <<MANIFEST
[update]
compatible=o4send-$target
version=$version

[bundle]
format=verity

[image.rootfs]
filename=rootfs.ext4
MANIFEST
rauc bundle --cert "$keys/cert.pem" --key "$keys/key.pem" "$w/content" "$out.tmp" >"$w/rauc.log" 2>&1 ||
    die "rauc bundle failed: $(tail -1 "$w/rauc.log")"
mv "$out.tmp" "$out"
echo "bundle.sh: $out ($(du -m "$out" | cut -f1) MB, o4send-$target $version, signed by $(openssl x509 -noout -subject -in "$keys/cert.pem" | sed 's/^subject=//'))"
