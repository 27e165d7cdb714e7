#!/bin/sh
# readonly-etc.sh ROOT: points the files of ROOT's read-only /etc that `o4send setup` renders at
# every boot (from the image's defaults and the boot partition's o4send.toml) at /run/o4send,
# where setup writes them:
#   /etc/shadow -> /run/o4send/shadow. The root file system's own shadow moves to
#       /usr/lib/o4send/shadow.image (root, 0600) with every empty password field locked ("!");
#       setup copies it with root's password replaced by console.password_hash, or by "!" when
#       none is set. Until setup has run the link leads nowhere, and nobody can log in.
#   /etc/issue -> /run/o4send/banner/issue: the console banner (setup, then the daemon's status).
#   /etc/wpa_supplicant/wpa_supplicant-wlan0.conf -> /run/o4send/wpa_supplicant-wlan0.conf:
#       written only when the boot file names Wi-Fi networks;
# wpa_supplicant@wlan0.service starts when wlan0 appears (rootfs-overlay's
# udev/rules.d/90-o4send-wlan0.rules), and its drop-in wpa_supplicant@wlan0.service.d/o4send.conf
# lets it run only when that file exists.
#
# Run on Buildroot's target by post-fakeroot.sh (the image), and by the VM rig on its Debian
# guest's root (as root, before o4send-setup.service runs). Idempotent: a second run changes
# nothing. One line per change on stdout; exit 1 with one line saying why when ROOT is not a root
# file system it can do this in.
set -eu
root=${1:?usage: readonly-etc.sh ROOT}
run=/run/o4send

die() {
    echo "readonly-etc.sh: $*" >&2
    exit 1
}
[ -d "$root/etc" ] || die "$root has no etc/"

# link TARGET PATH: PATH (in ROOT) becomes a symlink to TARGET, replacing a file there.
link() {
    [ "$(readlink "$root/$2" 2>/dev/null)" != "$1" ] || return 0
    [ ! -d "$root/$2" ] || [ -L "$root/$2" ] || die "$root/$2 is a directory"
    mkdir -p "$(dirname "$root/$2")"
    ln -sfn "$1" "$root/$2"
    echo "readonly-etc.sh: /$2 -> $1"
}

image=usr/lib/o4send/shadow.image
if [ -L "$root/etc/shadow" ]; then
    [ "$(readlink "$root/etc/shadow")" = "$run/shadow" ] ||
        die "$root/etc/shadow is a symlink to $(readlink "$root/etc/shadow"), not $run/shadow"
    [ -f "$root/$image" ] || die "$root/etc/shadow already points at $run/shadow, but there is no $root/$image"
elif [ -f "$root/etc/shadow" ]; then
    mkdir -p "$root/usr/lib/o4send"
    locked=$(awk -F: '$2 == "" { printf "%s%s", sep, $1; sep = " " }' "$root/etc/shadow")
    (
        umask 077
        sed 's/^\([^:]*\)::/\1:!:/' "$root/etc/shadow" >"$root/$image.tmp"
    )
    chmod 0600 "$root/$image.tmp"
    if [ "$(id -u)" -eq 0 ]; then chown 0:0 "$root/$image.tmp"; fi
    mv "$root/$image.tmp" "$root/$image"
    echo "readonly-etc.sh: /etc/shadow moved to /$image${locked:+ (empty passwords locked: $locked)}"
    rm "$root/etc/shadow"
    link "$run/shadow" etc/shadow
else
    die "$root/etc/shadow is missing"
fi

link "$run/banner/issue" etc/issue
link "$run/wpa_supplicant-wlan0.conf" etc/wpa_supplicant/wpa_supplicant-wlan0.conf
