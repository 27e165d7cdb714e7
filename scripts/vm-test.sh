#!/usr/bin/env bash
# End-to-end test of o4send's real BlueZ path, with no Bluetooth hardware: QEMU guests (TCG) with
# emulated controllers from one host `btvirt -s`. The appliance VM boots the o4send pc image as
# scripts/build-image.sh builds it from this tree (its kernel, read-only root, FAT boot partition
# and data partition under /var); phone VMs host emulated phones with different behaviours. Its
# settings come from o4send.toml on the card's FAT (trusted key, sender name, console password,
# Wi-Fi, NTP server), its Wi-Fi joins a
# real access point (mac80211_hwsim + hostapd + DHCP + NTP in the same VM) and its clock starts
# wrong. Scenarios are asserted from o4send's SQLite log, `o4send status`, the journal, the
# console and the phones' inboxes. Pieces live in scripts/vm/ (README there). Ends with exactly one line
# "vm-test: PASS ..." or "vm-test: FAIL <scenario>: <why>".
# Env: O4SEND_SKIP_VM=1 skips; O4SEND_VM_CACHE (default /var/cache/o4send-vm) caches the base image;
#      O4SEND_VM_IMAGE=PATH boots that pc image instead of building it (scripts/test.sh has);
#      O4SEND_VM_BTMON=1 records the HCI traffic of the appliance and of phone-accept with btmon
#      (appliance/btmon.txt, phone-accept/btmon.txt);
#      O4SEND_VM_KEEP=1 keeps the run directory even on success.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
VMDIR=$REPO/scripts/vm
cd "$REPO"
T0=$(date +%s)
el() { echo $(( $(date +%s) - T0 )); }
log() { echo "vm-test: [$(el)s] $*"; }

if [ "${O4SEND_SKIP_VM:-0}" = 1 ]; then echo "vm-test: SKIPPED (O4SEND_SKIP_VM=1)"; exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
    echo "vm-test: FAIL preconditions: must run as root (apt-get for qemu/debootstrap, debootstrap, mount namespaces); set O4SEND_SKIP_VM=1 to skip"
    exit 1
fi
if ! err=$("$VMDIR/host-tools.sh" 2>&1); then
    echo "vm-test: FAIL preconditions: cannot install qemu/debootstrap: ${err##*$'\n'}; set O4SEND_SKIP_VM=1 to skip"
    exit 1
fi

RUN=$(mktemp -d /tmp/o4send-vm.XXXXXX)
RESULT=
TIMES=()
finish() {
    local rc=$?
    [ -n "${RUN:-}" ] && [ -f "$RUN/pids" ] && rig_down
    rm -f "$RUN"/*.img
    if [ -z "$RESULT" ]; then RESULT="vm-test: FAIL harness: exited early (rc $rc)"; fi
    if [[ $RESULT == "vm-test: PASS"* ]] && [ "${O4SEND_VM_KEEP:-0}" != 1 ]; then
        rm -rf "$RUN"
    else
        echo "vm-test: logs (VM consoles, journals, h4proxy, btvirt) in $RUN"
    fi
    echo "$RESULT"
    [[ $RESULT == "vm-test: PASS"* ]]
}
trap finish EXIT
trap 'exit 130' INT TERM
fail() {  # fail SCENARIO WHY : collect guest logs, then end the run
    RESULT="vm-test: FAIL $1: $2"
    collect_logs || true
    exit 1
}
collect_logs() {
    [ -S "$RUN/appliance/sh.sock" ] && g appliance -t 60 'journalctl -b --no-pager -o short-monotonic' > "$RUN/appliance/journal.txt" 2>&1
    [ -S "$RUN/appliance/sh.sock" ] && g appliance -t 30 'for f in /run/rig/ap/*.log /run/rig/ap/dnsmasq.leases /run/rig/visitor-*/*.log /run/o4send/dnsmasq.leases /run/o4send/hostapd.conf; do echo "== $f"; cat "$f"; done' > "$RUN/appliance/ap.txt" 2>&1
    [ -S "$RUN/appliance/sh.sock" ] && g appliance -t 30 "sqlite3 -header $DB 'select a.id,d.addr,a.item_name,a.outcome,a.raw_code,a.reason,a.started_at,a.ended_at from attempts a join devices d on d.id=a.device_id'" > "$RUN/appliance/attempts.txt" 2>&1
    [ -S "$RUN/appliance/sh.sock" ] && [ "${O4SEND_VM_BTMON:-0}" = 1 ] && g appliance -t 300 'btmon -r /run/btmon.snoop | grep -E "^[<>@=]|Status:|Reason:|Address:|PSM:|Result:|RFCOMM:|Store hint:|Authentication:|Key type:|Mode:" | grep -v "Number of Completed"' > "$RUN/appliance/btmon.txt" 2>&1
    [ -S "$RUN/phone-accept/sh.sock" ] && [ "${O4SEND_VM_BTMON:-0}" = 1 ] && g phone-accept -t 300 'btmon -r /run/btmon.snoop | grep -E "^[<>@=]|Status:|Reason:|Address:|Handle:|PSM:|Result:|RFCOMM:|Store hint:|Authentication:|Key type:|Mode:" | grep -v "Number of Completed"' > "$RUN/phone-accept/btmon.txt" 2>&1
    [ -S "$RUN/noopp/sh.sock" ] && g noopp -t 30 'journalctl -b --no-pager -o short-monotonic' > "$RUN/noopp/journal.txt" 2>&1
    for vm in $PHONE_VMS; do
        [ -S "$RUN/$vm/sh.sock" ] && g "$vm" -t 60 'journalctl -b --no-pager -o short-monotonic; cat /run/rig-phones.log /run/rig/asks.log' > "$RUN/$vm/journal.txt" 2>&1
    done
    true
}

# shellcheck source=vm/rig-lib.sh
. "$VMDIR/rig-lib.sh"
# shellcheck source=vm/scenario-w.sh
. "$VMDIR/scenario-w.sh"
# shellcheck source=vm/scenario-s.sh
. "$VMDIR/scenario-s.sh"
# shellcheck source=vm/scenario-u.sh
. "$VMDIR/scenario-u.sh"
DB=/var/lib/o4send/o4send.db
RETRY_LIMIT=$(sed -n 's/^Environment=O4SEND_POLICY__RETRY_LIMIT=//p' "$VMDIR/guest/appliance/units/o4send.service.d/rig.conf")

# ---- 1. cached base image, o4send, per-run overlays -----------------------------------------------
log "base image"
BASE=$("$VMDIR/build-base.sh" 2> "$RUN/build-base.log" | tail -1) || fail build "base image: $(tail -3 "$RUN/build-base.log" | tr '\n' ' ')"
grep -E 'cache hit|ready' "$RUN/build-base.log" | sed 's/^/vm-test:   /' || true
TIMES+=("base=$(el)s")
log "the image and the fault-injection build"
t=$(date +%s)
mkdir -p "$RUN/extra/opt/rig/bin" "$RUN/extra/opt/rig/etc"
# The appliance boots the pc image as built (scripts/build-image.sh pc; O4SEND_VM_IMAGE names one
# already built from this tree, as scripts/test.sh does). Its static binary serves the host's side
# too (bundles, config check). A second build with the test-only cargo feature fault-injection
# serves scenario e alone (/opt/rig/bin/o4send-fault on the rig's disk, never in the image).
# Development aid: O4SEND_VM_FAULT_BIN tests a prebuilt one instead.
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
IMAGE=${O4SEND_VM_IMAGE:-$REPO/output/images/o4send-$VERSION-pc.img}
if [ -z "${O4SEND_VM_IMAGE:-}" ]; then
    scripts/build-image.sh pc > "$RUN/build-image.log" 2>&1 || fail build "scripts/build-image.sh pc: $(grep -m1 -E 'build-image.sh: |error' "$RUN/build-image.log")"
fi
[ -f "$IMAGE" ] || fail build "no image $IMAGE"
scripts/build-static.sh x86_64 > "$RUN/build-static.log" 2>&1 || fail build "scripts/build-static.sh x86_64: $(tail -1 "$RUN/build-static.log")"
cp "${CARGO_TARGET_DIR:-$REPO/target}/x86_64-unknown-linux-musl/release/o4send" "$RUN/o4send"
OUT=${CARGO_TARGET_DIR:-$REPO/target}/release/o4send
if [ -n "${O4SEND_VM_FAULT_BIN:-}" ]; then
    cp "$O4SEND_VM_FAULT_BIN" "$RUN/extra/opt/rig/bin/o4send-fault"
else
    cargo build --release --locked --features fault-injection > "$RUN/cargo-fault.log" 2>&1 ||
        fail build "cargo build --features fault-injection: $(grep -m1 -E '^error' "$RUN/cargo-fault.log")"
    cp "$OUT" "$RUN/extra/opt/rig/bin/o4send-fault"
fi
BIN=$RUN/o4send
TIMES+=("image+cargo=$(( $(date +%s) - t ))s")
# Scenario f's USB sticks, made on the host as an operator would: a signing key, a bundle signed
# with it on a FAT image, a copy whose file was changed after signing, and the same bundle signed
# by another key. The appliance trusts the first key through the boot partition's o4send.toml.
mkdir -p "$RUN/usb/new" "$RUN/usb/stick" "$RUN/usb/other"
python3 -c 'import random,sys; r=random.Random(9); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(25000)))' > "$RUN/usb/new/usb-leaflet.pdf"
(cd "$RUN/usb" && "$BIN" bundle keygen --unencrypted --pub rig.pub --secret rig.key > keygen.txt 2>&1) || fail build "bundle keygen: $(tail -1 "$RUN/usb/keygen.txt")"
"$BIN" bundle create --from "$RUN/usb/new" --to "$RUN/usb/stick" --key "$RUN/usb/rig.key" --name "USB campaign" > "$RUN/usb/create.txt" 2>&1 ||
    fail build "bundle create: $(tail -1 "$RUN/usb/create.txt")"
make_stick() {  # IMG FROM_DIR (not labelled O4SEND: that is the boot partition's label)
    mkfs.vfat -C -n CONTENT "$1" 16384 >/dev/null && mcopy -s -i "$1" "$2/o4send" ::
}
make_stick "$RUN/usb/good.img" "$RUN/usb/stick" || fail build "cannot make the FAT stick image"
cp -a "$RUN/usb/stick" "$RUN/usb/tampered"
printf 'X' | dd of="$RUN/usb/tampered/o4send/usb-leaflet.pdf" bs=1 seek=100 conv=notrunc status=none
make_stick "$RUN/usb/tampered.img" "$RUN/usb/tampered" || fail build "cannot make the tampered stick image"
(cd "$RUN/usb" && "$BIN" bundle keygen --unencrypted --pub other.pub --secret other.key > keygen-other.txt 2>&1) || fail build "bundle keygen: $(tail -1 "$RUN/usb/keygen-other.txt")"
"$BIN" bundle create --from "$RUN/usb/new" --to "$RUN/usb/other" --key "$RUN/usb/other.key" --name "USB campaign" > "$RUN/usb/create-other.txt" 2>&1 ||
    fail build "bundle create (other key): $(tail -1 "$RUN/usb/create-other.txt")"
make_stick "$RUN/usb/other.img" "$RUN/usb/other" || fail build "cannot make the other key's stick image"
# The good bundle on a file system no stick is formatted with (SquashFS): usb-import must not
# hand it to the kernel's parser at all.
mksquashfs "$RUN/usb/stick" "$RUN/usb/squashfs.img" -quiet -no-progress >/dev/null || fail build "cannot make the SquashFS stick image"
KEY=$(tail -1 "$RUN/usb/rig.pub") OTHER_KEY=$(tail -1 "$RUN/usb/other.pub")
# The boot partition's o4send.toml (scenarios g and h), written as an operator's laptop leaves it:
# Notepad's UTF-8 with a byte order mark and CRLF line ends. The access point (SSID, passphrase)
# is the rig's; the network is named nowhere but here. The console password's hash is made with
# openssl, as docs/flashing.md tells Linux users.
SENDER="Rig Booth 7" SSID=rig-expo-hall AP_ADDR=192.168.77.1
# The Wi-Fi passphrase holds a quote and then a hash, the characters wpa_supplicant's file
# format treats specially (o4send writes the key in hex; the TOML keeps it in a literal string).
WIFI_PASS="rig \"wifi\" #$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
CONSOLE_PW="rig console $(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
mkdir -p "$RUN/boot"
printf 'SSID=%s\nPASSPHRASE=%s\n' "$SSID" "$WIFI_PASS" > "$RUN/extra/opt/rig/etc/wifi-ap.conf"
boot_toml() {  # SENDER_NAME TRUSTED_KEY [EXTRA_LINES]: the operator's file
    cat <<EOT
# o4send.toml of the VM rig's appliance (scripts/vm-test.sh)
[appliance]
sender_name = "$1"

[bundle]
trusted_keys = ["$2"]

[console]
password_hash = "$(openssl passwd -6 "$CONSOLE_PW")"

[network]
ntp = ["$AP_ADDR"]

[network.wifi]
country = "DE"

[[network.wifi.networks]]
ssid = "$SSID"
passphrase = '$WIFI_PASS'
${3:-}
EOT
}
as_notepad() { printf '\xef\xbb\xbf'; sed 's/$/\r/'; }
# put_boot_file TOML: TOML becomes o4send.toml on the appliance card's FAT (partition 1, at 4 MiB),
# as a laptop writes it; the guest may have the partition mounted (a card edited and put back).
put_boot_file() { mcopy -o -i "$RUN/appliance.img@@4M" "$1" ::o4send.toml; }
boot_toml "$SENDER" "$KEY" | as_notepad > "$RUN/boot/o4send.toml"
"$BIN" config check "$RUN/boot/o4send.toml" > "$RUN/boot/check.txt" 2>&1 || fail build "config check of the boot file: $(tail -2 "$RUN/boot/check.txt" | tr '\n' ' ')"
# The appliance's card: a copy of the image, 512 MiB larger (its data partition grows at the first
# boot, as on a card), with the operator's file on its FAT.
cp --sparse=always "$IMAGE" "$RUN/appliance.img" && truncate -s +512M "$RUN/appliance.img" &&
    put_boot_file "$RUN/boot/o4send.toml" || fail build "cannot make the appliance's card from $IMAGE"
mkdir -p "$RUN/content"
# A 40 kB pseudo-random "flyer"; deterministic, so failures reproduce.
python3 -c 'import random,sys; r=random.Random(4); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(40960)))' > "$RUN/content/expo-flyer.pdf"
for vm in $PHONE_VMS; do "$VMDIR/mkoverlay.sh" phone "$vm" "$RUN/$vm-ovl.img"; done
"$VMDIR/mkoverlay.sh" noopp "$RUN/noopp-ovl.img"
"$VMDIR/mkoverlay.sh" appliance "$RUN/appliance-ovl.img" "$RUN/content" "$RUN/extra"

# ---- 2. boot ---------------------------------------------------------------------------------------
log "booting the appliance and the phones' VMs ($PHONE_VMS noopp)"
t=$(date +%s)
rig_up || fail boot "rig did not start"
rig_wait_ready || fail boot "guests not ready (see consoles)"
TIMES+=("boot=$(( $(date +%s) - t ))s")
ACCEPT=$(phone_addr phone-accept) DECLINE=$(phone_addr phone-decline) IGNORE=$(phone_addr phone-ignore)
GONE=$GHOST_ADDR LATE_C=$(phone_addr phone-late-c) LATE_D=$(phone_addr phone-late-d)
NOOPP=$NOOPP_ADDR
log "appliance hci0=$APPL_ADDR; phones: accept=$ACCEPT decline=$DECLINE ignore=$IGNORE gone=$GONE (h4proxy ghost) noopp=$NOOPP (own VM) late-c=$LATE_C late-d=$LATE_D"
# Development aid: O4SEND_VM_BTMON=1 records the appliance's HCI traffic (decoded into the run dir).
if [ "${O4SEND_VM_BTMON:-0}" = 1 ]; then
    for vm in appliance phone-accept; do g $vm -t 30 'systemd-run --unit=rig-btmon sh -c "exec btmon -w /run/btmon.snoop >/dev/null"' >/dev/null; done
fi
echo "accept=$ACCEPT decline=$DECLINE ignore=$IGNORE gone=$GONE noopp=$NOOPP late_c=$LATE_C late_d=$LATE_D appl=$APPL_ADDR" > "$RUN/addresses"

# ---- helpers ---------------------------------------------------------------------------------------
sql() { g appliance -t 30 "sqlite3 -separator ' ' $DB \"$1\" 2>/dev/null"; }
last_outcome() {  # ADDR ITEM -> outcome of the newest attempt (empty if none)
    sql "select a.outcome from attempts a join devices d on d.id=a.device_id where d.addr='$1' and a.item_name='$2' order by a.id desc limit 1"
}
n_attempts() { sql "select count(*) from attempts a join devices d on d.id=a.device_id where d.addr='$1'${2:+ and a.item_name='$2'}"; }
attempt_table() { sql "select d.addr, a.item_name, a.outcome, count(*) from attempts a join devices d on d.id=a.device_id group by 1,2,3 order by 1,2,3"; }
inbox_sha() { g "$1" -t 30 "sha256sum < /srv/inbox/$1/$2 2>/dev/null | cut -d' ' -f1"; }
main_pid() { g appliance -t 20 'systemctl show -P MainPID o4send'; }
asks() { g "$1" -t 20 "grep -c '\"phone\": \"$1\"' /run/rig/asks.log 2>/dev/null || true"; }
asks_logs() {  # every phone VM's obexd ask log (one JSON line per ask)
    local vm
    for vm in $PHONE_VMS; do g "$vm" -t 30 'cat /run/rig/asks.log 2>/dev/null; true'; done
}
all_asks() { asks_logs | grep -c '^{' || true; }
# wait_until SECS CMD... : poll CMD every 3 s until it succeeds
wait_until() {
    local end=$(( $(date +%s) + $1 )); shift
    until "$@"; do [ "$(date +%s)" -ge "$end" ] && return 1; sleep 3; done
}
# expect_outcomes "ADDR:ITEM:OUTCOME ..." -> success when every newest attempt has its outcome
expect_outcomes() {
    local e a i o got
    MISSING=
    for e in $1; do
        IFS=: read -r a1 a2 a3 a4 a5 a6 i o <<< "$e"; a="$a1:$a2:$a3:$a4:$a5:$a6"
        got=$(last_outcome "$a" "$i")
        [ "$got" = "$o" ] || MISSING+=" $a/$i=${got:-none}(want $o)"
    done
    [ -z "$MISSING" ]
}
sha_ok() {  # PHONE ITEM : the phone's copy is byte-identical to the content file
    local want got
    want=$(sha256sum < "$RUN/content/$2" | cut -d' ' -f1)
    got=$(inbox_sha "$1" "$2")
    [ "$got" = "$want" ]
}
gone_settled() { [ "$(last_outcome "$GONE" expo-flyer.pdf)" = unreachable ] && [ "$(n_attempts "$GONE")" -ge $((RETRY_LIMIT + 1)) ]; }
forgotten() {  # none of the given addresses in `bluetoothctl devices` of the appliance
    local out a
    out=$(g appliance -t 20 'bluetoothctl devices 2>/dev/null')
    STILL=
    for a in "$@"; do grep -qi "$a" <<< "$out" && STILL+=" $a"; done
    [ -z "$STILL" ]
}
check_forgotten() {  # SCENARIO ADDR... : fail unless o4send made bluetoothd forget them (within 40 s)
    local sc=$1; shift
    wait_until 40 forgotten "$@" || fail "$sc" "bluetoothctl devices still lists handled phones:$STILL"
}
add_item() {  # NAME SIZE SEED : new content item in the guest's content dir and our reference copy
    python3 -c 'import random,sys; r=random.Random(int(sys.argv[2])); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(int(sys.argv[1]))))' "$2" "$3" > "$RUN/content/$1"
    local b64; b64=$(base64 -w0 < "$RUN/content/$1")
    g appliance -t 60 "echo $b64 | base64 -d > /var/lib/o4send/content/.$1.tmp && mv /var/lib/o4send/content/.$1.tmp /var/lib/o4send/content/$1" >/dev/null
}

# Shared by g and h: the booth's console (login.py) and `o4send status`.
login_as() {  # PASSWORD -> login.py's JSON line (root on ttyS2)
    python3 "$VMDIR/login.py" -s "$RUN/appliance/login.sock" root "$1"
}
jfield() {  # KEY: one field of a JSON object on stdin ("" for null)
    python3 -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1]); print("" if v is None else v)' "$1"
}
status_text() { g appliance -t 30 'o4send status 2>&1'; }

# ---- 3. scenario g: the boot partition's settings, Wi-Fi, the clock, the console ---------------------
# All from the card's o4send.toml, put in force by `o4send setup` at boot: the appliance
# joins the access point named only there (wpa_supplicant@wlan0 + systemd-networkd's DHCP), sets
# its wrong clock from the NTP server named there (systemd-timesyncd), and its console wants the
# password whose hash is there.
log "scenario g: boot partition settings; Wi-Fi joins the access point; NTP sets the clock; console wants the password"
t=$(date +%s)
BOOTMNT=$(g appliance -t 20 'findmnt -rno SOURCE,FSTYPE,OPTIONS /boot')
[[ $BOOTMNT == "/dev/vda1 vfat ro,"* ]] || fail g "/boot is not the card's FAT partition mounted read-only: '$BOOTMNT'"
CSTAT=$(g appliance -t 20 'cat /run/o4send/config-status')
[ "$CSTAT" = "ok: /boot/o4send.toml" ] || fail g "o4send setup's verdict on the boot file: '$CSTAT'"
synced() { g appliance -t 20 'test -e /run/systemd/timesync/synchronized' >/dev/null; }
wait_until 150 synced ||
    fail g "clock not synchronised within 150 s: $(g appliance -t 30 'journalctl -b --no-pager -o cat -u wpa_supplicant@wlan0 -u systemd-networkd -u systemd-timesyncd | tail -5' | tr '\n' ' ')"
HOST_NOW=$(date +%s)
read -r FIRST_LOG GUEST_NOW NTPSYNC <<< "$(g appliance -t 30 'echo $(journalctl -b --no-pager -o short-unix | head -1 | cut -d. -f1) $(date +%s) $(timedatectl show -p NTPSynchronized --value)')"
[ "$NTPSYNC" = yes ] || fail g "timedatectl: NTPSynchronized=$NTPSYNC"
skew=$(( GUEST_NOW - HOST_NOW )); skew=${skew#-}
[ "$skew" -le 5 ] || fail g "after the NTP sync the appliance's clock is ${skew}s off the host's"
[ $(( HOST_NOW - FIRST_LOG )) -gt 86400 ] || fail g "the clock was not wrong at boot (first journal entry at $(date -u -d @"$FIRST_LOG"))"
g appliance -t 30 "journalctl -b --no-pager -o cat -u systemd-timesyncd | grep 'Initial clock synchronization'" > "$RUN/g-timesync.txt" ||
    fail g "timesyncd's journal has no initial synchronisation"
WLAN_ADDR=$(g appliance -t 20 "ip -4 -o addr show wlan0 | awk '{print \$4}' | cut -d/ -f1")
[[ $WLAN_ADDR == 192.168.77.1[0-5][0-9] ]] || fail g "wlan0 has no address from the access point's DHCP range: '$WLAN_ADDR'"
g appliance -t 20 "grep -q ' $WLAN_ADDR ' /run/rig/ap/dnsmasq.leases && grep -q '$WLAN_ADDR asked' /run/rig/ap/sntp.log" >/dev/null ||
    fail g "the access point's DHCP lease or NTP log lacks $WLAN_ADDR"
g appliance -t 20 "journalctl -b --no-pager -o cat -u wpa_supplicant@wlan0 | grep -q \"Trying to associate with .* (SSID='$SSID'\" &&
    journalctl -b --no-pager -o cat -u wpa_supplicant@wlan0 | grep -q 'CTRL-EVENT-CONNECTED'" >/dev/null ||
    fail g "wpa_supplicant@wlan0 did not join '$SSID': $(g appliance -t 20 'journalctl -b --no-pager -o cat -u wpa_supplicant@wlan0 | tail -3' | tr '\n' ' ')"
SSID_HEX=$(printf %s "$SSID" | od -An -tx1 | tr -d ' \n')
g appliance -t 20 "[ \"\$(stat -c '%a %U' /run/o4send/wpa_supplicant-wlan0.conf)\" = '600 root' ] && grep -q 'ssid=$SSID_HEX' /run/o4send/wpa_supplicant-wlan0.conf" >/dev/null ||
    fail g "/run/o4send/wpa_supplicant-wlan0.conf is not setup's root-only file naming $SSID"
# The console: no password, a wrong one, the right one. The banner precedes the first prompt.
L=$(login_as "") || fail g "login.py failed: $L"
[ "$(jfield result <<< "$L")" = incorrect ] || fail g "root with an empty password: $(jfield result <<< "$L") ($(jfield transcript <<< "$L" | tr '\r\n' '  ' | tail -c 300))"
BANNER=$(jfield banner <<< "$L")
[[ $BANNER == *"o4send appliance"*"config: ok: /boot/o4send.toml"* ]] || fail g "the console's banner before the login prompt: '$BANNER'"
L=$(login_as "wrong $CONSOLE_PW") || fail g "login.py failed: $L"
[ "$(jfield result <<< "$L")" = incorrect ] || fail g "root with a wrong password: $(jfield result <<< "$L")"
L=$(login_as "$CONSOLE_PW") || fail g "login.py failed: $L"
[ "$(jfield result <<< "$L")" = shell ] || fail g "root with the boot file's password: $(jfield result <<< "$L") ($(jfield transcript <<< "$L" | tr '\r\n' '  ' | tail -c 300))"
TIMES+=("g=$(( $(date +%s) - t ))s")
log "scenario g: ok ($(( $(date +%s) - t ))s; wlan0 $WLAN_ADDR, clock $(tail -1 "$RUN/g-timesync.txt" | sed 's/.*synchronization to //'), ${skew}s off the host)"
# Development aid: O4SEND_VM_ONLY=w goes from the boot straight to the hotspot (the campaign is
# then the rig's first content, not scenario f's stick).
if [ "${O4SEND_VM_ONLY:-}" = u ]; then
    scenario_u
    collect_logs || true
    RESULT="vm-test: PASS g,u only (O4SEND_VM_ONLY=u) in $(el)s [${TIMES[*]}]"
    exit 0
fi
if [ "${O4SEND_VM_ONLY:-}" = w ]; then
    scenario_w "$RUN/content"
    scenario_s
    scenario_u
    collect_logs || true  # no phone was asked, so their ask logs do not exist
    RESULT="vm-test: PASS g,w,s,u only (O4SEND_VM_ONLY=w) in $(el)s [${TIMES[*]}]"
    exit 0
fi

# ---- 4. scenario a: five phones, five behaviours ----------------------------------------------------
log "scenario a: o4send meets accept/decline/ignore/no-OPP/out-of-range phones"
t=$(date +%s)
# The image enables o4send.service; the rig's drop-in holds it back until now, when the phones are
# in place (the first content is there since the boot: /opt/rig/tools.sh).
g appliance -t 60 "/usr/bin/o4send config check /etc/o4send/o4send.toml && systemctl is-enabled o4send.service &&
    touch /run/rig/o4send-go && systemctl start o4send.service" > "$RUN/a-start.txt" 2>&1 ||
    fail a "o4send.service did not start: $(tr '\n' ' ' < "$RUN/a-start.txt"; g appliance -t 20 'journalctl -u o4send -b --no-pager | tail -3' | tr '\n' ' ')"
PID0=$(main_pid)
# The no-OPP phone must really lack an Object Push record, also with o4send's client profile registered.
if g phone-accept -t 30 "sdptool search --bdaddr $NOOPP OPUSH" | grep -q 'Service Name'; then fail a "rig: the no-OPP phone ($NOOPP) has an OPP SDP record"; fi
EXPECT_A="$ACCEPT:expo-flyer.pdf:accepted $DECLINE:expo-flyer.pdf:declined $IGNORE:expo-flyer.pdf:ignored $NOOPP:expo-flyer.pdf:no_opp $GONE:expo-flyer.pdf:unreachable"
a_done() { expect_outcomes "$EXPECT_A" && gone_settled; }
if ! wait_until 300 a_done; then
    attempt_table > "$RUN/a-attempts.txt"
    g appliance -t 20 'systemctl is-active o4send; journalctl -u o4send -b --no-pager | tail -5' >> "$RUN/a-attempts.txt" 2>&1
    fail a "outcomes after 300 s:$MISSING (gone: $(n_attempts "$GONE") attempts; table: $(tr '\n' ';' < "$RUN/a-attempts.txt"))"
fi
sha_ok phone-accept expo-flyer.pdf || fail a "phone-accept's copy of expo-flyer.pdf differs from the original"
for p in phone-accept phone-decline phone-ignore; do
    [ "$(asks $p)" = 1 ] || fail a "$p was asked $(asks $p) times by obexd (want 1)"
done
n=$(n_attempts "$GONE")
[ "$n" -eq $((RETRY_LIMIT + 1)) ] || fail a "out-of-range phone: $n attempts, want 1 + retry_limit = $((RETRY_LIMIT + 1))"
STATUS=$(g appliance -t 30 'o4send status --json')
echo "$STATUS" > "$RUN/a-status.json"
python3 - "$RUN/a-status.json" "$ACCEPT=accepted" "$DECLINE=declined" "$IGNORE=ignored" "$NOOPP=no_opp" "$GONE=unreachable" <<'PY' || fail a "o4send status --json disagrees: $(cat "$RUN/status-check.txt")"
import json, sys
s = json.load(open(sys.argv[1])); bad = []
by = s['attempts_by_outcome']
for want in sys.argv[2:]:
    addr, outcome = want.split('=')
    if by.get(outcome, 0) < 1: bad.append('attempts_by_outcome.%s=0' % outcome)
    devs = [d for d in s.get('last_hour', {}).get('devices', []) if d['addr'].upper() == addr]
    if not devs or devs[0]['outcome'] != outcome:
        bad.append('last_hour.devices[%s].outcome=%s want %s' % (addr, devs[0]['outcome'] if devs else 'missing', outcome))
open(sys.argv[1].rsplit('/', 1)[0] + '/status-check.txt', 'w').write('; '.join(bad))
sys.exit(1 if bad else 0)
PY
python3 - "$RUN/a-status.json" "$SSID" <<'PY' || fail a "o4send status --json on the boot file and Wi-Fi: $(cat "$RUN/status-check.txt")"
import json, sys
s = json.load(open(sys.argv[1])); bad = []
if s.get('config') != 'ok: /boot/o4send.toml': bad.append('config=%r' % s.get('config'))
if not str(s.get('wifi')).startswith('wifi: joined "%s" (192.168.77.' % sys.argv[2]): bad.append('wifi=%r' % s.get('wifi'))
open(sys.argv[1].rsplit('/', 1)[0] + '/status-check.txt', 'w').write('; '.join(bad))
sys.exit(1 if bad else 0)
PY
# What the phones were shown as the sender: the boot file's sender_name (their bluetoothd's name
# for the appliance when obexd asked them), not the campaign's.
SENDERS=$(asks_logs | python3 -c 'import json,sys; print("|".join(sorted({json.loads(l).get("sender", "") for l in sys.stdin if l.startswith("{")})))')
[ "$SENDERS" = "$SENDER" ] || fail a "the phones saw the sender as '$SENDERS', want '$SENDER' (boot file's sender_name)"
# The clock was synchronised before o4send started: every attempt row says so.
read -r n_rows n_synced <<< "$(sql "select count(*), coalesce(sum(clock_synced), 0) from attempts")"
[ "$n_rows" -gt 0 ] && [ "$n_rows" = "$n_synced" ] || fail a "attempt rows with clock_synced = 1: $n_synced of $n_rows"
check_forgotten a "$ACCEPT" "$DECLINE" "$IGNORE" "$NOOPP" "$GONE"
# GOEP 2.0 (issue 14): obexd's Object Push record offers an L2CAP PSM (attribute 0x0200); the
# appliance pushed to phone-accept over it in ERTM and phone-accept granted SRM.
g phone-ignore -t 30 "sdptool search --xml --bdaddr $ACCEPT OPUSH" > "$RUN/a-sdp.xml" 2>&1 || true
grep -qi 'attribute id="0x0200"' "$RUN/a-sdp.xml" || fail a "phone-accept's Object Push record carries no GoepL2capPsm (0x0200): $(head -c 300 "$RUN/a-sdp.xml")"
g appliance -t 30 'journalctl -u o4send -b --no-pager -o cat' > "$RUN/a-journal.txt" 2>&1 || true
grep -F "$ACCEPT" "$RUN/a-journal.txt" | grep -q 'Object Push over L2CAP PSM 0x' || fail a "phone-accept was not pushed to over L2CAP in ERTM"
grep -F "addr=$ACCEPT" "$RUN/a-journal.txt" | grep ' link ' | grep 'l2cap' | grep -q 'srm=true' || fail a "no SRM with phone-accept over L2CAP"
# Never a bond (issue 14): bluetoothd writes [LinkKey] into /var/lib/bluetooth/ADAPTER/PEER/info only
# for a bond; after the pushes neither the appliance nor any phone holds one, and the phones'
# bluetoothd lists the appliance as not bonded.
for vm in appliance phone-accept phone-decline phone-ignore; do
    keys=$(g $vm -t 30 'grep -ls "^\[LinkKey\]" /var/lib/bluetooth/*/*/info; true')
    [ -z "$keys" ] || fail a "never a bond: $vm stores a link key ($keys)"
done
g phone-accept -t 30 "bluetoothctl info $APPL_ADDR" > "$RUN/a-bond.txt" 2>&1 || true
if grep -q 'Bonded: yes' "$RUN/a-bond.txt"; then fail a "never a bond: phone-accept's bluetoothd bonded the appliance"; fi
TIMES+=("a=$(( $(date +%s) - t ))s")
log "scenario a: ok ($(( $(date +%s) - t ))s)"

# ---- 5. scenario b: nobody is asked twice -----------------------------------------------------------
# Meanwhile (scenario "wifi"), the access point's passphrase changes under the appliance, as if
# the boot file named the wrong one: the appliance's next 4-way handshake fails, which
# wpa_supplicant's journal and `o4send status` must name; then the right passphrase comes back.
log "scenario b: restart o4send, nobody is asked again (meanwhile: the Wi-Fi passphrase goes wrong)"
t=$(date +%s)
before=$(attempt_table); asks_before=$(all_asks)
g appliance -t 60 "/opt/rig/wifi-ap.sh passphrase 'not $WIFI_PASS'" >/dev/null || fail wifi "could not change the access point's passphrase"
g appliance -t 60 'systemctl restart o4send && systemctl is-active o4send' >/dev/null || fail b "o4send did not restart"
b_end=$(( $(date +%s) + 30 ))   # three discovery rounds (about 10 s each) with every phone in range
wifi_refused() { status_text | grep -q '^wifi: "'"$SSID"'" turned the box away (4-way handshake failed: wrong passphrase'; }
wait_until 90 wifi_refused || fail wifi "o4send status does not name the refused passphrase: $(status_text | grep '^wifi' | tr '\n' ' ')"
WIFI_REFUSED=$(status_text | grep '^wifi:')
g appliance -t 20 "journalctl -b --no-pager -o cat -u wpa_supplicant@wlan0 > /tmp/wpa.txt; grep -q 'WPA: 4-Way Handshake failed - pre-shared key may be incorrect' /tmp/wpa.txt &&
    grep -q 'CTRL-EVENT-SSID-TEMP-DISABLED .*ssid=\"$SSID\" .*reason=WRONG_KEY' /tmp/wpa.txt" >/dev/null ||
    fail wifi "wpa_supplicant@wlan0's journal does not name the failed handshake: $(g appliance -t 20 'tail -3 /tmp/wpa.txt' | tr '\n' ' ')"
g appliance -t 60 "/opt/rig/wifi-ap.sh passphrase '$WIFI_PASS'" >/dev/null || fail wifi "could not restore the access point's passphrase"
rest=$(( b_end - $(date +%s) )); [ "$rest" -le 0 ] || sleep "$rest"
after=$(attempt_table); asks_after=$(all_asks)
[ "$before" = "$after" ] || fail b "attempts changed after restart: before [$(echo $before)] after [$(echo $after)]"
[ "$asks_before" = "$asks_after" ] || fail b "phones were asked again ($asks_before -> $asks_after obexd asks)"
check_forgotten b "$ACCEPT" "$DECLINE" "$IGNORE" "$NOOPP" "$GONE"
TIMES+=("b=$(( $(date +%s) - t ))s")
log "scenario b: ok ($(( $(date +%s) - t ))s; $WIFI_REFUSED)"
PID0=$(main_pid)   # the o4send that b restarted must live through c and d

# ---- 6. scenario c: bluetoothd restarted under o4send -----------------------------------------------
# Shared by c and d: a new phone appears and a new item is published (reload), then the radio stack
# is disturbed while that work is in flight; o4send (same MainPID) must finish it.
disturbed() {  # SCENARIO LATE_PHONE LATE_ADDR ITEM SEED DISTURB_FUNCTION
    local sc=$1 late=$2 laddr=$3 item=$4 seed=$5 disturb=$6 pid items
    pid=$(main_pid)
    g "$late" -t 30 "/opt/rig/rigbt.py phone-on $late" >/dev/null || fail "$sc" "could not switch on $late"
    add_item "$item" 30000 "$seed"
    g appliance -t 30 'systemctl reload o4send' >/dev/null || fail "$sc" "systemctl reload o4send failed"
    sleep 4
    "$disturb" > "$RUN/$sc-disturb.txt" 2>&1 || fail "$sc" "disturbance failed: $(tr '\n' ' ' < "$RUN/$sc-disturb.txt")"
    items=$(ls "$RUN/content")
    local exp="$ACCEPT:$item:accepted"
    for i in $items; do exp+=" $laddr:$i:accepted"; done
    wait_until 240 expect_outcomes "$exp" || fail "$sc" "after the disturbance:$MISSING"
    for i in $items; do sha_ok "$late" "$i" || fail "$sc" "$late's copy of $i differs"; done
    sha_ok phone-accept "$item" || fail "$sc" "phone-accept's copy of $item differs"
    [ "$(main_pid)" = "$pid" ] || fail "$sc" "o4send was restarted (MainPID $pid -> $(main_pid))"
    check_forgotten "$sc" "$ACCEPT" "$laddr"
}
log "scenario c: bluetoothd restarted while a new phone and a new item are handled"
t=$(date +%s)
restart_bluetoothd() { g appliance -t 90 'systemctl restart bluetooth && sleep 1 && systemctl is-active bluetooth'; }
disturbed c phone-late-c "$LATE_C" expo-map.pdf 5 restart_bluetoothd
TIMES+=("c=$(( $(date +%s) - t ))s")
log "scenario c: ok ($(( $(date +%s) - t ))s)"

# ---- 7. scenario d: controller unplugged and plugged back ----------------------------------------
# Unplug as the kernel sees it: QMP removes the virtio console port (hci0 vanishes, the link to the
# phones drops because h4proxy's pair and btvirt's controller go too), then plugs a fresh port back
# in on the same h4proxy listener; btvirt reuses the freed controller index, so the address is the
# same, like a USB dongle plugged back in. (Stopping and restarting btattach on the old port instead
# replays stale, half-framed controller output into the new line discipline: HCI Reset times out.)
replug_controller() {
    local q=$RUN/appliance/qmp.sock sock=$RUN/h4-appliance-0.sock
    python3 "$VMDIR/qmp.py" "$q" '{"execute":"device_del","arguments":{"id":"btport0"}}' || return 1
    g appliance -t 30 'for i in $(seq 100); do [ -e /sys/class/bluetooth/hci0 ] || break; sleep 0.2; done
        [ ! -e /sys/class/bluetooth/hci0 ] || { echo hci0 still there after unplug; exit 1; }
        systemctl stop btattach@hvc0' || return 1
    sleep 3   # unplugged for a while: o4send sees the adapter gone
    python3 "$VMDIR/qmp.py" "$q" '{"execute":"chardev-remove","arguments":{"id":"bt0"}}' \
        "{\"execute\":\"chardev-add\",\"arguments\":{\"id\":\"bt0\",\"backend\":{\"type\":\"socket\",\"data\":{\"addr\":{\"type\":\"unix\",\"data\":{\"path\":\"$sock\"}},\"server\":false}}}}" \
        '{"execute":"device_add","arguments":{"driver":"virtconsole","chardev":"bt0","id":"btport0","name":"o4s.bt0","bus":"vser.0"}}' || return 1
    g appliance -t 40 'systemctl start btattach@hvc0; for i in $(seq 100); do [ -e /sys/class/bluetooth/hci0 ] && exit 0; sleep 0.2; done
        echo no hci0 after re-plug; exit 1'
}
log "scenario d: controller detached and re-attached while work is in flight"
t=$(date +%s)
disturbed d phone-late-d "$LATE_D" expo-programme.pdf 6 replug_controller
TIMES+=("d=$(( $(date +%s) - t ))s")
log "scenario d: ok ($(( $(date +%s) - t ))s)"
[ "$(main_pid)" = "$PID0" ] || fail d "o4send MainPID changed during scenarios c and d ($PID0 -> $(main_pid))"
# GOEP fallbacks (issue 14), on the records phones.conf gives the late phones: phone-late-c's names
# an L2CAP PSM nothing listens on (the channel is refused: o4send must fall back to its RFCOMM
# channel), phone-late-d's offers RFCOMM only, as older phones do. Both received every item
# byte-identical above; here the records and the appliance's journal show which way each push went.
# The records are read on each phone through its bluetoothd's compatibility socket (no radio in
# the way: a remote search from another phone timed out once on the loaded rig).
sdp_of() { g "$1" -t 60 'sdptool search --xml --bdaddr local OPUSH' 2>&1 || true; }
sdp_of phone-late-c > "$RUN/d-sdp-late-c.xml"; sdp_of phone-late-d > "$RUN/d-sdp-late-d.xml"
grep -qi 'attribute id="0x0200"' "$RUN/d-sdp-late-c.xml" || fail d "phone-late-c's record has no GoepL2capPsm: $(head -c 300 "$RUN/d-sdp-late-c.xml")"
grep -qi 'uuid value="0x1105"' "$RUN/d-sdp-late-d.xml" || fail d "phone-late-d has no Object Push record: $(head -c 300 "$RUN/d-sdp-late-d.xml")"
if grep -qi 'attribute id="0x0200"' "$RUN/d-sdp-late-d.xml"; then fail d "phone-late-d's record offers an L2CAP PSM (want RFCOMM only)"; fi
g appliance -t 30 'journalctl -u o4send -b --no-pager -o cat' > "$RUN/d-journal.txt" 2>&1 || true
grep -F "$LATE_C" "$RUN/d-journal.txt" | grep 'Object Push over RFCOMM channel' | grep -q 'L2CAP PSM 0x1007 in ERTM refused' ||
    fail d "no fallback to RFCOMM after phone-late-c refused L2CAP PSM 0x1007"
grep -F "$LATE_D" "$RUN/d-journal.txt" | grep -q 'Object Push over RFCOMM channel .*: no GoepL2capPsm' ||
    fail d "phone-late-d (RFCOMM only) was not pushed to over RFCOMM"
for a in "$LATE_C" "$LATE_D"; do
    if grep -F "$a" "$RUN/d-journal.txt" | grep -q 'Object Push over L2CAP'; then fail d "$a was pushed to over L2CAP"; fi
    grep -F "addr=$a" "$RUN/d-journal.txt" | grep ' link ' | grep -q 'rfcomm' || fail d "no RFCOMM link logged for $a"
done
echo "vm-test: d: RFCOMM fallbacks: $(grep -F "$LATE_C" "$RUN/d-journal.txt" | grep -o 'Object Push over RFCOMM.*' | head -1); $(grep -F "$LATE_D" "$RUN/d-journal.txt" | grep -o 'Object Push over RFCOMM.*' | head -1)"

# ---- 8. scenario e: a push worker hangs; systemd's watchdog restarts o4send -----------------------
# The test-only build (/opt/rig/bin/o4send-fault) runs under the board's unit through a runtime drop-in;
# writing "push" into its trigger file hangs the next push worker for good. The daemon must stop
# pinging, systemd must kill and restart it, and the new item must reach every accepting phone exactly once.
log "scenario e: a hung push worker; systemd's watchdog restarts o4send; nothing lost or repeated"
t=$(date +%s)
FAULT_DROPIN=/run/systemd/system/o4send.service.d/fault.conf
g appliance -t 60 "mkdir -p ${FAULT_DROPIN%/*} && rm -f /run/o4send-fault &&
    printf '[Service]\nExecStart=\nExecStart=/opt/rig/bin/o4send-fault run --config /run/o4send/o4send.toml\nEnvironment=O4SEND_FAULT_FILE=/run/o4send-fault\n' > $FAULT_DROPIN &&
    systemctl daemon-reload && { systemctl reset-failed o4send || true; } && systemctl restart o4send && systemctl is-active o4send" > "$RUN/e-start.txt" 2>&1 ||
    fail e "the fault-injection build did not start: $(tr '\n' ' ' < "$RUN/e-start.txt")"
MAXID=$(sql "select max(id) from attempts")
rows_so_far() { sql "select id, device_id, item_name, outcome, raw_code from attempts where id <= $MAXID order by id"; }
asked_twice() {  # accepting phones asked about the same file more than once, unexplained
    # A transfer the link cut after the phone had said yes ("link lost after N bytes", e.g. the
    # controller unplugged in scenario d) is an attempt that failed, not an answer: o4send tries
    # it again and the phone asks its user again. Each such attempt in the log explains one
    # extra ask of that phone for that file; any other extra ask is reported.
    asks_logs > "$RUN/asks.log"
    sql "select d.addr, a.item_name from attempts a join devices d on d.id = a.device_id where a.outcome = 'failed' and a.reason like 'link lost after%'" > "$RUN/cut-transfers.txt" || true
    python3 - "$RUN/asks.log" "$RUN/cut-transfers.txt" "phone-accept=$ACCEPT" "phone-late-c=$LATE_C" "phone-late-d=$LATE_D" <<'PY'
import collections, json, sys
asks, cut = collections.Counter(), collections.Counter()
addr = dict(a.split('=', 1) for a in sys.argv[3:])
for line in open(sys.argv[1]):
    line = line.strip()
    if line.startswith('{'):
        j = json.loads(line)
        if j.get('behaviour') == 'accept':
            asks[(j['phone'], j['name'])] += 1
for line in open(sys.argv[2]):
    parts = line.strip().split(' ', 1)
    if len(parts) == 2:
        cut[tuple(parts)] += 1
print(' '.join('%s/%s=%d' % (p, n, k) for (p, n), k in sorted(asks.items())
               if k > 1 + cut[(addr.get(p, ''), n)]))
PY
}
n_restarts() { g appliance -t 20 'SYSTEMD_COLORS=0 systemctl show -P NRestarts o4send' | tr -dc 0-9; }
asks_item() { g "$1" -t 20 "grep '\"phone\": \"$1\"' /run/rig/asks.log | grep -c '\"name\": \"$2\"' || true"; }
before=$(rows_so_far); N0=$(n_restarts)
sleep 5
g appliance -t 20 'echo push > /run/o4send-fault' >/dev/null || fail e "cannot arm the fault"
sleep 1
add_item expo-e.pdf 20000 8
g appliance -t 30 'systemctl reload o4send' >/dev/null || fail e "systemctl reload o4send failed"
restarted() { [ "$(n_restarts)" -gt "$N0" ]; }
wait_until 300 restarted || fail e "no restart by the watchdog within 300 s (NRestarts $N0 -> $(n_restarts)); $(g appliance -t 20 'journalctl -u o4send -b --no-pager | grep -E "watchdog|fault" | tail -3' | tr '\n' ' ')"
g appliance -t 20 'rm -f /run/o4send-fault' >/dev/null
g appliance -t 30 'journalctl -u o4send -b --no-pager' > "$RUN/e-journal.txt" 2>&1 || true
grep -q 'Watchdog timeout' "$RUN/e-journal.txt" || fail e "o4send was restarted, but the journal has no 'Watchdog timeout'"
grep -q 'not pinging systemd' "$RUN/e-journal.txt" || fail e "the journal does not say which loop stopped the pings"
N1=$(n_restarts)
wait_until 240 expect_outcomes "$ACCEPT:expo-e.pdf:accepted $LATE_C:expo-e.pdf:accepted $LATE_D:expo-e.pdf:accepted" ||
    fail e "after the watchdog restart:$MISSING"
for p in phone-accept phone-late-c phone-late-d; do
    [ "$(asks_item $p expo-e.pdf)" = 1 ] || fail e "$p was asked $(asks_item $p expo-e.pdf) times for expo-e.pdf (want 1)"
    sha_ok $p expo-e.pdf || fail e "$p's copy of expo-e.pdf differs"
done
[ "$before" = "$(rows_so_far)" ] || fail e "attempt rows written before the hang changed across the restart"
twice=$(asked_twice)
[ -z "$twice" ] || fail e "asked more than once: $twice"
# Back to the image's own binary for what follows.
g appliance -t 60 "rm -f $FAULT_DROPIN && systemctl daemon-reload && systemctl restart o4send && systemctl is-active o4send" >/dev/null ||
    fail e "o4send did not come back on the image's binary"
TIMES+=("e=$(( $(date +%s) - t ))s")
log "scenario e: ok ($(( $(date +%s) - t ))s, NRestarts $N0 -> $N1)"

# ---- 9. scenario h: a broken edit of the boot file, then a reload ----------------------------------
# The card is taken out, o4send.toml edited on a laptop (a new sender name, another trusted key,
# and a bad value) and put back: the host rewrites the card's FAT with mtools while the
# guest has it mounted read-only, the guest unmounts and mounts it again as a re-inserted card, and
# `systemctl reload o4send` runs `o4send setup` before the daemon's SIGHUP. The mistake must be
# named in one line in the journal, on the banner and in `o4send status`, and nothing may change:
# same daemon, same trusted key (scenario f's sticks prove it), same sender name, pushes go on.
log "scenario h: a broken edit of the boot file and a reload: named on the journal, banner and status; nothing changes"
t=$(date +%s)
PIDH=$(main_pid)
boot_toml "Edited Booth" "$OTHER_KEY" $'\n[policy]\nmin_rssi = "loud"' | as_notepad > "$RUN/boot/broken.toml"
put_boot_file "$RUN/boot/broken.toml" || fail h "mtools could not rewrite the card's boot partition"
g appliance -t 60 'umount /boot && blockdev --flushbufs /dev/vda1 && systemctl start boot.mount && grep -q loud /boot/o4send.toml' > "$RUN/h-remount.txt" 2>&1 ||
    fail h "the re-mounted boot partition does not show the edit: $(tr '\n' ' ' < "$RUN/h-remount.txt")"
g appliance -t 90 'systemctl reload o4send' > "$RUN/h-reload.txt" 2>&1 || fail h "systemctl reload o4send failed: $(tr '\n' ' ' < "$RUN/h-reload.txt")"
named() { [[ $1 == *o4send.toml* && $1 == *policy.min_rssi* && $1 == *'"loud"'* && $1 == *"running on the last good settings"* ]]; }
CSTAT=$(g appliance -t 20 'cat /run/o4send/config-status')
named "$CSTAT" || fail h "config-status does not name the mistake: '$CSTAT'"
g appliance -t 30 'journalctl -b --no-pager -o cat -u o4send' > "$RUN/h-journal.txt" 2>&1
grep -qF "$CSTAT" "$RUN/h-journal.txt" || fail h "the journal of o4send.service does not have the line: $(grep -m1 min_rssi "$RUN/h-journal.txt")"
# Setup writes the banner at once; the daemon rewrites it with its status line every few seconds
# and may, for one round, put back the line it had read before the reload.
banner_named() { g appliance -t 20 "grep -qF 'config: $CSTAT' /run/o4send/banner/issue" >/dev/null; }
wait_until 30 banner_named || fail h "the banner file does not name the mistake: $(g appliance -t 20 'cat /run/o4send/banner/issue' | tr '\n' ' ')"
STATUS_H=$(status_text)
grep -qF "config: $CSTAT" <<< "$STATUS_H" || fail h "o4send status does not name the mistake: $(head -3 <<< "$STATUS_H" | tr '\n' ' ')"
grep -q "^wifi: joined \"$SSID\"" <<< "$STATUS_H" || fail h "Wi-Fi not joined again after the passphrase came back (or lost by the broken edit): $(grep '^wifi' <<< "$STATUS_H")"
L=$(login_as "$CONSOLE_PW") || fail h "login.py failed: $L"
[ "$(jfield result <<< "$L")" = shell ] || fail h "the console no longer takes the last good password: $(jfield result <<< "$L")"
BANNER=$(jfield banner <<< "$L")
[[ $BANNER == *"config: $CSTAT"* ]] || fail h "the console's banner does not name the mistake: '$BANNER'"
[ "$(main_pid)" = "$PIDH" ] || fail h "o4send was restarted by the reload (MainPID $PIDH -> $(main_pid))"
g appliance -t 20 "grep -qF '$KEY' /run/o4send/o4send.toml && ! grep -qF '$OTHER_KEY' /run/o4send/o4send.toml" >/dev/null || fail h "the trusted keys in force changed"
ALIAS=$(g appliance -t 30 'busctl get-property org.bluez /org/bluez/hci0 org.bluez.Adapter1 Alias' | cut -d'"' -f2)
[ "$ALIAS" = "$SENDER" ] || fail h "the sender name changed to '$ALIAS'"
TIMES+=("h=$(( $(date +%s) - t ))s")
log "scenario h: ok ($(( $(date +%s) - t ))s; ${CSTAT})"

# ---- 10. scenario f: content from a USB stick -------------------------------------------------------
# FAT images hot-plugged over QMP as USB mass storage: the board's udev rule starts
# o4send-import@sdX.service, which mounts the stick read-only and runs `o4send import`.
log "scenario f: a signed USB stick changes the campaign; a tampered one changes nothing"
t=$(date +%s)
qmp() { python3 "$VMDIR/qmp.py" "$RUN/appliance/qmp.sock" "$@" > /dev/null; }
plug() {  # ID IMAGE
    qmp "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"raw\",\"node-name\":\"$1\",\"read-only\":true,\"file\":{\"driver\":\"file\",\"filename\":\"$2\",\"read-only\":true}}}" \
        "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"usb-storage\",\"id\":\"$1\",\"drive\":\"$1\",\"bus\":\"xhci.0\",\"removable\":true}}"
}
unplug() {  # ID
    qmp "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"$1\"}}" || return 1
    wait_until 30 qmp "{\"execute\":\"blockdev-del\",\"arguments\":{\"node-name\":\"$1\"}}"
}
import_log() { g appliance -t 20 'journalctl -b --no-pager -o cat -t o4send-import'; }
says() { import_log | grep -q "$1"; }
active() { g appliance -t 20 'o4send content show --config /run/o4send/o4send.toml | head -1'; }
plug stick1 "$RUN/usb/good.img" || fail f "QMP could not plug the stick"
wait_until 90 says 'imported campaign "USB campaign"' || fail f "no import within 90 s: $(import_log | tail -3 | tr '\n' ' ')"
unplug stick1 || fail f "QMP could not unplug the stick"
NEW=$(active)
[[ $NEW == 'active: campaign "USB campaign"'* ]] || fail f "content show after the import: $NEW"
cp "$RUN/usb/new/usb-leaflet.pdf" "$RUN/content/"
wait_until 180 expect_outcomes "$ACCEPT:usb-leaflet.pdf:accepted $LATE_C:usb-leaflet.pdf:accepted $LATE_D:usb-leaflet.pdf:accepted" ||
    fail f "after the import:$MISSING"
for p in phone-accept phone-late-c phone-late-d; do
    sha_ok $p usb-leaflet.pdf || fail f "$p's copy of usb-leaflet.pdf differs"
done
# The tampered stick and one signed by another key (the key the broken edit of h tried to trust),
# plugged together.
plug stick2 "$RUN/usb/tampered.img" || fail f "QMP could not plug the tampered stick"
plug stick3 "$RUN/usb/other.img" || fail f "QMP could not plug the other key's stick"
plug stick4 "$RUN/usb/squashfs.img" || fail f "QMP could not plug the SquashFS stick"
refusals() { [ "$(import_log | grep -c 'import refused')" -ge 2 ] && says 'holds a squashfs file system, not FAT32, exFAT or ext4; nothing imported'; }
wait_until 90 refusals || fail f "the tampered, the other key's and the SquashFS sticks were not all refused within 90 s: $(import_log | tail -3 | tr '\n' ' ')"
unplug stick2 || true
unplug stick3 || true
unplug stick4 || true
OTHER_REFUSAL=$(import_log | grep 'import refused' | grep 'does not trust' | tail -1)
[ -n "$OTHER_REFUSAL" ] || fail f "the other key's stick was not refused for its key: $(import_log | grep 'import refused' | tr '\n' ' ')"
REFUSAL=$(import_log | grep 'import refused' | grep -v 'does not trust' | tail -1)
[ -n "$REFUSAL" ] || fail f "the tampered stick was not refused: $(import_log | grep 'import refused' | tr '\n' ' ')"
[ "$(active)" = "$NEW" ] || fail f "a refused stick changed the content: $(active)"
# Retries of the signed file to the other phones may go on; what must not change is what is
# offered: the active campaign (above) and the file the phones get.
sleep 10
[ "$(active)" = "$NEW" ] || fail f "the content changed after the tampered stick: $(active)"
sha_ok phone-accept usb-leaflet.pdf || fail f "phone-accept's copy of usb-leaflet.pdf changed after the tampered stick"
TIMES+=("f=$(( $(date +%s) - t ))s")
log "scenario f: ok ($(( $(date +%s) - t ))s; refused: ${REFUSAL#*refused: }; ${OTHER_REFUSAL#*refused: })"

# ---- 11. benchmark: 1 MiB, our OBEX client vs BlueZ's obexd ----------------------------------------
log "benchmark: 1 MiB to phone-accept, o4send push vs obexd"
g appliance -t 60 'systemctl stop o4send; head -c 1048576 /dev/urandom > /tmp/bench-ours.bin; cp /tmp/bench-ours.bin /tmp/bench-obexd.bin; sha256sum < /tmp/bench-ours.bin' > "$RUN/bench-sha" || fail bench "setup"
# Pitfall: a session that starts while the previous ACL is still being torn down is dropped
# mid-transfer; wait until Device1.Connected is false first.
wait_disc() { g appliance -t 30 "for i in \$(seq 75); do busctl get-property org.bluez /org/bluez/hci0/dev_${ACCEPT//:/_} org.bluez.Device1 Connected 2>/dev/null | grep -q true || exit 0; sleep 0.2; done; exit 1" >/dev/null || true; }
# bench_push NAME CMD : up to 3 tries each. The emulated links used to die in the middle of 1 MiB
# transfers (btdev's IO capability quirk, now handled by h4proxy); a try that still fails is kept
# as bench-NAME-tryK.txt, and the tries used are part of the PASS line.
BENCH_TRIES=
bench_push() {
    local name=$1 cmd=$2 k
    for k in 1 2 3; do
        wait_disc
        if g appliance -t 200 "$cmd" > "$RUN/bench-$name.txt" 2>&1; then BENCH_TRIES+="$name:${k} "; return 0; fi
        cp "$RUN/bench-$name.txt" "$RUN/bench-$name-try$k.txt"
        sleep 2
    done
    return 1
}
# Three rounds, the clients taking turns; the medians are compared (TCG timing varies by tens of
# per cent from one push to the next).
# The appliance kernel's HCI counters around each push (hciconfig: ACL packets, and bytes of all
# HCI traffic, events and commands included): what each client cost on the link.
acl() { g appliance -t 20 'hciconfig hci0' | sed -n 's/.*RX bytes:\([0-9]*\) acl:\([0-9]*\).*/\1 \2/p; s/.*TX bytes:\([0-9]*\) acl:\([0-9]*\).*/\1 \2/p' | tr '\n' ' '; }
acl_delta() {  # BEFORE AFTER -> "acl_tx=N acl_rx=N hci_tx_bytes=N hci_rx_bytes=N"
    read -r rb0 ra0 tb0 ta0 <<< "$1"; read -r rb1 ra1 tb1 ta1 <<< "$2"
    echo "acl_tx=$((ta1 - ta0)) acl_rx=$((ra1 - ra0)) hci_tx_bytes=$((tb1 - tb0)) hci_rx_bytes=$((rb1 - rb0))"
}
OURS_ALL=() OBEXD_ALL=() OURS_ACL=() OBEXD_ACL=()
for round in 1 2 3; do
    a0=$(acl)
    bench_push ours "o4send push --to $ACCEPT /tmp/bench-ours.bin" || fail bench "o4send push, 3 tries: $(tail -2 "$RUN/bench-ours.txt" | tr '\n' ' ')"
    OURS_ACL+=("$(acl_delta "$a0" "$(acl)")")
    OURS_ALL+=("$(sed -n "s/^push time: *\([0-9.]*\) *s.*/\1/p" "$RUN/bench-ours.txt" | tail -1)")
    echo "vm-bench: ours round $round: $(grep '^push link:' "$RUN/bench-ours.txt" | sed 's/^push link: //') ${OURS_ACL[-1]}"
    a0=$(acl)
    bench_push obexd "/opt/rig/obexd-client.sh && DBUS_SESSION_BUS_ADDRESS=unix:path=/run/rig/obex-bus /opt/rig/rigbt.py obexd-push --source $APPL_ADDR --dest $ACCEPT --file /tmp/bench-obexd.bin" ||
        fail bench "obexd push, 3 tries: $(tail -2 "$RUN/bench-obexd.txt" | tr '\n' ' ')"
    OBEXD_ACL+=("$(acl_delta "$a0" "$(acl)")")
    OBEXD_ALL+=("$(sed -n 's/.*secs=\([0-9.]*\).*/\1/p' "$RUN/bench-obexd.txt" | tail -1)")
    echo "vm-bench: obexd round $round: ${OBEXD_ACL[-1]}"
done
# obexd's own account of the same 1 MiB push, untimed: a fourth push with obexd's debug log and
# gobex's packet dump (obexd-client.sh OBEXD_COUNT=1), read in the guest by gobex-count.awk.
g appliance -t 30 'cp /tmp/bench-ours.bin /tmp/bench-obexd-counted.bin' >/dev/null
stop_obexd='(pkill -x obexd; for i in $(seq 50); do pgrep -x obexd >/dev/null || exit 0; sleep 0.1; done; exit 1)'
bench_push obexd-counted "$stop_obexd; OBEXD_COUNT=1 /opt/rig/obexd-client.sh && DBUS_SESSION_BUS_ADDRESS=unix:path=/run/rig/obex-bus /opt/rig/rigbt.py obexd-push --source $APPL_ADDR --dest $ACCEPT --file /tmp/bench-obexd-counted.bin" ||
    fail bench "obexd push with its packet dump, 3 tries: $(tail -2 "$RUN/bench-obexd-counted.txt" | tr '\n' ' ')"
OBEXD_LINK=$(g appliance -t 60 "$stop_obexd && awk -f /opt/rig/gobex-count.awk /run/rig/obexd-client.log") ||
    fail bench "could not read obexd's packet dump: $OBEXD_LINK"
case $OBEXD_LINK in *" obex_packets=0 "*) fail bench "no OBEX packets in obexd's dump: $OBEXD_LINK" ;; esac
echo "vm-bench: obexd's own count (gobex dump): $OBEXD_LINK"
# RFCOMM on real BlueZ: the phone's record names both; --rfcomm takes the channel.
g appliance -t 30 'cp /tmp/bench-ours.bin /tmp/bench-rfcomm.bin' >/dev/null
a0=$(acl)
bench_push rfcomm "o4send push --rfcomm --to $ACCEPT /tmp/bench-rfcomm.bin" || fail bench "o4send push --rfcomm, 3 tries: $(tail -2 "$RUN/bench-rfcomm.txt" | tr '\n' ' ')"
RFCOMM_LINK="$(grep '^push link:' "$RUN/bench-rfcomm.txt" | sed 's/^push link: //') $(acl_delta "$a0" "$(acl)")"
case $RFCOMM_LINK in transport=rfcomm*) ;; *) fail bench "o4send push --rfcomm did not use RFCOMM: $RFCOMM_LINK" ;; esac
echo "vm-bench: ours over RFCOMM: $(sed -n "s/^push time: *\([0-9.]*\) *s.*/\1/p" "$RUN/bench-rfcomm.txt" | tail -1) s, $RFCOMM_LINK"
median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
OURS=$(median "${OURS_ALL[@]}") OBEXD=$(median "${OBEXD_ALL[@]}")
want=$(tr -d '\r' < "$RUN/bench-sha" | tail -1 | cut -d' ' -f1)
for f in bench-ours.bin bench-obexd.bin bench-obexd-counted.bin bench-rfcomm.bin; do
    [ "$(inbox_sha phone-accept $f)" = "$want" ] || fail bench "phone-accept's copy of $f differs"
done
[ -n "$OURS" ] && [ -n "$OBEXD" ] || fail bench "no timing (ours='$OURS' obexd='$OBEXD')"
RATIO=$(awk -v a="$OURS" -v b="$OBEXD" 'BEGIN{printf "%.2f", a/b}')
echo "vm-bench: 1 MiB to phone-accept, median of 3: ours_secs=$OURS obexd_secs=$OBEXD ratio=$RATIO (ours ${OURS_ALL[*]}; obexd ${OBEXD_ALL[*]}) tries=[${BENCH_TRIES% }]"

scenario_w "$RUN/usb/new"
scenario_s
scenario_u

collect_logs
RESULT="vm-test: PASS g,a,b+wifi,c,d,e,h,f,w,s,u + bench (ours ${OURS}s, obexd ${OBEXD}s, ratio $RATIO, tries ${BENCH_TRIES% }) in $(el)s [${TIMES[*]}]"
