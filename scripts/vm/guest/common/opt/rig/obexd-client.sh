#!/bin/bash
# Starts a client-only obexd on the rig's private bus (/run/rig/obex-bus) for the benchmark.
# "-p bluetooth,filesystem,ftp": plain "-p bluetooth" makes obexd exit (obex_server_init failed),
# and without ftp-only plugins obexd would also serve Object Push in this guest.
set -euo pipefail
mkdir -p /run/rig
[ -S /run/rig/obex-bus ] || dbus-daemon --config-file=/opt/rig/obex-bus.conf --fork --nopidfile --syslog-only
export DBUS_SESSION_BUS_ADDRESS=unix:path=/run/rig/obex-bus
# OBEXD_COUNT=1: obexd logs how it connects (-d: "transport_connect() port N", a PSM when N > 31)
# and gobex dumps every OBEX packet it writes ("< 0000:...") and reads ("> 0000:...") and says when
# SRM is enabled (GOBEX_DEBUG); stdbuf keeps the dump in order with the log lines.
if [ "${OBEXD_COUNT:-0}" = 1 ]; then
    DEBUG=(env GOBEX_DEBUG=command,data stdbuf -oL) ARGS=(-d)
else
    DEBUG=() ARGS=()
fi
# The appliance has no obexd of its own: /opt/rig/bin/obexd runs the rig's (see tools.sh there).
OBEXD=$(command -v obexd || echo /usr/libexec/bluetooth/obexd)
pgrep -x obexd >/dev/null || (setsid "${DEBUG[@]}" "$OBEXD" -n "${ARGS[@]}" -p bluetooth,filesystem,ftp > /run/rig/obexd-client.log 2>&1 &)
for i in $(seq 100); do
    busctl --address="$DBUS_SESSION_BUS_ADDRESS" list 2>/dev/null | grep -q '^org.bluez.obex ' && exit 0
    sleep 0.1
done
echo "obexd client did not come up: $(cat /run/rig/obexd-client.log)" >&2
exit 1
