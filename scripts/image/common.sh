# shellcheck shell=bash
# Shared by the image scripts (sourced): the Debian release the images are pinned to, the
# targets and their layers, the cache, and die().
#   pi: arm64, Raspberry Pi 3 (B, B+), 4 (B, 400) and Zero 2 W
#   pc: amd64, a mini-PC or laptop with a USB Bluetooth dongle (UEFI)
# Layers (board/debian/<layer>/): packages (for the system stage), system.sh (run on the new root
# by mmdebstrap, cached with it) and image.sh (run on every assembly, with the o4send binary).

# shellcheck disable=SC2034 # read by the scripts that source this file
DEBIAN_RELEASE=trixie
# shellcheck disable=SC2034
DEBIAN_MIRROR=${O4SEND_DEBIAN_MIRROR:-http://deb.debian.org/debian}

die() {
    echo "${0##*/}: $*" >&2
    exit 1
}

target_arch() {
    case $1 in
    pi) echo arm64 ;;
    pc) echo amd64 ;;
    *) die "unknown target '$1' (expected pi or pc; the Raspberry Pi 5 is not a target yet: see docs/image.md)" ;;
    esac
}

target_layers() {
    target_arch "$1" >/dev/null
    echo "base $1 appliance release"
}

# The cache of downloaded packages and built systems: /var/cache/o4send-image as root, else the
# user's cache directory.
image_cache() {
    if [ -n "${O4SEND_IMAGE_CACHE:-}" ]; then
        echo "$O4SEND_IMAGE_CACHE"
    elif [ "$(id -u)" -eq 0 ]; then
        echo /var/cache/o4send-image
    else
        echo "${XDG_CACHE_HOME:-$HOME/.cache}/o4send-image"
    fi
}

# private_apt DIR ARGS...: apt-get ARGS with a source list (DIR/sources.list, written by the caller),
# package lists and a download cache of its own under DIR: the system's apt configuration is
# never read or changed.
private_apt() {
    local a=$1
    shift
    mkdir -p "$a/lists/partial" "$a/cache/archives/partial"
    apt-get -o "Dir::Etc::SourceList=$a/sources.list" -o Dir::Etc::SourceParts=/nonexistent \
        -o "Dir::State::Lists=$a/lists" -o "Dir::Cache=$a/cache" "$@"
}

# need_space DIR MIB WHAT: dies naming DIR, the free and the needed space when DIR's file system
# has less than MIB MiB free.
need_space() {
    local free
    mkdir -p "$1"
    free=$(($(df --output=avail -k "$1" | tail -1) / 1024))
    [ "$free" -ge "$2" ] || die "not enough space in $1 for $3: $free MiB free, about $2 MiB needed"
}
