#!/usr/bin/env bash
# Proves scripts/validate-buildroot.sh catches what Kconfig hides: in a copy of the repository's
# Buildroot files, one defconfig gets a misspelt symbol and another loses a file it names;
# the validator must fail and name the symbol, then the path.
#   validate-buildroot-selftest.sh BUILDROOT_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
br=${1:?usage: validate-buildroot-selftest.sh BUILDROOT_DIR}

t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
mkdir "$t/scripts"
cp -a buildroot board Cargo.toml "$t/"
cp scripts/validate-buildroot.sh "$t/scripts/"

failed=0
# expect NAME WORDS DEFCONFIG: the validator on DEFCONFIG must fail with a line holding WORDS.
expect() {
    local out
    if out=$("$t/scripts/validate-buildroot.sh" "$br" "$3" 2>&1); then
        echo "validate-buildroot-selftest: $1: NOT caught"
        failed=1
    elif grep -F -- "$2" <<<"$out"; then
        echo "validate-buildroot-selftest: $1: caught"
    else
        echo "validate-buildroot-selftest: $1: failed without naming $2:"
        echo "$out"
        failed=1
    fi
}

sed -i 's/^BR2_PACKAGE_BLUEZ5_UTILS_CLIENT=y$/BR2_PACKAGE_BLUEZ5_UTILS_CLEINT=y/' "$t/buildroot/configs/o4send_pi4_defconfig"
grep -q CLEINT "$t/buildroot/configs/o4send_pi4_defconfig" || { echo "selftest: sed found no line to misspell" >&2; exit 1; }
expect "misspelt symbol" "BR2_PACKAGE_BLUEZ5_UTILS_CLEINT=y was dropped by Kconfig" o4send_pi4_defconfig

rm "$t/board/pi3/cmdline.txt"
expect "missing file" "BR2_PACKAGE_RPI_FIRMWARE_CMDLINE_FILE names \$(BR2_EXTERNAL_O4SEND_PATH)/../board/pi3/cmdline.txt, which does not exist" o4send_pi3_defconfig

[ "$failed" -eq 0 ] && echo "validate-buildroot-selftest: both mistakes caught"
exit "$failed"
