#!/bin/bash
# Plugs in the guest's emulated controllers one after another: port k (virtconsole "o4s.btk" =
# /dev/hvck) gets btattach@hvck, and we wait for its hciN before the next one, so hci numbering
# follows the port order (the appliance's own radio is always hci0, whatever the timing).
set -euo pipefail
# vm-start.sh puts the number of controller ports on the kernel command line (o4s.bt=N); the ports
# appear only once udev has loaded virtio_console, so wait for all of them.
n=$(sed -n 's/.*o4s\.bt=\([0-9]*\).*/\1/p' /proc/cmdline)
modprobe -a virtio_console hci_uart rfcomm
for i in $(seq 100); do
    [ "$(cat /sys/class/virtio-ports/*/name 2>/dev/null | grep -c '^o4s\.bt')" -ge "${n:-0}" ] && break
    sleep 0.1
done
for ((k = 0; k < n; k++)); do
    systemctl start "btattach@hvc$k.service"
    for i in $(seq 100); do
        for h in /sys/class/bluetooth/hci*; do
            [ "$(basename "$(readlink -f "$h/device" 2>/dev/null)")" = "hvc$k" ] && continue 3
        done
        sleep 0.1
    done
    echo "attach: no controller appeared on hvc$k" >&2
    exit 1
done
echo "attach: $n controllers"
