# Host-side functions of the VM rig, sourced by scripts/vm-test.sh: start/stop btvirt, h4proxy and
# the guests, run commands in them. Expects RUN (run directory), BASE (cached base image dir),
# VMDIR (this directory). Every process started here is recorded in $RUN/pids and killed by rig_down.

# One controller (h4proxy port) per VM: the appliance's hci0 = o4send's radio, each phone VM's
# one phone, the no-OPP phone's.
# The VMs that play phones with obexd, one per phone of phones.conf, each named after its phone;
# each writes /run/rig/phones.json and /run/rig/asks.log.
PHONE_VMS=$(awk '/^[^#]/ { printf "%s%s", sep, $1; sep = " " }' "$VMDIR/phones.conf")
# The out-of-range phone is a "ghost" that h4proxy adds to the appliance radio's inquiries (see
# h4proxy.py): no controller has this address (btvirt numbers its controllers 00:AA:01:<n>:00:42).
GHOST_ADDR=00:AA:01:EE:00:42

g() {  # g VM [-t SECS] 'command' : run a command in a guest, print its output, return its rc
    local vm=$1; shift
    python3 "$VMDIR/gsh.py" -s "$RUN/$vm/sh.sock" "$@"
}

rig_up() {
    mkdir -p "$RUN/bttmp"
    # btvirt hardcodes /tmp/bt-server-*: run it in a private mount namespace whose /tmp is ours, so
    # parallel rigs and the host's /tmp do not meet. Only the BR/EDR-only server is used: the host
    # kernel may lack AF_ALG, which the BR/EDR+LE server needs; Classic OPP needs only BR/EDR.
    unshare -m --propagation private sh -c "mount --bind '$RUN/bttmp' /tmp && exec '$BASE/btvirt' -s" \
        > "$RUN/btvirt.log" 2>&1 &
    echo $! >> "$RUN/pids"
    local i
    for i in $(seq 50); do [ -S "$RUN/bttmp/bt-server-bredr" ] && break; sleep 0.1; done
    [ -S "$RUN/bttmp/bt-server-bredr" ] || { echo "btvirt did not start: $(cat "$RUN/btvirt.log")"; return 1; }
    local socks=() vm
    for vm in appliance $PHONE_VMS noopp; do socks+=("$RUN/h4-$vm-0.sock"); done
    H4PROXY_GHOST="$RUN/h4-appliance-0.sock|$GHOST_ADDR|phone-gone" python3 "$VMDIR/h4proxy.py" "$RUN/bttmp/bt-server-bredr" "${socks[@]}" > "$RUN/h4proxy.log" 2>&1 &
    echo $! >> "$RUN/pids"
    for i in $(seq 50); do grep -q ready "$RUN/h4proxy.log" 2>/dev/null && break; sleep 0.1; done
    # 1 vCPU each (TCG guests on a 2-core host); a phone needs less memory than the appliance.
    # The appliance boots the image ($RUN/appliance.img, a copy of the pc image, o4send.toml on its FAT), a
    # clock that starts wrong (no RTC on a Pi: it is right only once NTP answered), the booth's
    # console (ttyS2), and a USB bus for content sticks.
    USB=1 IMAGE="$RUN/appliance.img" RTC_BASE=2020-01-01T00:00:00 LOGIN=1 \
        "$VMDIR/vm-start.sh" appliance "$RUN" "$BASE" "$RUN/appliance-ovl.img" "$RUN/h4-appliance-0.sock"
    for vm in $PHONE_VMS noopp; do
        MEM=384 "$VMDIR/vm-start.sh" "$vm" "$RUN" "$BASE" "$RUN/$vm-ovl.img" "$RUN/h4-$vm-0.sock"
    done
    for vm in appliance $PHONE_VMS noopp; do cat "$RUN/$vm/qemu.pid" >> "$RUN/pids"; echo >> "$RUN/pids"; done
}

rig_wait_ready() {  # all guests booted, phones set up; writes phones-VM.json, fills NOOPP_ADDR, APPL_ADDR
    local vm
    for vm in $PHONE_VMS; do
        g "$vm" --wait 300 -t 240 'systemctl is-system-running --wait >/dev/null;
            for i in $(seq 300); do [ -f /run/rig/phones.json ] && break; systemctl is-failed -q rig-phones && break; sleep 0.2; done;
            cat /run/rig/phones.json' > "$RUN/phones-$vm.json" ||
            { echo "$vm VM not ready: $(g "$vm" -t 20 'systemctl --failed --no-legend; tail -20 /run/rig-phones.log' 2>&1)"; return 1; }
    done
    g noopp --wait 300 -t 240 'systemctl is-system-running --wait >/dev/null; systemctl is-active rig-noopp >/dev/null &&
        busctl get-property org.bluez /org/bluez/hci0 org.bluez.Adapter1 Address | cut -d\" -f2' > "$RUN/noopp-addr" ||
        { echo "no-OPP VM not ready: $(g noopp -t 20 'systemctl --failed --no-legend' 2>&1)"; return 1; }
    g appliance --wait 300 -t 240 'systemctl is-system-running --wait >/dev/null;
        for i in $(seq 100); do busctl get-property org.bluez /org/bluez/hci0 org.bluez.Adapter1 Address 2>/dev/null | cut -d\" -f2 | grep . && exit 0; sleep 0.2; done; exit 1' > "$RUN/appl-addrs" ||
        { echo "appliance VM not ready: $(g appliance -t 20 'systemctl --failed --no-legend' 2>&1)"; return 1; }
    NOOPP_ADDR=$(tail -1 "$RUN/noopp-addr")
    APPL_ADDR=$(tail -1 "$RUN/appl-addrs")
}
phone_addr() {  # phone_addr NAME (the phone's VM has the same name)
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]]["addr"])' "$RUN/phones-$1.json" "$1"
}

rig_down() {
    local p
    if [ -f "$RUN/pids" ]; then
        # QEMU first (they hold the h4proxy sockets), then h4proxy and btvirt; only our own pids.
        tac "$RUN/pids" | while read -r p; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
        sleep 0.5
        tac "$RUN/pids" | while read -r p; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done
        rm -f "$RUN/pids"
    fi
}
