#!/usr/bin/env bash
# Starts one rig guest in the background under QEMU TCG and returns at once.
# Usage: vm-start.sh NAME RUNDIR BASEDIR OVERLAY_IMG CTRL_SOCK...
#   console log -> RUNDIR/NAME/console.log, automation shell -> RUNDIR/NAME/sh.sock (gsh.py),
#   QMP -> RUNDIR/NAME/qmp.sock, pid -> RUNDIR/NAME/qemu.pid.
#   Each CTRL_SOCK (an h4proxy.py listener) becomes one virtconsole port = /dev/hvcN in the guest,
#   in order, where btattach@hvcN.service turns it into a Bluetooth controller.
# TCG because /dev/kvm on our build hosts (kvm_pvm) cannot boot stock kernels; O4SEND_VM_ACCEL=kvm
# switches to KVM where it works. Env: MEM (MiB, default 768), SMP (default 1), USB (1: xhci),
# and for the appliance: IMAGE (a copy of the o4send pc image, its only system: the guest boots the
# image's kernel, initramfs and root A with its boot entry's command line, and writes its data
# partition; the host may rewrite o4send.toml on its FAT with mtools. OVL is then mounted at /opt
# and BASEDIR's root at /mnt, the rig's tools, and the rig's units in guest/appliance/units reach
# the image's systemd as credentials, SMBIOS type 11: nothing of the image is changed), RTC_BASE (the CMOS clock starts there, e.g. 2020-01-01, as a
# Pi's clock is wrong until NTP; the kernel command line gets o4s.rtc_offset = host time - RTC time,
# for the rig's NTP server), LOGIN=1 (ttyS2 on RUNDIR/NAME/login.sock: the booth's console).
set -euo pipefail
NAME=$1 RUN=$2 BASE=$3 OVL=$4
shift 4
D=$RUN/$NAME
mkdir -p "$D"
rm -f "$D"/*.sock "$D/console.log" "$D/qemu.pid"
if [ "${O4SEND_VM_ACCEL:-tcg}" = kvm ]; then ACC=(-accel kvm -cpu host); else ACC=(-accel tcg,thread=multi -cpu max); fi
BT=(-device virtio-serial-pci,id=vser)
# USB=1: a USB 3 controller (bus xhci.0) for hot-plugging a content stick over QMP.
[ "${USB:-0}" = 1 ] && BT+=(-device qemu-xhci,id=xhci)
i=0
EXTRA=() APPEND=
if [ -n "${IMAGE:-}" ]; then
    # The image's own kernel, initramfs and boot entry (the boot test runs its UEFI boot; the rig
    # adds to its command line). file.locking=off: the host's mtools rewrites o4send.toml while
    # QEMU has the disk open.
    mcopy -n -i "$IMAGE@@4M" ::vmlinuz ::initrd.img ::loader/entries/o4send.conf "$D/"
    KERNEL=$D/vmlinuz INITRD=$D/initrd.img
    APPEND="$(sed -n 's/^options //p' "$D/o4send.conf") console=ttyS0 systemd.getty_auto=0"
    APPEND+=" systemd.mount-extra=LABEL=o4s-ovl:/opt:ext4:ro systemd.mount-extra=LABEL=o4s-root:/mnt:ext4:rw"
    APPEND+=" modules-load=mac80211_hwsim mac80211_hwsim.radios=3"
    DISKS=(-drive "file=$IMAGE,if=virtio,format=raw,file.locking=off"
        -drive "file=$OVL,if=virtio,format=raw,readonly=on"
        -drive "file=$BASE/root.img,if=virtio,format=raw,snapshot=on")
    UNITS=$(cd "$(dirname "$0")/guest/appliance/units" && pwd)
    for f in "$UNITS"/*.service "$UNITS"/*.d/*.conf; do
        case $f in
        *.d/*) unit=$(basename "$(dirname "$f")" .d) cred=systemd.unit-dropin.$unit~$(basename "$f" .conf) ;;
        *) unit=$(basename "$f") cred=systemd.extra-unit.$unit ;;
        esac
        EXTRA+=(-smbios "type=11,value=io.systemd.credential.binary:$cred=$(base64 -w0 "$f")")
        case $unit in *@.service | o4send.service | serial-getty@*) ;; *) APPEND+=" systemd.wants=$unit" ;; esac
    done
    APPEND+=" systemd.wants=serial-getty@ttyS1.service systemd.wants=serial-getty@ttyS2.service"
else
    KERNEL=$BASE/vmlinuz INITRD=$BASE/initrd.img
    APPEND="console=ttyS0 root=/dev/vda rw"
    DISKS=(-drive "file=$BASE/root.img,if=virtio,format=raw,snapshot=on"
        -drive "file=$OVL,if=virtio,format=raw,readonly=on")
fi
if [ -n "${RTC_BASE:-}" ]; then
    EXTRA+=(-rtc "base=$RTC_BASE")
    APPEND+=" o4s.rtc_offset=$(( $(date -u +%s) - $(date -u -d "$RTC_BASE" +%s) ))"
fi
if [ "${LOGIN:-0}" = 1 ]; then
    EXTRA+=(-chardev "socket,id=login,path=$D/login.sock,server=on,wait=off" -serial chardev:login)
fi
for s in "$@"; do
    BT+=(-chardev "socket,id=bt$i,path=$s" -device "virtconsole,chardev=bt$i,id=btport$i,name=o4s.bt$i")
    i=$((i + 1))
done
qemu-system-x86_64 "${ACC[@]}" -M q35 -m "${MEM:-768}" -smp "${SMP:-1}" -nodefaults -no-user-config -display none \
    -kernel "$KERNEL" -initrd "$INITRD" \
    -append "$APPEND quiet loglevel=4 systemd.show_status=auto o4s.vm=$NAME o4s.bt=$#" \
    "${DISKS[@]}" \
    -chardev "file,id=con,path=$D/console.log" -serial chardev:con \
    -chardev "socket,id=sh,path=$D/sh.sock,server=on,wait=off" -serial chardev:sh \
    "${EXTRA[@]}" \
    -qmp "unix:$D/qmp.sock,server=on,wait=off" \
    -device virtio-rng-pci \
    -nic none "${BT[@]}" \
    -daemonize -pidfile "$D/qemu.pid"
