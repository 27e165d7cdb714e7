#!/bin/sh
# release, image stage: what makes the tree one release of the image, the same bits whenever it is
# built from the same packages and sources.
#   ROOT: the assembled root file system. Env: IMAGE_VERSION, IMAGE_TARGET, SOURCE_DATE_EPOCH,
#   IMAGE_PACKAGES (the system stage's package list).
#   - its name and version in os-release (IMAGE_ID, IMAGE_VERSION: what `o4send status`, the
#     banner and a future system update read) and its package list in /usr/lib/o4send/packages;
#   - nothing left over from building it: package caches and logs, the machine's identity (every
#     box makes its own at boot; /etc/machine-id stays, empty, for systemd to mount over);
#   - every file's time no later than SOURCE_DATE_EPOCH.
set -eu
root=$1

printf 'IMAGE_ID=o4send\nIMAGE_VERSION=%s\nVARIANT_ID=%s\n' "$IMAGE_VERSION" "$IMAGE_TARGET" \
    >>"$root/usr/lib/os-release"
install -D -m 0644 "$IMAGE_PACKAGES" "$root/usr/lib/o4send/packages"

rm -rf "$root"/var/cache/apt "$root"/var/lib/apt "$root"/var/cache/debconf/*-old \
    "$root"/var/cache/ldconfig/aux-cache "$root"/var/lib/dbus/machine-id \
    "$root"/var/lib/systemd/random-seed "$root"/var/lib/dpkg/*-old
find "$root/var/log" -type f -delete
: >"$root/etc/machine-id"

find "$root" -newermt "@$SOURCE_DATE_EPOCH" -print0 | xargs -0r touch --no-dereference --date="@$SOURCE_DATE_EPOCH"
