#!/usr/bin/env bash
# Makes a release an operator can use: the images (scripts/build-image.sh), SHA256SUMS, and a
# Raspberry Pi Imager repository file, so the operator adds the repository in Imager (App
# Options, Content Repository, or `rpi-imager --repo URL`) and picks o4send like any other OS.
#   release.sh [--base-url URL]
# writes into output/release/<version>/ (O4SEND_RELEASE_OUT to change):
#   o4send-<version>-pi.img.xz, o4send-<version>-pc.img.xz, SHA256SUMS,
#   o4send-<version>-pi.raucb (the Pi's signed system update, scripts/image/bundle.sh),
#   o4send-<version>-<target>.packages (the Debian packages in each image),
#   o4send-<version>-windows-x86_64.exe, -macos-arm64, -macos-x86_64 (the fleet tool for laptops:
#   bundle, passwd, config check, report; scripts/build-fleet-tool.sh),
#   o4send.rpi-imager.json (the repository: one entry, the Pi image), o4send.png (its icon)
# URL is where these files will be published (the repository file names the image and the icon
# there); without it they point at this folder (file://), which suits a test on this machine.
# Root only, as build-image.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

base_url=
case ${1:-} in
--base-url) base_url=${2:?--base-url needs a URL} ;;
'') ;;
*) echo "release.sh: usage: release.sh [--base-url URL]" >&2; exit 2 ;;
esac
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
out=${O4SEND_RELEASE_OUT:-$repo/output/release/$version}
images=${O4SEND_IMAGE_OUT:-$repo/output/images}

scripts/build-image.sh pi pc
mkdir -p "$out"
for t in pi pc; do
    cp "$images/o4send-$version-$t.img.xz" "$images/o4send-$version-$t.img.packages" "$out/"
done
# The Pi's system update (issue 25): what a box already in the field installs from a stick.
scripts/image/bundle.sh pi "$images/o4send-$version-pi.img" "$version" "$out/o4send-$version-pi.raucb"
scripts/build-fleet-tool.sh "$out" "$version"
(cd "$out" && sha256sum o4send-"$version"-*.img.xz o4send-"$version"-*.raucb o4send-"$version"-windows-* \
    o4send-"$version"-macos-* >SHA256SUMS)
[ -n "$base_url" ] || base_url=file://$out/
python3 scripts/image/imager-json.py --version "$version" --base-url "$base_url" \
    --image "$images/o4send-$version-pi.img" --xz "$out/o4send-$version-pi.img.xz" \
    --date "$(date -u -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}" +%F)" \
    --icon "$out/o4send.png" >"$out/o4send.rpi-imager.json"
echo "release.sh: $out: $(cd "$out" && echo *)"
echo "release.sh: in Raspberry Pi Imager: App Options, Content Repository, ${base_url}o4send.rpi-imager.json"
