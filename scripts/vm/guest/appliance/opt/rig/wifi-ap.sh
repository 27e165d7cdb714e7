#!/bin/bash
# The Wi-Fi access point on the appliance VM's second simulated radio (scenario g).
#   wifi-ap.sh up             mac80211_hwsim with three radios; the second one's phy goes into the
#                             network namespace `ap` with hostapd (WPA2-PSK), a DHCP server
#                             (dnsmasq) and the rig's NTP server (sntp-server.py). The first radio,
#                             wlan0, stays in the root namespace: the appliance's own Wi-Fi. The
#                             third waits in namespace `visitor2` for scenario w (a second visitor).
#   wifi-ap.sh hand-over      scenario w: the access point, DHCP and NTP in `ap` stop, so its radio
#                             can be a visitor's phone on the appliance's own hotspot
#   wifi-ap.sh take-back      scenario s: visitor 1's phone leaves and the access point, DHCP and
#                             NTP in `ap` come back (the hall's network for the box's client)
#   wifi-ap.sh passphrase P   restart hostapd with passphrase P (the appliance's then fails its
#                             4-way handshake: the "wrong passphrase" case)
#   wifi-ap.sh stations       the stations hostapd has associated and authorized
# SSID and passphrase come from /opt/rig/etc/wifi-ap.conf (SSID=..., PASSPHRASE=...), written by
# vm-test.sh into the per-run overlay. Logs and state: /run/rig/ap/.
set -euo pipefail
AP_ADDR=192.168.77.1
D=/run/rig/ap
CONF=/opt/rig/etc/wifi-ap.conf
val() { sed -n "s/^$1=//p" "$CONF" | tail -1; }
ns() { ip netns exec ap "$@"; }

start_hostapd() {  # PASSPHRASE
    cat > "$D/hostapd.conf" <<EOT
interface=wlan1
driver=nl80211
ctrl_interface=$D/hostapd
ssid=$(val SSID)
hw_mode=g
channel=6
wpa=2
wpa_key_mgmt=WPA-PSK
rsn_pairwise=CCMP
wpa_passphrase=$1
EOT
    ns hostapd -B -t -P "$D/hostapd.pid" -f "$D/hostapd.log" "$D/hostapd.conf"
}

start_dhcp() {
    ns dnsmasq --conf-file=/dev/null --port=0 --user=root --group=root --interface=wlan1 --bind-interfaces \
        --dhcp-range=192.168.77.100,192.168.77.150,255.255.255.0,1h --dhcp-leasefile="$D/dnsmasq.leases" \
        --pid-file="$D/dnsmasq.pid" --log-dhcp --log-facility="$D/dnsmasq.log"
}

stop_hostapd() {
    [ -f "$D/hostapd.pid" ] || return 0
    local p; p=$(cat "$D/hostapd.pid")
    kill "$p" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    rm -f "$D/hostapd.pid"
}

case ${1:-} in
up)
    mkdir -p "$D"
    modprobe mac80211_hwsim radios=3
    for _ in $(seq 100); do [ -e /sys/class/net/wlan1/phy80211/name ] && break; sleep 0.1; done
    phy=$(cat /sys/class/net/wlan1/phy80211/name)
    ip netns add ap
    iw phy "$phy" set netns name ap
    ns ip link set lo up
    ns ip addr add "$AP_ADDR/24" dev wlan1
    for _ in $(seq 100); do [ -e /sys/class/net/wlan2/phy80211/name ] && break; sleep 0.1; done
    ip netns add visitor2
    iw phy "$(cat /sys/class/net/wlan2/phy80211/name)" set netns name visitor2
    start_hostapd "$(val PASSPHRASE)"
    start_dhcp
    # setsid: the server outlives this oneshot's ExecStart (RemainAfterExit keeps the unit active).
    ns setsid -f /opt/rig/sntp-server.py "$AP_ADDR" > "$D/sntp.log" 2>&1
    echo "wifi-ap: up, ssid $(val SSID) on $phy (namespace ap, $AP_ADDR)"
    ;;
passphrase)
    stop_hostapd
    start_hostapd "$2"
    ;;
hand-over)
    stop_hostapd
    for f in dnsmasq.pid; do [ -f "$D/$f" ] && kill "$(cat "$D/$f")" 2>/dev/null || true; done
    pkill -f sntp-server.py || true
    ns ip addr flush dev wlan1
    ;;
take-back)
    [ -f /run/rig/visitor-ap/wpa.pid ] && kill "$(cat /run/rig/visitor-ap/wpa.pid)" 2>/dev/null || true
    sleep 1
    ns ip addr flush dev wlan1
    ns ip route flush dev wlan1 2>/dev/null || true
    ns ip addr add "$AP_ADDR/24" dev wlan1
    start_hostapd "$(val PASSPHRASE)"
    start_dhcp
    ns setsid -f /opt/rig/sntp-server.py "$AP_ADDR" > "$D/sntp.log" 2>&1
    ;;
stations)
    ns hostapd_cli -p "$D/hostapd" all_sta
    ;;
*)
    echo "usage: wifi-ap.sh up | passphrase P | hand-over | take-back | stations" >&2
    exit 2
    ;;
esac
