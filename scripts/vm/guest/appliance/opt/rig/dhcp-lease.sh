#!/bin/sh
# udhcpc's script for a visitor's phone (visitor.sh join): the address and default route on the
# interface, the address and the DNS server noted in $RIG_LEASE.
[ "$1" = bound ] || exit 0
ip addr add "$ip/${mask:-24}" dev "$interface"
[ -z "$router" ] || ip route add default via "${router%% *}" dev "$interface"
echo "$ip $dns" >"$RIG_LEASE"
