#!/usr/bin/env bash
# deb-cache.sh check|record DIR RELEASE ARCH [PACKAGES]: the cache of the .debs an image was built
# from, so a rebuild downloads only what changed (deb.debian.org also drops superseded files).
#   check:  refuse a cache that holds another release's or architecture's packages (its RELEASE
#           file says which), or a .deb whose SHA-256 is not the one recorded when it was stored
#           (a damaged or replaced file): one line naming the file, exit 1.
#   record: after a build, drop the superseded versions of the packages in PACKAGES (dpkg-query's
#           "name version arch" lines), write the SHA-256 of every .deb (SHA256SUMS) and the
#           RELEASE file. Several builds of one architecture may share the cache.
set -euo pipefail
cmd=$1 dir=$2 release=$3 arch=$4

die() {
    echo "deb-cache.sh: $*" >&2
    exit 1
}

case $cmd in
check)
    if [ -f "$dir/RELEASE" ] && [ "$(cat "$dir/RELEASE")" != "$release $arch" ]; then
        die "$dir holds the packages of Debian $(cat "$dir/RELEASE"), not of $release $arch: point O4SEND_IMAGE_CACHE elsewhere or empty $dir"
    fi
    for deb in "$dir"/*.deb; do
        [ -e "$deb" ] || break
        case ${deb##*/} in
        *_"$arch".deb | *_all.deb) ;;
        *) die "$deb is not a package for $arch: the cache $dir is for $release $arch only" ;;
        esac
    done
    if [ -f "$dir/SHA256SUMS" ]; then
        bad=$(cd "$dir" && sha256sum --check --quiet SHA256SUMS 2>/dev/null | sed -n 's/: FAILED.*//p' | head -1) || true
        [ -z "$bad" ] || die "$dir/$bad does not match the SHA-256 recorded when it was downloaded: the cache is damaged; delete that file and build again"
    fi
    ;;
record)
    manifest=$5
    keep=$(mktemp)
    trap 'rm -f "$keep"' EXIT
    # Debian names a package's file name_version_arch.deb with the epoch's ':' as %3a.
    awk '{ v = $2; gsub(/:/, "%3a", v); print $1 "_" v "_" $3 ".deb" }' "$manifest" | sort >"$keep"
    for deb in "$dir"/*.deb; do
        [ -e "$deb" ] || break
        f=${deb##*/}
        # Another version of a package this build used: superseded.
        if grep -q "^${f%%_*}_" "$keep" && ! grep -qxF "$f" "$keep"; then rm -f "$deb"; fi
    done
    (cd "$dir" && find . -maxdepth 1 -name '*.deb' -printf '%f\n' | LC_ALL=C sort | xargs -r sha256sum) >"$dir/SHA256SUMS.tmp"
    mv "$dir/SHA256SUMS.tmp" "$dir/SHA256SUMS"
    echo "$release $arch" >"$dir/RELEASE"
    ;;
*) die "usage: deb-cache.sh check|record DIR RELEASE ARCH [PACKAGES]" ;;
esac
