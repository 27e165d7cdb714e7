#!/usr/bin/env bash
# Configures a debootstrapped rootfs for a headless rig guest. Usage: configure-rootfs.sh ROOTFS
# Part of the cached base image (its hash is in the cache key).
set -euo pipefail
R=$1
echo o4s-vm > "$R/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 o4s-vm\n' > "$R/etc/hosts"
printf '/dev/vda / ext4 rw,relatime 0 1\n' > "$R/etc/fstab"
chroot "$R" passwd -d root >/dev/null
# ttyS0 = console log (autologin so a human can look; QEMU writes it to a file, nobody can type
# into it), ttyS1 = the rig's automation shell (gsh.py). The automation shell is bash started by
# agetty itself, not login(1): the appliance's /etc/shadow is what `o4send setup` makes of the boot
# file (a symlink into /run, root locked or with the operator's hash), and the rig's control
# channel must not depend on what it tests.
mkdir -p "$R/etc/systemd/system/serial-getty@ttyS0.service.d" "$R/etc/systemd/system/serial-getty@ttyS1.service.d"
cat > "$R/etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf" <<'EOT'
[Service]
ExecStart=
ExecStart=-/sbin/agetty --autologin root --keep-baud 115200,57600,38400,9600 %I $TERM
EOT
cat > "$R/etc/systemd/system/serial-getty@ttyS1.service.d/autologin.conf" <<'EOT'
[Service]
Environment=HOME=/root SYSTEMD_PAGER=cat PAGER=cat
WorkingDirectory=/root
ExecStart=
ExecStart=-/sbin/agetty --autologin root --login-program /bin/bash --login-options -l --noissue --keep-baud 115200,57600,38400,9600 %I $TERM
EOT
mkdir -p "$R/etc/systemd/system/getty.target.wants"
ln -sf /lib/systemd/system/serial-getty@.service "$R/etc/systemd/system/getty.target.wants/serial-getty@ttyS1.service"
# Less noise, faster boot. serial-getty@hvc0 is masked because systemd-getty-generator starts a
# getty on /dev/hvc0 by itself, and hvc0 is our first Bluetooth controller port, not a console.
# wpa_supplicant.service (Debian's D-Bus supplicant for NetworkManager) and hostapd.service are
# not how the appliance or the rig's access point run theirs (wpa_supplicant@wlan0.service,
# guest/appliance's rig-wifi-ap.service).
for u in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer fstrim.timer \
         e2scrub_reap.service systemd-firstboot.service getty@tty1.service serial-getty@hvc0.service \
         man-db.timer logrotate.timer wpa_supplicant.service hostapd.service; do
    ln -sf /dev/null "$R/etc/systemd/system/$u"
done
# systemd-timesyncd enables itself on installation; only the appliance runs it (its overlay
# enables it with systemd-networkd), the phones have no network.
rm -f "$R/etc/systemd/system/sysinit.target.wants/systemd-timesyncd.service"
rm -f "$R"/var/cache/apt/archives/*.deb
mkdir -p "$R/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\n' > "$R/etc/systemd/journald.conf.d/volatile.conf"
