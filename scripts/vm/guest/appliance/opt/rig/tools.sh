#!/bin/sh
# The rig's tools on the appliance VM. The appliance runs the o4send image as built, which has no
# Python, sqlite3 or obexd; the rig brings them as a root file system of their own (the cached
# base image, Debian 12 with BlueZ's tools, a third disk mounted at /mnt) and runs them there:
#   tools.sh up        bind what the tools work on into /mnt: /proc, /sys, /dev, /run (D-Bus,
#                      the rig's state), /tmp, the log (/var/lib/o4send), /opt/rig; and the rig's first
#                      content into /var/lib/o4send/content, as an operator's stick would have put
#                      it there (run by rig-tools.service at boot)
#   tools.sh run CMD   CMD inside /mnt (opt/rig/bin/* are such wrappers: python3, sqlite3, ...)
set -eu
case ${1:-} in
up)
    # The log's directory exists once o4send.service ran; the rig starts that only in scenario a.
    mkdir -p /var/lib/o4send/content
    cp -n /opt/rig/content/* /var/lib/o4send/content/
    for d in proc sys dev run tmp var/lib/o4send opt/rig; do
        mkdir -p "/mnt/$d"
        mountpoint -q "/mnt/$d" || mount --rbind "/$d" "/mnt/$d"
    done
    ;;
run)
    shift
    exec chroot /mnt "$@"
    ;;
*)
    echo "usage: tools.sh up | run CMD..." >&2
    exit 2
    ;;
esac
