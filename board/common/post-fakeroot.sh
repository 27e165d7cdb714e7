#!/usr/bin/env bash
# Buildroot post-fakeroot script of the o4send image (every board). Buildroot runs it inside
# fakeroot on the copy of the target directory that becomes rootfs.ext4, after it made the
# users (support/scripts/mkusers) and ran `systemctl preset-all`, just before the image is made.
# Why not post-build.sh, which runs earlier on the target directory itself:
#   - mkusers edits etc/passwd, etc/group and etc/shadow with `sed -i --follow-symlinks` and
#     `>>`: had post-build.sh made etc/shadow a symlink to /run/o4send/shadow, those writes would
#     go to the build machine's own /run/o4send/shadow (or fail the build);
#   - the users of O4SEND_USERS exist only from mkusers on;
#   - the target directory itself stays as the packages left it, so a rebuild (make again,
#     make o4send-rebuild) finds regular files where its hooks write etc/shadow and etc/issue.
set -euo pipefail
target=$1
here=$(cd "$(dirname "$0")" && pwd)

die() {
    echo "post-fakeroot.sh: $*" >&2
    exit 1
}

# systemd-sysusers cannot write /etc on the read-only root at boot, so every user and group the
# overlay's sysusers.d files declare must exist in the image; the package recipe makes them
# (O4SEND_USERS in buildroot/package/o4send/o4send.mk).
for f in "$here"/rootfs-overlay/usr/lib/sysusers.d/*.conf "$here"/rootfs-overlay/etc/sysusers.d/*.conf; do
    [ -e "$f" ] || continue
    while read -r kind name _; do
        case $kind in
        u | u!) db=passwd ;;
        g) db=group ;;
        *) continue ;;
        esac
        grep -q "^$name:" "$target/etc/$db" ||
            die "${f#"$here"/rootfs-overlay/} declares $db entry '$name' but the image has none: add it to O4SEND_USERS in buildroot/package/o4send/o4send.mk"
    done <"$f"
done

# What the appliance needs to be online and safe, from packages the defconfigs select or that
# are on by default (Kconfig drops an option whose dependencies a release cannot meet, silently:
# systemd-networkd with Buildroot 2025.02's toolchain, for one).
need() { # need WHAT FILE...: one of FILEs (relative to the target) must exist
    local what=$1 f
    shift
    for f in "$@"; do
        if [ -e "$target/$f" ] || [ -L "$target/$f" ]; then return 0; fi
    done
    die "the image has no $what ($*)"
}
need "systemd-networkd (BR2_PACKAGE_SYSTEMD_NETWORKD)" usr/lib/systemd/systemd-networkd
need "systemd-resolved (BR2_PACKAGE_SYSTEMD_RESOLVED)" usr/lib/systemd/systemd-resolved
need "systemd-timesyncd (BR2_PACKAGE_SYSTEMD_TIMESYNCD)" usr/lib/systemd/systemd-timesyncd
need "wpa_supplicant" usr/sbin/wpa_supplicant
need "regulatory database (wireless-regdb)" lib/firmware/regulatory.db usr/lib/firmware/regulatory.db
need "login (util-linux)" usr/bin/login bin/login
need "agetty (util-linux)" usr/sbin/agetty sbin/agetty
need "time zones (BR2_TARGET_TZ_INFO: appliance.time_zone is looked up there)" usr/share/zoneinfo/Europe/Berlin
for tool in sfdisk partx resize2fs dumpe2fs; do
    need "$tool for o4send-growdata.service" "usr/sbin/$tool" "sbin/$tool" "usr/bin/$tool" "bin/$tool"
done

# /etc/shadow, /etc/issue and the Wi-Fi config point into /run/o4send, where `o4send setup`
# writes them at boot.
"$here/readonly-etc.sh" "$target"

# Root never logs in with an empty password: the image's root password is "*" (the defconfigs
# leave BR2_TARGET_ENABLE_ROOT_LOGIN unset), readonly-etc.sh locked every empty field, and setup
# writes a hash or "!". PAM's nullok would let an empty field in: it goes too.
shadow=$target/usr/lib/o4send/shadow.image
root_field=$(awk -F: '$1 == "root" { print $2 }' "$shadow")
case $root_field in
'') die "root has no password field in /usr/lib/o4send/shadow.image" ;;
'*' | '!'*) ;;
*) die "the image carries a root password ($root_field): unset BR2_TARGET_ENABLE_ROOT_LOGIN; the console password comes from the boot partition" ;;
esac
for f in "$target"/etc/pam.d/*; do
    [ -f "$f" ] || continue
    if grep -qw nullok "$f"; then
        sed -i 's/[[:space:]]nullok\b//g' "$f"
        echo "post-fakeroot.sh: /etc/pam.d/${f##*/}: nullok removed"
    fi
done
