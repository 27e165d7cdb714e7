#!/usr/bin/env bash
# Makes the per-run overlay disk of one rig guest (never cached): the initramfs copies it over the
# cached base root at boot. Takes about a second.
#   mkoverlay.sh noopp OUT.img
#   mkoverlay.sh phone NAME OUT.img        (NAME: a phone of scripts/vm/phones.conf)
#   mkoverlay.sh appliance OUT.img CONTENT_DIR [EXTRA_DIR]
# The appliance VM runs the o4send image as built (scripts/build-image.sh pc), whose root is
# read-only: its disk is not copied over anything but mounted at /opt (systemd.mount-extra on the
# kernel command line, vm-start.sh). It holds /opt/rig: the rig's scripts (guest/common/opt,
# guest/appliance/opt), the first content (/opt/rig/content) and EXTRA_DIR's opt/ (per-run files:
# the fault-injection build as /opt/rig/bin/o4send-fault, the access point's /opt/rig/etc/wifi-ap.conf).
# The rig's units reach the image's systemd as credentials (guest/appliance/units, vm-start.sh).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROLE=$1
if [ "$ROLE" = phone ]; then PHONE=$2; shift; fi
OUT=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
if [ "$ROLE" = appliance ]; then
    cp -a "$HERE/guest/common/opt/." "$HERE/guest/appliance/opt/." "$T/"
    mkdir -p "$T/rig/content"
    cp -a "$3/." "$T/rig/content/"
    [ -z "${4:-}" ] || [ ! -d "$4/opt" ] || cp -a "$4/opt/." "$T/"
    find "$T" -name __pycache__ -prune -exec rm -rf {} +
    rm -f "$OUT"
    mkfs.ext4 -q -F -O ^has_journal -L o4s-ovl -d "$T" "$OUT" 96M >/dev/null
    exit 0
fi
cp -a "$HERE/guest/common/." "$T/"
[ ! -d "$HERE/guest/$ROLE" ] || cp -a "$HERE/guest/$ROLE/." "$T/"
W=$T/etc/systemd/system/multi-user.target.wants
mkdir -p "$W"
ln -s /etc/systemd/system/rig-attach.service "$W/"
case $ROLE in
phone)
    # This VM's one phone, on its one controller port (hvc0), in rigbt.py's "PORT NAME BEHAVIOUR
    # STATE" format.
    mkdir -p "$T/etc/rig"
    awk -v n="$PHONE" '$1 == n { print "hvc0", $1, $2, $3; found = 1 } END { exit !found }' \
        "$HERE/phones.conf" > "$T/etc/rig/phones.conf" || { echo "mkoverlay: no phone $PHONE in phones.conf" >&2; exit 2; }
    # A phone whose Object Push record is rewritten (phones.conf's OPP column): sdptool edits
    # records only through bluetoothd's compatibility socket (-C).
    OPP=$(awk -v n="$PHONE" '$1 == n { print $4 }' "$HERE/phones.conf")
    case ${OPP:-goep} in
    goep) ;;
    rfcomm|dead-psm)
        echo "$OPP" > "$T/etc/rig/opp-record"
        mkdir -p "$T/etc/systemd/system/bluetooth.service.d"
        printf '[Service]\nExecStart=\nExecStart=/usr/libexec/bluetooth/bluetoothd -C\n' \
            > "$T/etc/systemd/system/bluetooth.service.d/rig-sdp-compat.conf"
        ;;
    *) echo "mkoverlay: $PHONE: unknown OPP record kind '$OPP' in phones.conf" >&2; exit 2 ;;
    esac
    ln -s /etc/systemd/system/rig-phones.service "$W/"
    ;;
noopp)
    ln -s /etc/systemd/system/rig-noopp.service "$W/"
    ;;
*) echo "mkoverlay: unknown role $ROLE" >&2; exit 2 ;;
esac
find "$T" -name __pycache__ -prune -exec rm -rf {} +
rm -f "$OUT"
# No journal: the guest mounts it read-only from a read-only drive.
mkfs.ext4 -q -F -O ^has_journal -L o4s-ovl -d "$T" "$OUT" 96M >/dev/null
