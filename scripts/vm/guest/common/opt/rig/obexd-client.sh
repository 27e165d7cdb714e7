#!/bin/bash
# Starts a client-only obexd on the rig's private bus (/run/rig/obex-bus) for the benchmark.
# "-p bluetooth,filesystem,ftp": plain "-p bluetooth" makes obexd exit (obex_server_init failed),
# and without ftp-only plugins obexd would also serve Object Push in this guest.
set -euo pipefail
mkdir -p /run/rig
[ -S /run/rig/obex-bus ] || dbus-daemon --config-file=/opt/rig/obex-bus.conf --fork --nopidfile --syslog-only
export DBUS_SESSION_BUS_ADDRESS=unix:path=/run/rig/obex-bus
pgrep -x obexd >/dev/null || (setsid /usr/libexec/bluetooth/obexd -n -p bluetooth,filesystem,ftp > /run/rig/obexd-client.log 2>&1 &)
for i in $(seq 100); do
    busctl --address="$DBUS_SESSION_BUS_ADDRESS" list 2>/dev/null | grep -q '^org.bluez.obex ' && exit 0
    sleep 0.1
done
echo "obexd client did not come up: $(cat /run/rig/obexd-client.log)" >&2
exit 1
