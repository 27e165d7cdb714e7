#!/usr/bin/env bash
# The image build's refusals, each one line naming the cause, and never an image under its final
# name after a failure (scripts/image/):
#   a. a layer names a package Debian's archive does not have (a copy of board/debian with one
#      more line in appliance/packages): system.sh names the layer's file and the package;
#   b. the .deb cache holds another release's packages (its RELEASE file says so);
#   c. a cached .deb no longer matches the SHA-256 recorded when it was downloaded;
#   d. a full disk: assemble.sh on a 200 MiB file system says how much is free and needed, and
#      leaves no image, .tmp or work directory behind.
# Root only (mmdebstrap, mount); a and the others each take seconds to a minute.
# shellcheck disable=SC2016,SC2034,SC2317 # check evaluates its single-quoted conditions, which use these
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "image-errors-selftest: needs root (mmdebstrap, mount)" >&2; exit 1; }
scripts/image/host-tools.sh

t=$(mktemp -d /var/tmp/image-errors.XXXXXX)
cleanup() {
    umount "$t/small" 2>/dev/null || true
    rm -rf "$t"
}
trap cleanup EXIT
failed=0
check() { # check NAME CONDITION
    if eval "$2"; then
        echo "image-errors-selftest: ok: $1"
    else
        echo "image-errors-selftest: FAILED: $1"
        failed=1
    fi
}

# A copy of the recipe, to break without touching the checkout.
mkdir -p "$t/repo/board" "$t/repo/scripts"
cp -a board/debian board/common "$t/repo/board/"
cp -a scripts/image "$t/repo/scripts/"
echo no-such-package-o4send >>"$t/repo/board/debian/appliance/packages"

# a. A package the archive has not.
O4SEND_IMAGE_CACHE=$t/cache "$t/repo/scripts/image/system.sh" pc >"$t/a.out" 2>"$t/a.err" && a=0 || a=$?
check "a: a missing package: exit 1, one line naming board/debian/appliance/packages and the package" \
    '[ "$a" = 1 ] && grep -q "^build-image.sh: pc: board/debian/appliance/packages names .no-such-package-o4send., which Debian.s archive has not" "$t/a.err" ||
     { cat "$t/a.err"; false; }'
check "a: no system tarball under its final name" '! compgen -G "$t/cache/system-pc-*.tar" >/dev/null'
sed -i '$d' "$t/repo/board/debian/appliance/packages"

# b. A cache of another release: its RELEASE file names bookworm.
mkdir -p "$t/cache/debs/trixie-amd64"
echo "bookworm amd64" >"$t/cache/debs/trixie-amd64/RELEASE"
O4SEND_IMAGE_CACHE=$t/cache "$t/repo/scripts/image/system.sh" pc >/dev/null 2>"$t/b.err" && b=0 || b=$?
check "b: a .deb cache of another release: exit 1, one line naming both releases" \
    '[ "$b" = 1 ] && grep -q "holds the packages of Debian bookworm amd64, not of trixie amd64" "$t/b.err" || { cat "$t/b.err"; false; }'

# c. A cached .deb changed after it was recorded.
echo "trixie amd64" >"$t/cache/debs/trixie-amd64/RELEASE"
echo "a package" >"$t/cache/debs/trixie-amd64/hello_1.0_amd64.deb"
(cd "$t/cache/debs/trixie-amd64" && sha256sum hello_1.0_amd64.deb >SHA256SUMS)
echo "changed" >>"$t/cache/debs/trixie-amd64/hello_1.0_amd64.deb"
O4SEND_IMAGE_CACHE=$t/cache "$t/repo/scripts/image/system.sh" pc >/dev/null 2>"$t/c.err" && c=0 || c=$?
check "c: a damaged cached .deb: exit 1, one line naming the file" \
    '[ "$c" = 1 ] && grep -q "hello_1.0_amd64.deb does not match the SHA-256 recorded when it was downloaded" "$t/c.err" || { cat "$t/c.err"; false; }'

# d. A full disk: the image's directory on a 200 MiB file system.
mkdir -p "$t/small"
mount -t tmpfs -o size=200M tmpfs "$t/small"
head -c 1M /dev/urandom >"$t/system.tar"
touch "$t/system.tar.packages"
printf '#!/bin/sh\n' >"$t/o4send" && chmod +x "$t/o4send"
IMAGE_VERSION=0 SOURCE_DATE_EPOCH=0 scripts/image/assemble.sh pc "$t/system.tar" "$t/o4send" "$t/small/o4send-0-pc.img" \
    >/dev/null 2>"$t/d.err" && d=0 || d=$?
check "d: a full disk: exit 1, one line with the free and the needed space" \
    '[ "$d" = 1 ] && grep -q "^assemble.sh: not enough space in $t/small for assembling the pc image: [0-9]* MiB free, about [0-9]* MiB needed" "$t/d.err" ||
     { cat "$t/d.err"; false; }'
check "d: nothing left under the image's name, no .tmp, no work directory" '[ -z "$(ls -A "$t/small")" ]'

[ "$failed" -eq 0 ] && echo "image-errors-selftest: all checks passed"
exit "$failed"
