#!/usr/bin/env bash
# Sourced by scripts/vm-test.sh: scenario w, the visitor hotspot on a real Wi-Fi stack.
# The operator turns [hotspot] on in the boot file and takes the Wi-Fi network out (one radio
# cannot be both). What the next boot does with that file is done here in place: the card is put
# back, setup runs again as at boot and the daemon starts (the benchmark stopped it), the Wi-Fi
# client stops, and the image's units start in their boot order: the firewall, hostapd, dnsmasq, the captive page, and
# the dashboard (something a visitor must be kept from). The rig's access point hands its radio
# over: wlan1 (namespace ap) and wlan2 (namespace visitor2) become two visitors' phones that join
# the open network with wpa_supplicant and busybox's DHCP client, ask its DNS for Android's,
# Apple's and Windows's probe hosts, run the probes, open the page and take every item
# (scripts/vm/guest/appliance/opt/rig/visitor.py), and try the dashboard, each other and a
# listener behind a stand-in for the Ethernet uplink (a veth pair; IP forwarding on, routes both
# ways, so only the hotspot's firewall keeps a visitor out).
# CAMPAIGN_DIR holds the active campaign's files as the host made them (the page must offer
# exactly these, byte for byte).
hotspot_toml() {  # the operator's file with the hotspot on and no Wi-Fi network
    cat <<EOT
# o4send.toml of the VM rig's appliance, scenario w: the visitor hotspot instead of a Wi-Fi network
[appliance]
sender_name = "$SENDER"

[bundle]
trusted_keys = ["$KEY"]

[console]
password_hash = "$(openssl passwd -6 "$CONSOLE_PW")"

[dashboard]
password_hash = "$(openssl passwd -6 "$CONSOLE_PW")"

[network.wifi]
country = "DE"

[hotspot]
enabled = true
ssid = "$HSSID"
EOT
}

scenario_w() {  # CAMPAIGN_DIR
    local files=$1 t
    log "scenario w: the visitor hotspot: two phones join, probe, see the page, take the files; the log counts them"
    t=$(date +%s)
    HSSID="Rig Expo Visitors" HADDR=10.44.0.1
    hotspot_toml | as_notepad > "$RUN/boot/hotspot.toml"
    "$BIN" config check "$RUN/boot/hotspot.toml" > "$RUN/w-check.txt" 2>&1 || fail w "config check of the hotspot's boot file: $(tail -2 "$RUN/w-check.txt" | tr '\n' ' ')"
    put_boot_file "$RUN/boot/hotspot.toml" || fail w "mtools could not rewrite the card's boot partition"
    g appliance -t 90 'umount /boot && blockdev --flushbufs /dev/vda1 && systemctl start boot.mount && grep -q hotspot /boot/o4send.toml &&
        systemctl restart o4send-setup && touch /run/rig/o4send-go && systemctl start o4send' > "$RUN/w-reload.txt" 2>&1 ||
        fail w "the card with [hotspot] was not put in force: $(tr '\n' ' ' < "$RUN/w-reload.txt")"
    CSTAT=$(g appliance -t 20 'cat /run/o4send/config-status')
    [ "$CSTAT" = "ok: /boot/o4send.toml" ] || fail w "o4send setup's verdict on the hotspot's boot file: '$CSTAT'"
    g appliance -t 20 'test ! -e /run/o4send/wpa_supplicant-wlan0.conf && test -s /run/o4send/hostapd.conf && test -s /run/o4send/dnsmasq.conf && test -s /run/o4send/hotspot.nft' >/dev/null ||
        fail w "setup did not swap the Wi-Fi client's files for the hotspot's: $(g appliance -t 20 'ls /run/o4send' | tr '\n' ' ')"
    g appliance -t 120 'systemctl stop wpa_supplicant@wlan0 && /opt/rig/wifi-ap.sh hand-over && networkctl reload &&
        systemctl start o4send-firewall o4send-hostapd o4send-dnsmasq o4send-portal o4send-dashboard && networkctl reconfigure wlan0' > "$RUN/w-start.txt" 2>&1 ||
        fail w "the hotspot's units did not start: $(tr '\n' ' ' < "$RUN/w-start.txt")"
    hotspot_units() { g appliance -t 30 'journalctl -b --no-pager -o cat -u o4send-firewall -u o4send-hostapd -u o4send-dnsmasq -u o4send-portal -u systemd-networkd | tail -8' | tr '\n' ' '; }
    # hostapd_cli cannot be used here: the unit's PrivateTmp hides the reply socket it binds in /tmp.
    ap_up() { g appliance -t 20 "iw dev wlan0 info | grep -q 'type AP' && ip -4 -o addr show wlan0 | grep -q ' $HADDR/24' && systemctl is-active -q o4send-hostapd o4send-dnsmasq o4send-portal" >/dev/null; }
    wait_until 90 ap_up || fail w "the access point is not up on wlan0 with $HADDR: $(hotspot_units)"
    # The captive page runs as its own user, and its settings hold no secret; inside its sandbox
    # (as that user) the full settings file cannot be read.
    PORTAL_PID=$(g appliance -t 20 'systemctl show -P MainPID o4send-portal' | tr -d '\r')
    SANDBOX=$(g appliance -t 20 "stat -c %U /proc/$PORTAL_PID; grep -c password_hash /run/o4send/portal.toml;
        nsenter -t $PORTAL_PID -m -S \$(id -u o4send-portal) -G \$(id -g o4send) cat /run/o4send/o4send.toml 2>&1 | head -1" | tr -d '\r' | tr '\n' ' ')
    [[ $SANDBOX == "o4send-portal 0 cat: /run/o4send/o4send.toml: Permission denied " ]] ||
        fail w "the captive page's user, its settings' password hashes, its view of the full settings: $SANDBOX"
    FREQ=$(g appliance -t 20 'iw dev wlan0 info' | sed -n 's/^[[:space:]]*channel \([0-9]*\) (\([0-9]*\) MHz).*/channel \1, \2 MHz/p' | tr -d '\r')
    RULES=$(g appliance -t 20 'nft list table inet o4send_hotspot' | grep -c 'iifname "wlan0"' || true)
    [ "$RULES" -ge 5 ] || fail w "the firewall's table is not loaded: $RULES wlan0 rules"
    V1=$(g appliance -t 90 "/opt/rig/visitor.sh join ap wlan1 '$HSSID'") || fail w "visitor 1 did not get on the network: $V1"
    V2=$(g appliance -t 90 "/opt/rig/visitor.sh join visitor2 wlan2 '$HSSID'") || fail w "visitor 2 did not get on the network: $V2"
    read -r V1_IP V1_DNS V1_MAC <<< "$(tr -d '\r' <<< "$V1")"
    read -r V2_IP V2_DNS V2_MAC <<< "$(tr -d '\r' <<< "$V2")"
    [ "$V1_DNS" = "$HADDR" ] && [ "$V2_DNS" = "$HADDR" ] || fail w "DHCP named DNS servers '$V1_DNS' and '$V2_DNS', want $HADDR"
    g appliance -t 20 '/opt/rig/visitor.sh listen visitor2 7000 && /opt/rig/visitor.sh uplink uplink 192.168.99.1 192.168.99.2 && /opt/rig/visitor.sh listen uplink 7001' >/dev/null ||
        fail w "cannot start visitor 2's listener or the uplink's stand-in"
    # The control: from the appliance itself both the dashboard and visitor 2's phone answer, so a
    # visitor who cannot reach them is kept out by the network, not by something not listening.
    CTRL=$(g appliance -t 30 "python3 /opt/rig/reach.py $HADDR:8443 $HADDR:8080 $V2_IP:7000 192.168.99.2:7001" 2>&1) ||
        fail w "control: the appliance itself cannot reach its dashboard, visitor 2 ($V2_IP:7000) or the uplink's side: $CTRL"
    g appliance -t 120 "ip netns exec ap python3 /opt/rig/visitor.py --dns $V1_DNS --out /run/rig/visitor-ap/got --other $V2_IP:7000 --uplink 192.168.99.2:7001" > "$RUN/w-visitor1.json" 2>&1 ||
        fail w "visitor 1's phone: $(tail -3 "$RUN/w-visitor1.json" | tr '\n' ' ')"
    g appliance -t 120 "ip netns exec visitor2 python3 /opt/rig/visitor.py --dns $V2_DNS --out /run/rig/visitor-visitor2/got --no-items" > "$RUN/w-visitor2.json" 2>&1 ||
        fail w "visitor 2's phone: $(tail -3 "$RUN/w-visitor2.json" | tr '\n' ' ')"
    WSEEN=$(python3 "$VMDIR/hotspot-check.py" "$RUN/w-visitor1.json" "$RUN/w-visitor2.json" "$files" "$HADDR") || fail w "$WSEEN"
    # The log: both phones by their Wi-Fi addresses (the DHCP leases'), every file taken once.
    N_ITEMS=$(find "$files" -type f | wc -l)
    hot() { g appliance -t 30 'o4send status --json' | python3 -c 'import json,sys; h=json.load(sys.stdin)["hotspot"]; print(h["visitors"], h["downloads"], h["visits"])'; }
    counted() { read -r hv hd _ <<< "$(hot)"; [ "$hv" = 2 ] && [ "$hd" = "$N_ITEMS" ]; }
    wait_until 60 counted || fail w "o4send status --json hotspot (visitors downloads visits) = $(hot), want 2 $N_ITEMS …"
    # A station making up client addresses to take every lease gets a few, not all: the firewall
    # rations DHCP per radio (6 at once, 10 an hour; visitor 2 spent 2 joining).
    FLOOD=$(g appliance -t 120 "ip netns exec visitor2 python3 /opt/rig/dhcp-flood.py wlan2 10" | tr -d '\r') ||
        fail w "the DHCP flood did not run: $FLOOD"
    read -r _ ACKS _ _ <<< "$FLOOD"
    [ "${ACKS:-99}" -le 4 ] || fail w "one station took $FLOOD leases under made-up client addresses"
    BYMAC=$(sql "select count(distinct lower(visitor)) from wifi_events where lower(visitor) in (lower('$V1_MAC'), lower('$V2_MAC'))")
    [ "$BYMAC" = 2 ] || fail w "wifi_events does not name the two phones by their Wi-Fi addresses ($V1_MAC, $V2_MAC): $(sql 'select visitor, kind, item from wifi_events' | tr '\n' ';')"
    # The captive page as the phone got it, rendered by headless Chromium at a phone's width.
    SHOTS=${CARGO_TARGET_DIR:-$REPO/target}/screenshots
    mkdir -p "$SHOTS"
    g appliance -t 30 'base64 -w0 /run/rig/visitor-ap/got/page.html' | tr -d '\r\n' | base64 -d > "$SHOTS/rig-portal-phone.html" ||
        fail w "cannot copy the captive page out of the guest"
    if command -v chromium >/dev/null; then
        chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=390,844 \
            --screenshot="$SHOTS/rig-portal-phone.png" "file://$SHOTS/rig-portal-phone.html" > "$RUN/w-chromium.txt" 2>&1 ||
            fail w "chromium could not render the captive page: $(tail -2 "$RUN/w-chromium.txt" | tr '\n' ' ')"
        W_PNG=$(python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(24); print(struct.unpack(">I", d[16:20])[0])' "$SHOTS/rig-portal-phone.png")
        [ "$W_PNG" = 390 ] || fail w "the screenshot is $W_PNG px wide, want 390"
        SHOT="screenshot $SHOTS/rig-portal-phone.png"
    elif [ "${CI:-}" = true ]; then
        fail w "chromium is missing (scripts/test.sh installs it); CI=true does not skip the screenshot"
    else
        SHOT="screenshot SKIPPED: no chromium"
    fi
    TIMES+=("w=$(( $(date +%s) - t ))s")
    log "scenario w: ok ($(( $(date +%s) - t ))s; \"$HSSID\" on $FREQ; visitors $V1_MAC=$V1_IP, $V2_MAC=$V2_IP; $WSEEN; DHCP flood from one radio: $FLOOD; log: $(hot | awk '{print $1" visitors, "$2" files taken, "$3" page visits"}'); $SHOT)"
}
