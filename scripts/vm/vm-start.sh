#!/usr/bin/env bash
# Starts one rig guest in the background under QEMU TCG and returns at once.
# Usage: vm-start.sh NAME RUNDIR BASEDIR OVERLAY_IMG CTRL_SOCK...
#   console log -> RUNDIR/NAME/console.log, automation shell -> RUNDIR/NAME/sh.sock (gsh.py),
#   QMP -> RUNDIR/NAME/qmp.sock, pid -> RUNDIR/NAME/qemu.pid.
#   Each CTRL_SOCK (an h4proxy.py listener) becomes one virtconsole port = /dev/hvcN in the guest,
#   in order, where btattach@hvcN.service turns it into a Bluetooth controller.
# TCG because /dev/kvm on our build hosts (kvm_pvm) cannot boot stock kernels; O4SEND_VM_ACCEL=kvm
# switches to KVM where it works. Env: MEM (MiB, default 768), SMP (default 1), USB (1: xhci),
# and for the appliance: BOOT_DISK (a disk image from mkbootdisk.sh: third virtio disk, read-only to
# the guest, the host may rewrite it), RTC_BASE (the CMOS clock starts there, e.g. 2020-01-01, as a
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
if [ -n "${BOOT_DISK:-}" ]; then
    # file.locking=off: the host's mtools rewrites the image while QEMU has it open. if=virtio like
    # the others, so it is the third disk (vdc): a -device of its own would be created first (vda).
    EXTRA+=(-drive "file=$BOOT_DISK,if=virtio,format=raw,readonly=on,file.locking=off")
fi
if [ -n "${RTC_BASE:-}" ]; then
    EXTRA+=(-rtc "base=$RTC_BASE")
    APPEND=" o4s.rtc_offset=$(( $(date -u +%s) - $(date -u -d "$RTC_BASE" +%s) ))"
fi
if [ "${LOGIN:-0}" = 1 ]; then
    EXTRA+=(-chardev "socket,id=login,path=$D/login.sock,server=on,wait=off" -serial chardev:login)
fi
for s in "$@"; do
    BT+=(-chardev "socket,id=bt$i,path=$s" -device "virtconsole,chardev=bt$i,id=btport$i,name=o4s.bt$i")
    i=$((i + 1))
done
qemu-system-x86_64 "${ACC[@]}" -M q35 -m "${MEM:-768}" -smp "${SMP:-1}" -nodefaults -no-user-config -display none \
    -kernel "$BASE/vmlinuz" -initrd "$BASE/initrd.img" \
    -append "console=ttyS0 root=/dev/vda rw quiet loglevel=4 systemd.show_status=auto o4s.vm=$NAME o4s.bt=$#$APPEND" \
    -drive "file=$BASE/root.img,if=virtio,format=raw,snapshot=on" \
    -drive "file=$OVL,if=virtio,format=raw,readonly=on" \
    -chardev "file,id=con,path=$D/console.log" -serial chardev:con \
    -chardev "socket,id=sh,path=$D/sh.sock,server=on,wait=off" -serial chardev:sh \
    "${EXTRA[@]}" \
    -qmp "unix:$D/qmp.sock,server=on,wait=off" \
    -device virtio-rng-pci \
    -nic none "${BT[@]}" \
    -daemonize -pidfile "$D/qemu.pid"
