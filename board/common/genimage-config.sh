#!/bin/sh
# genimage-config.sh OUT FILE...: writes OUT, board/common/genimage.cfg with its BOOT_FILES
# marker replaced by FILEs (paths under genimage's input path; each lands at the root of the boot
# partition under its own name, a directory with everything in it). Used by both recipes:
# Buildroot's post-image.sh and the Debian recipe's scripts/image/assemble.sh.
set -eu
out=$1
shift
[ "$#" -gt 0 ] || { echo "genimage-config.sh: no files for the boot partition" >&2; exit 1; }
files=$(printf '\t\t\t"%s",\n' "$@")
BOOT_FILES=$files awk '$0 == "#BOOT_FILES#" { print ENVIRON["BOOT_FILES"]; next } { print }' \
    "$(dirname "$0")/genimage.cfg" >"$out"
