#!/usr/bin/env bash
# Buildroot post-image script of the o4send image (every board): writes
# output/images/sdcard.img (boot, rootfs, data) from board/common/genimage.cfg.
# Buildroot runs it with BINARIES_DIR and BUILD_DIR set and genimage on its PATH.
set -euo pipefail
cfg_in=$(dirname "$0")/genimage.cfg
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
BOOT_FILES=$(printf '\t\t\t"%s",\n' "${files[@]}") \
    awk '$0 == "#BOOT_FILES#" { print ENVIRON["BOOT_FILES"]; next } { print }' "$cfg_in" >"$cfg"

# An empty root path: the root filesystem image is made by Buildroot, and data starts empty.
empty=$(mktemp -d)
trap 'rm -rf "$empty"' EXIT
rm -rf "$BUILD_DIR/genimage.tmp"
genimage --rootpath "$empty" --tmppath "$BUILD_DIR/genimage.tmp" \
    --inputpath "$BINARIES_DIR" --outputpath "$BINARIES_DIR" --config "$cfg"
