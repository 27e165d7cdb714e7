#!/bin/sh
# appliance, image stage: what makes a Debian system an o4send appliance, from the same files as
# the Buildroot recipe (board/common): the rootfs and image overlays (units, udev rules, the
# image's default settings, the /var overlay on the data partition), the static o4send binary
# ($O4SEND_BIN), the daemon's user, and Buildroot's own post-build and post-fakeroot scripts,
# which check that the image has what the appliance needs and point the files `o4send setup`
# renders at boot (/etc/shadow, /etc/issue, the Wi-Fi client's config) into /run/o4send.
#   ROOT: the assembled root file system.
set -eu
root=$1
common=$(cd "$(dirname "$0")/../../common" && pwd)

cp -a --no-preserve=ownership "$common/rootfs-overlay/." "$common/image-overlay/." "$root/"
# Debian's own additions: SSH by key only (sshd_config.d, ssh.service.d). The host keys the
# package made at install would be every box's: each box makes its own (ssh.service.d).
cp -a --no-preserve=ownership "$(dirname "$0")/rootfs/." "$root/"
rm -f "$root"/etc/ssh/ssh_host_*
install -m 0755 "$O4SEND_BIN" "$root/usr/bin/o4send"
# The image's own systemd-sysusers (the host's may be older than its files).
chroot "$root" systemd-sysusers o4send.conf
# The image's defaults are the daemon's to read, nobody else's (tmpfiles.d would fix it at boot,
# but the root is read-only there).
chown "0:$(awk -F: '$1 == "o4send" { print $3 }' "$root/etc/group")" "$root/etc/o4send/o4send.toml"
chmod 0640 "$root/etc/o4send/o4send.toml"
"$common/post-build.sh" "$root"
"$common/post-fakeroot.sh" "$root"

# Every unit the overlays ship with an [Install] section, and the network's: networkd brings up
# the files setup writes (Debian leaves it off).
units=systemd-networkd.service
for f in "$common"/rootfs-overlay/etc/systemd/system/* "$common"/image-overlay/etc/systemd/system/*; do
    [ -f "$f" ] && grep -q '^\[Install\]' "$f" && units="$units ${f##*/}"
done
# shellcheck disable=SC2086 # a list of unit names
systemctl --root="$root" --quiet enable $units
# Debian's own units for what o4send runs itself (o4send-hostapd, wpa_supplicant@wlan0), and a
# daily backup of a package database nothing changes.
systemctl --root="$root" --quiet disable hostapd.service wpa_supplicant.service dpkg-db-backup.timer
echo o4send >"$root/etc/hostname"
