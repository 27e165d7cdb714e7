#!/usr/bin/env bash
# Buildroot post-image script of the o4send image (every board): writes
# output/images/sdcard.img (boot, root A, root B, data) from board/common/genimage.cfg.
# Buildroot runs it with BINARIES_DIR and BUILD_DIR set and genimage on its PATH.
set -euo pipefail
cfg=$BINARIES_DIR/genimage.cfg

# The boot partition takes the device trees, everything the firmware package installed
# (including config.txt, cmdline.txt and overlays/), the kernel config.txt names, and the
# operator's settings file: board/common/boot/o4send.toml, the commented template, as
# o4send.toml at its root (mounted read-only at /boot on the appliance; see docs/flashing.md).
template=$(dirname "$0")/boot/o4send.toml
[ -f "$template" ] || { echo "post-image.sh: no $template (the boot partition's o4send.toml)" >&2; exit 1; }
cp "$template" "$BINARIES_DIR/o4send.toml"
files=(o4send.toml)
for f in "$BINARIES_DIR"/*.dtb "$BINARIES_DIR"/rpi-firmware/*; do
    [ -e "$f" ] && files+=("${f#"$BINARIES_DIR"/}")
done
kernel=$(sed -n 's/^kernel=//p' "$BINARIES_DIR/rpi-firmware/config.txt")
[ -n "$kernel" ] || { echo "post-image.sh: rpi-firmware/config.txt names no kernel=" >&2; exit 1; }
files+=("$kernel")
"$(dirname "$0")/genimage-config.sh" "$cfg" "${files[@]}"

# An empty root path: the root filesystem image is made by Buildroot, and data starts empty.
empty=$(mktemp -d)
trap 'rm -rf "$empty"' EXIT
rm -rf "$BUILD_DIR/genimage.tmp"
# File system times from SOURCE_DATE_EPOCH when Buildroot sets it (BR2_REPRODUCIBLE).
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
    export E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH E2FSCK_TIME=$SOURCE_DATE_EPOCH
fi
genimage --rootpath "$empty" --tmppath "$BUILD_DIR/genimage.tmp" \
    --inputpath "$BINARIES_DIR" --outputpath "$BINARIES_DIR" --config "$cfg"
