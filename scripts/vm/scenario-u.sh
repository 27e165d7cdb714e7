#!/usr/bin/env bash
# Sourced by scripts/vm-test.sh: scenario u, the laptop's USB cable link. QEMU has no Pi USB
# device port, so the appliance VM's own kernel plays both ends: dummy_hcd (Debian's kernel has
# it) is a USB device controller and, in the same kernel, the host controller it is plugged into.
# The controller's arrival starts the image's o4send-usb-gadget.service (udev), which makes the
# RNDIS + CDC ECM gadget; the "laptop" side (Linux's cdc_ether, which picks the ECM
# configuration as a Linux or macOS laptop does) goes into network namespace `laptop`, takes an
# address from the box's DHCP server, reaches the dashboard at the link's address and finds the
# box by name over mDNS.
scenario_u() {
    local t
    log "scenario u: a laptop on the USB cable link: DHCP from the box, the dashboard, <name>.local"
    t=$(date +%s)
    g appliance -t 60 'modprobe dummy_hcd && udevadm settle' > "$RUN/u-modprobe.txt" 2>&1 ||
        fail u "modprobe dummy_hcd: $(tr '\n' ' ' < "$RUN/u-modprobe.txt")"
    host_if() { g appliance -t 20 'ls -d /sys/bus/usb/drivers/cdc_ether/*/net/* 2>/dev/null | head -1' | tr -d '\r' | sed 's|.*/||'; }
    laptop_side() { [ -n "$(host_if)" ]; }
    wait_until 60 laptop_side || fail u "no laptop-side interface (cdc_ether): $(g appliance -t 20 'systemctl status --no-pager o4send-usb-gadget | tail -5; ls /sys/class/udc' | tr '\n' ' ')"
    UIF=$(host_if)
    GADGET=$(g appliance -t 20 'journalctl -b --no-pager -o cat -u o4send-usb-gadget | grep "^usb-gadget:" | tail -1' | tr -d '\r')
    # The laptop's side learns of the link from CDC ECM's "connected" notice, which the gadget
    # sends when its own side (usb1: Linux takes the ECM configuration) comes up; one sent before
    # the laptop's side listens is lost, as when a cable is plugged into a laptop still asleep.
    # So, as a laptop waking up would, the box's side comes up after the laptop's side listens.
    g appliance -t 60 "ip link set usb1 down && ip netns add laptop && ip link set $UIF netns laptop &&
        ip netns exec laptop ip link set lo up && ip netns exec laptop ip link set $UIF up && sleep 1 && ip link set usb1 up" \
        > "$RUN/u-netns.txt" 2>&1 || fail u "cannot move $UIF into namespace laptop: $(tr '\n' ' ' < "$RUN/u-netns.txt")"
    carrier() { [ "$(g appliance -t 20 "ip netns exec laptop cat /sys/class/net/$UIF/carrier" | tr -d '\r')" = 1 ]; }
    wait_until 30 carrier || fail u "the laptop's $UIF has no carrier: $(g appliance -t 20 "ip netns exec laptop ip -o link show $UIF; ip -o link show usb1" | tr '\n' ' ')"
    LEASE=$(g appliance -t 60 "mkdir -p /run/rig/laptop && ip netns exec laptop env RIG_LEASE=/run/rig/laptop/lease busybox udhcpc -i $UIF -f -q -n -t 15 -T 2 -s /opt/rig/dhcp-lease.sh >/run/rig/laptop/dhcp.log 2>&1 && cat /run/rig/laptop/lease" | tr -d '\r') ||
        fail u "no DHCP lease on the cable: $(g appliance -t 20 "tail -3 /run/rig/laptop/dhcp.log; ip -4 -o addr show; networkctl status usb1 --no-pager | head -30; ss -ulnpH 'sport = :67'; ip netns exec laptop ip -s -o link show $UIF; ip -s -o link show usb1; journalctl -b --no-pager -o cat -u systemd-networkd | grep -i 'usb1\|dhcp' | tail -12" | tr '\n' ' ')"
    read -r U_IP _ <<< "$LEASE"
    [[ $U_IP == 10.55.0.* ]] || fail u "the laptop's address on the cable is '$U_IP', want one of 10.55.0.0/24"
    ROUTES=$(g appliance -t 20 'ip netns exec laptop ip -4 route show default' | tr -d '\r')
    [ -z "$ROUTES" ] || fail u "the box gave the laptop a default route over the cable: $ROUTES"
    DASH=$(g appliance -t 30 'ip netns exec laptop python3 /opt/rig/reach.py 10.55.0.1:8443' 2>&1 | tr -d '\r') ||
        fail u "the laptop cannot reach the dashboard at 10.55.0.1:8443: $DASH"
    NAME_U=$(g appliance -t 20 'cat /proc/sys/kernel/hostname' | tr -d '\r')
    MDNS_U=$(g appliance -t 30 "ip netns exec laptop python3 /opt/rig/mdns-ask.py '$NAME_U' $U_IP" 2>&1 | tr -d '\r') ||
        fail u "$NAME_U.local asked over the cable: $MDNS_U"
    [ "$MDNS_U" = 10.55.0.1 ] || fail u "$NAME_U.local answered $MDNS_U over the cable, want 10.55.0.1"
    TIMES+=("u=$(( $(date +%s) - t ))s")
    log "scenario u: ok ($(( $(date +%s) - t ))s; ${GADGET#usb-gadget: }; the laptop's $UIF got $U_IP and no route; dashboard 10.55.0.1:8443 reached; $NAME_U.local = $MDNS_U)"
}
