#!/usr/bin/env bash
# Makes the per-run overlay disk of one rig guest (never cached): the initramfs copies it over the
# cached base root at boot. Takes about a second.
#   mkoverlay.sh noopp OUT.img
#   mkoverlay.sh phone NAME OUT.img        (NAME: a phone of scripts/vm/phones.conf)
#   mkoverlay.sh appliance OUT.img O4SEND_BINARY CONTENT_DIR [EXTRA_DIR]
# EXTRA_DIR (per-run files: the fault-injection build, drop-ins with this run's bundle key) is
# copied over everything else.
# The appliance overlay carries the project's own files: the o4send binary as /usr/bin/o4send,
# board/common/rootfs-overlay/** (o4send.toml, o4send.service, o4send-setup.service, boot.mount)
# and board/common/readonly-etc.sh straight from the repo, plus the rig's units and drop-in and the
# test content for /var/lib/o4send/content.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
ROLE=$1
if [ "$ROLE" = phone ]; then PHONE=$2; shift; fi
OUT=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
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
appliance)
    cp -a "$REPO/board/common/rootfs-overlay/." "$T/"
    # The image's build step that turns /etc/shadow, /etc/issue and the Wi-Fi client's config into
    # links into /run/o4send; the initramfs hook (guest/appliance/opt/rig/initramfs-hook) runs it
    # on the guest's root.
    install -D -m755 "$REPO/board/common/readonly-etc.sh" "$T/opt/rig/board/readonly-etc.sh"
    install -D -m755 "$3" "$T/usr/bin/o4send"
    mkdir -p "$T/var/lib/o4send/content"
    cp -a "$4/." "$T/var/lib/o4send/content/"
    [ -z "${5:-}" ] || cp -a "$5/." "$T/"
    # o4send.service is NOT enabled here: the rig runs `systemctl enable --now o4send` once the
    # phones are in place (that also exercises the unit's [Install] section).
    ;;
*) echo "mkoverlay: unknown role $ROLE" >&2; exit 2 ;;
esac
find "$T" -name __pycache__ -prune -exec rm -rf {} +
rm -f "$OUT"
# No journal: the guest mounts it read-only from a read-only drive.
mkfs.ext4 -q -F -O ^has_journal -L o4s-ovl -d "$T" "$OUT" 96M >/dev/null
