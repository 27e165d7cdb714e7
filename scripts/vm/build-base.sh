#!/usr/bin/env bash
# Builds (or reuses) the cached, o4send-independent part of the VM rig from Debian packages:
#   vmlinuz      Debian's stock bookworm kernel (apt-get download + dpkg -x)
#   initrd.img   busybox-static + the virtio/ext4 modules + base/initramfs-init
#   root.img     debootstrap bookworm minbase + BlueZ, bluez-obexd, python3-dbus, sqlite3, ...
#   btvirt       BlueZ's controller emulator for the host (from bluez-test-tools)
# Output directory: $O4SEND_VM_CACHE/base-<key>, where key hashes this script, base/** and the
# package list, so a second run (or another worktree with the same inputs) skips the slow part.
# Prints the directory on stdout (last line). Takes ~2 min from scratch on 2 cores.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${O4SEND_VM_CACHE:-/var/cache/o4send-vm}
PKGS=systemd,systemd-sysv,dbus,udev,kmod,bluez,bluez-obexd,bluez-test-tools,python3-dbus,python3-gi,procps,util-linux,sqlite3,iproute2,less,strace
# The appliance's Wi-Fi and clock (scenario g): the client side as the image has it
# (wpa_supplicant, systemd-networkd, systemd-timesyncd) and the access point's side (hostapd,
# dnsmasq's DHCP server; the NTP server is the rig's own sntp-server.py, see guest/appliance).
PKGS=$PKGS,wpasupplicant,hostapd,dnsmasq-base,iw,systemd-timesyncd,wireless-regdb
# The visitor hotspot (scenario w): the image's firewall (nftables) on the appliance, and a
# visitor phone's DHCP client (busybox udhcpc).
PKGS=$PKGS,nftables,busybox
# Kernel modules kept in the image (closure computed with modprobe --show-depends). xhci_pci,
# usb_storage, sd_mod, vfat and the code pages: the USB content stick the rig hot-plugs. af_alg, algif_*,
# ecb and cmac: BlueZ's btdev/SMP use the kernel crypto API through AF_ALG (without them btvirt in a
# guest fails with "Failed to open Virtual HCI device"; bluetoothd's LE/SMP code needs them too).
# mac80211_hwsim (cfg80211, mac80211 follow): the appliance's two simulated Wi-Fi radios, a client
# and an access point; ccm (CCMP, WPA2's cipher), gcm, ghash-generic, cmac (management frame
# protection), aesni-intel and libarc4 are loaded by mac80211 through the crypto API at run time,
# so modprobe's dependency closure does not find them by itself. nf_tables and nft_ct (with
# nf_conntrack): the hotspot's firewall, the modules board/common/linux.fragment asks of the image's
# kernel; veth: scenario w's stand-in for an Ethernet uplink.
WANT="bluetooth hci_uart hci_vhci rfcomm bnep ecdh_generic ecc cmac ecb ccm af_alg algif_hash algif_skcipher
      virtio_pci virtio_blk virtio_console virtio_rng ext4 crc32c_generic crc32c-intel rfkill
      xhci_pci usb_storage sd_mod vfat nls_utf8 nls_ascii nls_cp437 nls_iso8859_1
      mac80211_hwsim cfg80211 mac80211 gcm ghash-generic aesni-intel libarc4
      nf_tables nft_ct nf_conntrack veth"

KEY=$( (cat "$0"; cd "$HERE/base" && find . -type f | LC_ALL=C sort | xargs sha256sum) | sha256sum | cut -c1-16)
OUT=$CACHE/base-$KEY
mkdir -p "$CACHE"
exec 9>"$CACHE/.build.lock"
flock 9
if [ -f "$OUT/.complete" ]; then
    echo "build-base: cache hit $OUT" >&2
    echo "$OUT"; exit 0
fi
echo "build-base: building $OUT (cache miss)" >&2
T0=$(date +%s)
stamp() { echo "build-base: $(( $(date +%s) - T0 ))s $*" >&2; }
W=$CACHE/work-$KEY
rm -rf "$W" && mkdir -p "$W" "$CACHE/dl" "$CACHE/debcache"
trap 'rm -rf "$W"' EXIT
export DEBIAN_FRONTEND=noninteractive

# ---- kernel, busybox, host btvirt: Debian packages unpacked with dpkg -x -----------------------
# The guest kernel comes from bookworm-backports (6.12). Debian 12's own 6.1 (6.1.192) kills
# bluetoothd with a kernel BUG (list_del corruption in hci_chan_del, from l2cap_sock_release)
# whenever a page times out, i.e. for every phone that walked away before it was paged.
BP=$CACHE/apt-backports
mkdir -p "$BP/lists/partial" "$BP/cache/archives/partial"
echo 'deb http://deb.debian.org/debian bookworm-backports main' > "$BP/sources.list"
BPO=(-o "Dir::Etc::SourceList=$BP/sources.list" -o Dir::Etc::SourceParts=/nonexistent
     -o "Dir::State::Lists=$BP/lists" -o "Dir::Cache=$BP/cache")
apt-get "${BPO[@]}" update -qq
KPKG=$(apt-cache "${BPO[@]}" depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
[ -n "$KPKG" ] || { echo "build-base: cannot resolve linux-image-amd64 in bookworm-backports" >&2; exit 1; }
KV=${KPKG#linux-image-}
(cd "$CACHE/dl" && ls "${KPKG}"_*.deb >/dev/null 2>&1 || apt-get "${BPO[@]}" download -q "$KPKG" 2>&1 | grep -v unsandboxed >&2 || true)
(cd "$CACHE/dl" && for p in "$KPKG" busybox-static bluez-test-tools; do
    ls "${p}"_*.deb >/dev/null 2>&1 || apt-get download -q "$p" 2>&1 | grep -v unsandboxed >&2 || true
    ls "${p}"_*.deb >/dev/null 2>&1 || { echo "build-base: download of $p failed" >&2; exit 1; }
done)
mkdir -p "$W/kernel" "$W/bb" "$W/tt" "$W/out"
dpkg -x "$CACHE/dl/${KPKG}"_*.deb "$W/kernel"
dpkg -x "$(ls "$CACHE"/dl/busybox-static_*.deb | tail -1)" "$W/bb"
dpkg -x "$(ls "$CACHE"/dl/bluez-test-tools_*.deb | tail -1)" "$W/tt"
cp "$W/kernel/boot/vmlinuz-$KV" "$W/out/vmlinuz"
cp "$W/tt/usr/bin/btvirt" "$W/out/btvirt"
echo "$KV" > "$W/out/kernel-version"
stamp "kernel $KV, busybox, btvirt unpacked"

# ---- rootfs ------------------------------------------------------------------------------------
R=$W/rootfs
debootstrap --variant=minbase --cache-dir="$CACHE/debcache" --include=$PKGS bookworm "$R" \
    http://deb.debian.org/debian > "$W/debootstrap.log" 2>&1 || { tail -30 "$W/debootstrap.log" >&2; exit 1; }
stamp "debootstrap done"
rm -rf "$R/lib/modules" && mkdir -p "$R/lib/modules" && cp -a "$W/kernel/lib/modules/$KV" "$R/lib/modules/"
chroot "$R" depmod "$KV"
# shellcheck disable=SC2086
chroot "$R" modprobe -S "$KV" --show-depends -a $WANT | awk '/^insmod/{print $2}' | sort -u > "$W/modlist"
chroot "$R" modprobe -S "$KV" --show-depends -a virtio_pci virtio_blk ext4 | awk '/^insmod/{print $2}' | awk '!s[$0]++' > "$W/initrd-mods"
rm -rf "${R:?}/lib/modules/$KV" && mkdir -p "$R/lib/modules/$KV"
cp "$W/kernel/lib/modules/$KV"/modules.builtin* "$W/kernel/lib/modules/$KV/modules.order" "$R/lib/modules/$KV/"
while read -r m; do install -D -m644 "$W/kernel$m" "$R$m"; done < "$W/modlist"
chroot "$R" depmod "$KV"
"$HERE/base/configure-rootfs.sh" "$R"
cp -a "$HERE/base/rootfs/." "$R/"
stamp "rootfs configured ($(wc -l < "$W/modlist") modules, $(du -sm "$R" | cut -f1) MB)"

# ---- initramfs and ext4 root image -------------------------------------------------------------
I=$W/initrd
mkdir -p "$I/bin"
cp "$W/bb/bin/busybox" "$I/bin/" && install -m755 "$HERE/base/initramfs-init" "$I/init"
# busybox insmod takes plain .ko files: unpack the compressed modules of newer Debian kernels.
while read -r m; do
    case $m in
        *.ko.xz) mkdir -p "$I$(dirname "$m")" && xz -dc "$W/kernel$m" > "$I${m%.xz}" && echo "${m%.xz}" ;;
        *) install -D -m644 "$W/kernel$m" "$I$m" && echo "$m" ;;
    esac
done < "$W/initrd-mods" > "$I/modules.list"
(cd "$I" && find . | cpio -o -H newc --quiet | gzip -1 > "$W/out/initrd.img")
mkfs.ext4 -q -F -L o4s-root -d "$R" "$W/out/root.img" 1G
touch "$W/out/.complete"
rm -rf "$OUT" && mv "$W/out" "$OUT"
# Keep only the newest few bases: old keys are dead weight (~400 MB each).
ls -1dt "$CACHE"/base-* 2>/dev/null | tail -n +4 | xargs -r rm -rf
stamp "base image ready: $OUT"
echo "$OUT"
