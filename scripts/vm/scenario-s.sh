#!/usr/bin/env bash
# Sourced by scripts/vm-test.sh: scenario s, one radio for two networks. After scenario w the
# operator puts the hall's Wi-Fi back into the boot file beside [hotspot] (on channel 1, while the
# hall's access point is on 6). The rig's access point comes back on wlan1 (namespace ap); setup
# reads the simulated radio's interface combinations (mac80211_hwsim: a client and an access
# point on one channel), keeps wlan0 as the client and gives the hotspot ap0, which `o4send
# hotspot prepare` moves onto the hall's channel. A visitor (wlan2, namespace visitor2) joins the
# hotspot and gets its page; the hall's network stays out of its reach while the box reaches it.
both_toml() {  # the operator's file: the hall's Wi-Fi and the hotspot on channel 1
    boot_toml "$SENDER" "$KEY" "
[dashboard]
password_hash = \"$(openssl passwd -6 "$CONSOLE_PW")\"

[hotspot]
enabled = true
ssid = \"$BSSID_NAME\"
channel = 1"
}

scenario_s() {
    local t
    log "scenario s: the hall's Wi-Fi and the visitors' hotspot on one radio, on the hall's channel"
    t=$(date +%s)
    BSSID_NAME="Rig Expo Both"
    both_toml | as_notepad > "$RUN/boot/both.toml"
    "$BIN" config check "$RUN/boot/both.toml" > "$RUN/s-check.txt" 2>&1 || fail s "config check of the file with both: $(tail -2 "$RUN/s-check.txt" | tr '\n' ' ')"
    put_boot_file "$RUN/boot/both.toml" || fail s "mtools could not rewrite the card's boot partition"
    g appliance -t 60 'systemctl stop o4send-hostapd o4send-dnsmasq; kill $(cat /run/rig/visitor-visitor2/wpa.pid) 2>/dev/null;
        ip netns exec visitor2 ip addr flush dev wlan2; /opt/rig/wifi-ap.sh take-back' > "$RUN/s-back.txt" 2>&1 ||
        fail s "the hall's access point did not come back: $(tr '\n' ' ' < "$RUN/s-back.txt")"
    g appliance -t 90 'umount /boot && blockdev --flushbufs /dev/vda1 && systemctl start boot.mount && grep -q "Rig Expo Both" /boot/o4send.toml &&
        systemctl restart o4send-setup' > "$RUN/s-reload.txt" 2>&1 || fail s "the file with both was not put in force: $(tr '\n' ' ' < "$RUN/s-reload.txt")"
    local files
    files=$(g appliance -t 20 'grep -h "^interface=" /run/o4send/hostapd.conf; test -s /run/o4send/wpa_supplicant-wlan0.conf && echo client; cat /run/o4send/hotspot-line' | tr -d '\r' | tr '\n' ' ')
    [[ $files == "interface=ap0 client hotspot: beside the Wi-Fi client"* ]] ||
        fail s "setup did not plan the access point on ap0 beside the client (radio: $(g appliance -t 20 'iw phy | grep -A3 "interface combinations"' | tr '\n' ' ')): $files"
    g appliance -t 150 'networkctl reload && systemctl restart o4send-firewall && systemctl start wpa_supplicant@wlan0 &&
        systemctl start o4send-hostapd o4send-dnsmasq && networkctl reconfigure wlan0' > "$RUN/s-start.txt" 2>&1 ||
        fail s "the client and the hotspot did not start: $(tr '\n' ' ' < "$RUN/s-start.txt") $(g appliance -t 20 'journalctl -b --no-pager -o cat -u o4send-hostapd | tail -5' | tr '\n' ' ')"
    both_up() {
        g appliance -t 20 "iw dev ap0 info | grep -q 'type AP' && ip -4 -o addr show ap0 | grep -q ' 10.44.0.1/24' &&
            ip -4 -o addr show wlan0 | grep -q ' 192.168.77.' && systemctl is-active -q o4send-hostapd o4send-dnsmasq" >/dev/null
    }
    wait_until 90 both_up || fail s "not both up (ap0 an access point with 10.44.0.1, wlan0 on the hall's network): $(g appliance -t 20 'iw dev; ip -4 -o addr; journalctl -b --no-pager -o cat -u o4send-hostapd -u o4send-dnsmasq | tail -6' | tr '\n' ' ')"
    WLAN_S=$(g appliance -t 20 "ip -4 -o addr show wlan0 | sed -n 's|.* inet \\([0-9.]*\\)/.*|\\1|p'" | tr -d '\r')
    # A laptop on the hall's Wi-Fi finds the box by name (mDNS, answered by systemd-resolved on
    # the client's link); a visitor on the hotspot does not.
    BOXNAME=$(g appliance -t 20 'cat /proc/sys/kernel/hostname' | tr -d '\r')
    MDNS=$(g appliance -t 30 "ip netns exec ap python3 /opt/rig/mdns-ask.py '$BOXNAME' 192.168.77.1" 2>&1 | tr -d '\r') ||
        fail s "$BOXNAME.local asked from the hall's network: $MDNS"
    [ "$MDNS" = "$WLAN_S" ] || fail s "$BOXNAME.local answered $MDNS from the hall's network, want the box's $WLAN_S"
    SLINE=$(g appliance -t 30 "o4send status --db $DB" | grep '^hotspot: ' | tr -d '\r')
    [[ $SLINE == "hotspot: channel 6 (2437 MHz), the Wi-Fi network's"*"(channel 1 from the settings is not used)" ]] ||
        fail s "o4send status's hotspot line: '$SLINE'"
    BANNER_S=$(g appliance -t 20 'cat /etc/issue' | tr -d '\r')
    [[ $BANNER_S == *"hotspot: channel 6"* ]] || fail s "the console banner has no hotspot line: $(tr '\n' ' ' <<< "$BANNER_S")"
    APCH=$(g appliance -t 20 'iw dev ap0 info' | sed -n 's/^[[:space:]]*channel \([0-9]*\) .*/\1/p' | tr -d '\r')
    [ "$APCH" = 6 ] || fail s "ap0 is on channel '$APCH', want the hall's 6"
    V=$(g appliance -t 90 "/opt/rig/visitor.sh join visitor2 wlan2 '$BSSID_NAME'") || fail s "the visitor did not get on the hotspot: $V"
    read -r V_IP V_DNS _ <<< "$(tr -d '\r' <<< "$V")"
    [ "$V_DNS" = 10.44.0.1 ] || fail s "the visitor's DHCP named DNS '$V_DNS', want 10.44.0.1"
    # The hall routes the hotspot's subnet back through the box, so only the box's firewall keeps
    # the visitor out (the box forwards: scenario w turned IP forwarding on).
    g appliance -t 20 "ip netns exec ap ip route replace 10.44.0.0/24 via $WLAN_S && /opt/rig/visitor.sh listen ap 7002" >/dev/null ||
        fail s "cannot route the hall back to the hotspot via '$WLAN_S' or start a listener there"
    CTRL_S=$(g appliance -t 30 'python3 /opt/rig/reach.py 192.168.77.1:7002' 2>&1) || fail s "control: the box cannot reach the hall's network: $CTRL_S"
    PAGE=$(g appliance -t 30 'ip netns exec visitor2 python3 /opt/rig/reach.py 10.44.0.1:80' 2>&1) || fail s "the visitor cannot reach the page: $PAGE"
    if HALL=$(g appliance -t 30 'ip netns exec visitor2 python3 /opt/rig/reach.py 192.168.77.1:7002' 2>&1); then
        fail s "the visitor reached the hall's network through the box: $HALL"
    fi
    if NOTHERE=$(g appliance -t 30 "ip netns exec visitor2 python3 /opt/rig/mdns-ask.py '$BOXNAME' $V_IP 4" 2>&1); then
        fail s "the hotspot answered for $BOXNAME.local: $NOTHERE"
    fi
    WPA_S=$(g appliance -t 20 'wpa_cli -p /run/wpa_supplicant -i wlan0 status | grep ^wpa_state=' | tr -d '\r')
    [ "$WPA_S" = wpa_state=COMPLETED ] || fail s "the box's client left the hall while the hotspot ran: $WPA_S"
    TIMES+=("s=$(( $(date +%s) - t ))s")
    log "scenario s: ok ($(( $(date +%s) - t ))s; $SLINE; $BOXNAME.local = $MDNS from the hall's network, unanswered on the hotspot; visitor $V_IP on ap0, hall 192.168.77.1 out of its reach (${HALL##*: }), the box's client $WPA_S)"
}
