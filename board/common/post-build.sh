#!/usr/bin/env bash
# Buildroot post-build script of the o4send image (every board), run on the target directory
# before the root filesystem image is made. Checks what a read-only root needs at build time.
set -euo pipefail
target=$1
overlay=$(cd "$(dirname "$0")" && pwd)/rootfs-overlay

die() {
    echo "post-build.sh: $*" >&2
    exit 1
}

[ -x "$target/usr/bin/o4send" ] || die "no /usr/bin/o4send in the target (is BR2_PACKAGE_O4SEND=y?)"

# systemd-sysusers cannot write /etc on the read-only root at boot, so every user and group the
# overlay's sysusers.d files declare must already exist; the package recipe makes them
# (O4SEND_USERS in buildroot/package/o4send/o4send.mk).
for f in "$overlay"/usr/lib/sysusers.d/*.conf "$overlay"/etc/sysusers.d/*.conf; do
    [ -e "$f" ] || continue
    while read -r kind name _; do
        case $kind in
        u | u!) db=passwd ;;
        g) db=group ;;
        *) continue ;;
        esac
        grep -q "^$name:" "$target/etc/$db" ||
            die "${f#"$overlay"/} declares $db entry '$name' but the image has none: add it to O4SEND_USERS in buildroot/package/o4send/o4send.mk"
    done <"$f"
done
