#!/usr/bin/env bash
# explain-failure.sh LOG TARGET LAYER...: after mmdebstrap failed, one line saying why (a package
# no layer can have, a checksum apt refused, a full disk, no archive), then the end of LOG.
set -uo pipefail
log=$1 target=$2
shift 2

say() { echo "build-image.sh: $target: $*"; }

# layer_of PACKAGE: the layer whose packages file names it
layer_of() {
    local layer
    for layer in "$@"; do
        if sed 's/#.*//' "board/debian/$layer/packages" 2>/dev/null | tr -d ' \t' | grep -qxF "$pkg"; then
            echo "board/debian/$layer/packages"
            return
        fi
    done
    echo "a layer"
}

cd "$(dirname "$0")/../.." || exit 1
pkg=$(sed -n -e "s/^E: Unable to locate package \(.*\)$/\1/p" \
    -e "s/^E: Package '\(.*\)' has no installation candidate$/\1/p" "$log" | head -1)
if [ -n "$pkg" ]; then
    say "$(layer_of "$@") names '$pkg', which Debian's archive has not for this release and architecture (a typo, or a package of another release?)"
elif grep -q 'No space left on device' "$log"; then
    say "the disk filled up while building the system: $(grep -m1 'No space left on device' "$log")"
elif grep -qi 'Hash Sum mismatch\|checksum\|Size mismatch' "$log"; then
    say "a downloaded package does not match the archive's checksum: $(grep -m1 -i 'Hash Sum mismatch\|checksum\|Size mismatch' "$log")"
elif grep -q 'Could not resolve\|Failed to fetch\|Temporary failure' "$log"; then
    say "Debian's archive cannot be reached: $(grep -m1 'Could not resolve\|Failed to fetch\|Temporary failure' "$log")"
else
    say "mmdebstrap failed: $(grep -m1 '^E: ' "$log" || tail -1 "$log")"
fi
echo "--- the end of $log:"
tail -n 15 "$log"
