#!/bin/bash
# A visitor's phone on the appliance's hotspot (scenario w): one of the rig's simulated radios in
# its own network namespace, joining the open network with wpa_supplicant and taking an address
# with busybox's DHCP client, as a phone does.
#   visitor.sh join NS IFACE SSID   associate, then DHCP; prints "ADDR DNS MAC"
#   visitor.sh listen NS PORT       a TCP listener in NS (another visitor's phone, to be reached)
#   visitor.sh uplink NS ADDR PEER  a stand-in for the box's Ethernet uplink: a veth pair, the
#                                   box's end `upl0` with ADDR/24, the other end in NS with PEER
#                                   and a route back to the visitors; IP forwarding on, so only
#                                   the hotspot's firewall stands between a visitor and NS
# State and logs: /run/rig/visitor-NS/.
set -euo pipefail
ns() { ip netns exec "$NS" "$@"; }
NS=${2:?namespace}
D=/run/rig/visitor-$NS
mkdir -p "$D"

join() {  # IFACE SSID
    local iface=$1 ssid=$2
    printf 'ctrl_interface=%s/ctrl\nnetwork={\n ssid="%s"\n key_mgmt=NONE\n scan_ssid=1\n}\n' "$D" "$ssid" > "$D/wpa.conf"
    ns ip link set lo up
    ns wpa_supplicant -B -i "$iface" -c "$D/wpa.conf" -f "$D/wpa.log" -P "$D/wpa.pid"
    for _ in $(seq 300); do
        ns wpa_cli -p "$D/ctrl" -i "$iface" status 2>/dev/null | grep -q '^wpa_state=COMPLETED' && break
        sleep 0.1
    done
    ns wpa_cli -p "$D/ctrl" -i "$iface" status | grep -q '^wpa_state=COMPLETED' ||
        { echo "visitor: $iface did not join \"$ssid\": $(tail -3 "$D/wpa.log" | tr '\n' ' ')" >&2; exit 1; }
    # udhcpc's script is /opt/rig's, not one written into $D: /run is noexec on the image.
    ns env RIG_LEASE="$D/lease" busybox udhcpc -i "$iface" -f -q -n -t 10 -T 2 -s /opt/rig/dhcp-lease.sh > "$D/dhcp.log" 2>&1 ||
        { echo "visitor: no DHCP lease on $iface: $(tail -3 "$D/dhcp.log" | tr '\n' ' ')" >&2; exit 1; }
    echo "$(cat "$D/lease") $(ns cat "/sys/class/net/$iface/address")"
}

case ${1:-} in
join) join "${3:?iface}" "${4:?ssid}" ;;
uplink)
    ip netns add "$NS"
    ip link add upl0 type veth peer name up0
    ip link set up0 netns "$NS"
    ip addr add "${3:?addr}/24" dev upl0
    ip link set upl0 up
    ns ip link set lo up
    ns ip addr add "${4:?peer}/24" dev up0
    ns ip link set up0 up
    ns ip route add 10.44.0.0/24 via "$3"
    sysctl -qw net.ipv4.ip_forward=1
    ;;
listen) ns setsid -f python3 -c "
import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', ${3:?port})); s.listen(4)
while True: c, _ = s.accept(); c.sendall(b'visitor\n'); c.close()" > "$D/listen.log" 2>&1 ;;
*) echo "usage: visitor.sh join NS IFACE SSID | listen NS PORT | uplink NS ADDR PEER" >&2; exit 2 ;;
esac
