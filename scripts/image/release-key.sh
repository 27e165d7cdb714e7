#!/usr/bin/env bash
# release-key.sh: prints the directory holding the release certificate (cert.pem, which the image
# trusts for system bundles) and its key (key.pem, which signs them). O4SEND_RELEASE_KEY_DIR names
# the real release's; without it, a development key is made once in the image cache and kept
# (its certificate says so: a box built with it takes bundles from that machine only).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/image/common.sh
. "$here/common.sh"

dir=${O4SEND_RELEASE_KEY_DIR:-$(image_cache)/release-key-development}
if [ -z "${O4SEND_RELEASE_KEY_DIR:-}" ] && [ ! -f "$dir/cert.pem" ]; then
    mkdir -p "$dir"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 36500 \
        -subj "/O=o4send/CN=o4send development release key (not for real releases)" \
        -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null || die "openssl could not make a development release key"
    chmod 600 "$dir/key.pem"
fi
[ -f "$dir/cert.pem" ] || die "$dir/cert.pem: no release certificate (O4SEND_RELEASE_KEY_DIR)"
echo "$dir"
