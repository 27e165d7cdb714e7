#!/usr/bin/env bash
# system.sh TARGET: the target's base system, built with mmdebstrap from Debian's packages only
# and cached; prints the path of its tarball (the last line of stdout).
#   - packages: the union of board/debian/<layer>/packages over the target's layers;
#   - hooks: each layer's system.sh on the new root (the board's builds the initramfs);
#   - the .debs are kept in <cache>/debs/<release>-<arch> (with the SHA-256 of each, checked before
#     every reuse) so a rebuild downloads only what changed, and the package list of the result
#     is kept beside the tarball (<tar>.packages);
#   - the tarball is keyed by a hash of its inputs (these scripts, the layers' packages and
#     system.sh, the release): the same inputs reuse it. O4SEND_IMAGE_FRESH=1 builds it again
#     from the archive's current packages (security updates).
# Needs root (mmdebstrap's root mode, chroot) and, for a foreign architecture, qemu-user in
# binfmt_misc (scripts/image/host-tools.sh sets it up).
# shellcheck disable=SC2016 # the hooks are shell code mmdebstrap runs, with the root as $1
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=scripts/image/common.sh
. "$here/common.sh"

target=${1:-}
arch=$(target_arch "$target")
read -ra layers <<<"$(target_layers "$target")"
cache=$(image_cache)

inputs=("$here/system.sh")
packages=()
for layer in "${layers[@]}"; do
    dir=$repo/board/debian/$layer
    [ -d "$dir" ] || die "no layer $dir"
    for f in packages system.sh; do
        [ ! -e "$dir/$f" ] || inputs+=("$dir/$f")
    done
    [ ! -e "$dir/packages" ] || mapfile -t -O "${#packages[@]}" packages < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$dir/packages" | tr -d ' \t')
done
key=$( (echo "$DEBIAN_RELEASE $arch $DEBIAN_MIRROR"; cat "${inputs[@]}") | sha256sum | cut -c1-16)
tar=$cache/system-$target-$DEBIAN_RELEASE-$arch-$key.tar
if [ -f "$tar" ] && [ "${O4SEND_IMAGE_FRESH:-0}" != 1 ]; then
    echo "system.sh: $target: cached $tar" >&2
    echo "$tar"
    exit 0
fi

[ "$(id -u)" -eq 0 ] || die "building the $target system needs root (mmdebstrap, chroot)"
debs=$cache/debs/$DEBIAN_RELEASE-$arch
mkdir -p "$debs"
exec 9>"$cache/.system-$target.lock"
flock 9
need_space "$cache" 3000 "the $target system"
"$here/deb-cache.sh" check "$debs" "$DEBIAN_RELEASE" "$arch"

echo "system.sh: $target: building $tar with mmdebstrap ($DEBIAN_RELEASE $arch, ${#packages[@]} packages named)" >&2
log=$cache/system-$target.log
start=$SECONDS
hooks=()
for layer in "${layers[@]}"; do
    f=$repo/board/debian/$layer/system.sh
    [ ! -e "$f" ] || hooks+=(--customize-hook="$f \"\$1\" $target")
done
# The system's own times do not depend on the commit being built (the assembly clamps to that):
# the same packages and hooks give the same tarball.
export SOURCE_DATE_EPOCH=1735689600
# ulimit: dpkg and apt crawl under qemu-user with a huge open-files limit.
ulimit -n 1024
rm -f "$tar.tmp"
# --essential-hook: no documentation (the copyright files stay); the initramfs is not built per
# package (the board's layer builds it once, with the root complete: 2 minutes under emulation);
# force-confold keeps that setting over initramfs-tools' own conffile until the layer turns it on.
if ! mmdebstrap --mode=root --format=tar --arch="$arch" --variant=essential --components=main,non-free-firmware \
    --include="$(IFS=,; echo "${packages[*]}")" \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --dpkgopt=force-confold --dpkgopt=force-confdef \
    --essential-hook='mkdir -p "$1/etc/initramfs-tools" && echo update_initramfs=no >"$1/etc/initramfs-tools/update-initramfs.conf"' \
    --setup-hook='mkdir -p "$1/var/cache/apt/archives"' --setup-hook="sync-in $debs /var/cache/apt/archives/" \
    --customize-hook="sync-out /var/cache/apt/archives $debs" \
    "${hooks[@]}" \
    --customize-hook='rm -f "$1"/var/cache/apt/archives/*.deb' \
    --customize-hook="dpkg-query --admindir=\"\$1/var/lib/dpkg\" -W -f='\${Package} \${Version} \${Architecture}\n' >\"$tar.packages.tmp\"" \
    --skip=download/empty \
    "$DEBIAN_RELEASE" "$tar.tmp" "$DEBIAN_MIRROR" >"$log" 2>&1; then
    rm -f "$tar.tmp" "$tar.packages.tmp"
    "$here/explain-failure.sh" "$log" "$target" "${layers[@]}" >&2
    exit 1
fi
"$here/deb-cache.sh" record "$debs" "$DEBIAN_RELEASE" "$arch" "$tar.packages.tmp"
mv "$tar.packages.tmp" "$tar.packages"
mv "$tar.tmp" "$tar"
# Older systems of this target are dead weight (several hundred MB each).
find "$cache" -maxdepth 1 -name "system-$target-*.tar" ! -name "${tar##*/}" -delete
find "$cache" -maxdepth 1 -name "system-$target-*.tar.packages" ! -name "${tar##*/}.packages" -delete
echo "system.sh: $target: built in $((SECONDS - start)) s: $(wc -l <"$tar.packages") packages, $(du -m "$tar" | cut -f1) MB" >&2
echo "$tar"
