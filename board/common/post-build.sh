#!/usr/bin/env bash
# Buildroot post-build script of the o4send image (every board), run on the target directory
# after the overlays are copied and before the root file system image is made. What has to
# happen after Buildroot made the users and ran `systemctl preset-all` (the symlinks into
# /run/o4send, the check of the users) is in post-fakeroot.sh.
set -euo pipefail
target=$1

die() {
    echo "post-build.sh: $*" >&2
    exit 1
}

[ -x "$target/usr/bin/o4send" ] || die "no /usr/bin/o4send in the target (is BR2_PACKAGE_O4SEND=y?)"

# The mount point of the boot partition (boot.mount: read-only, the operator's o4send.toml).
mkdir -p "$target/boot"
