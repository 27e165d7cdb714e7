#!/usr/bin/env bash
# Runs every o4send test, installing what the tests need on a fresh Debian machine:
#   - openobex-apps (OpenOBEX's own OBEX server, for the interop test), mariadb-server (the
#     sync tests start a throwaway MariaDB on loopback), galera-4 and rsync (and a three-node
#     Galera cluster, whose nodes rejoin by rsync state transfer), systemd (systemd-analyze rates the
#     shipped unit's sandbox, tests/service.rs), minisign (bundles signed by Debian's
#     minisign must import) and chromium (the dashboard tests drive a real headless Chromium
#     over the DevTools protocol, tests/common/browser.rs), zbar-tools (the poster test decodes its
#     QR codes with zbarimg), with apt-get when root;
#   - the Rust 1.88 toolchain (Buildroot 2026.02 LTS's compiler), to prove the crate builds on it;
#   - crates, with cargo (Cargo.lock is committed; --locked everywhere);
#   - shellcheck, and for the Buildroot checks python3-magic and python3-flake8;
#   - for the image checks genimage, mtools, dosfstools, jq (tests/genimage-selftest.sh), with
#     apt-get when root; the images' own tools (mmdebstrap, QEMU, OVMF, qemu-user for arm64) are
#     installed by scripts/image/host-tools.sh.
# As root (and always under CI=true) it builds both images from Debian's packages
# (scripts/build-image.sh: the Debian system cached in /var/cache/o4send-image by its inputs),
# boots each in QEMU (scripts/image/boot-test.py) and checks the build's refusals
# (tests/image-errors-selftest.sh).
# It ends with the VM rig (scripts/vm-test.sh: real BlueZ against emulated phones; root; skipped
# only with O4SEND_SKIP_VM=1) and the checks of the image's Buildroot tree, offline, against every
# Buildroot release archived in ../shared/buildroot/ (the folder beside this checkout; each
# archive is unpacked once into a cache keyed by its SHA-256: /var/cache/o4send-buildroot as
# root, else $XDG_CACHE_HOME/o4send-buildroot) and against BUILDROOT_DIR=<a Buildroot checkout>
# when set.
# Ends with one line "test.sh: N passed, M failed, K skipped" and a non-zero exit if anything
# failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

MSRV=1.88
passed=0
failed=0
skipped=0
failures=()

# Runs one step and says how long it took (docs/benchmarks.md keeps CI's costs from these lines).
step() {
    local name=$1 start=$SECONDS
    shift
    echo "=== test.sh: $name"
    if "$@"; then
        passed=$((passed + 1))
        echo "=== test.sh: $name: ok in $((SECONDS - start)) s"
    else
        failed=$((failed + 1))
        failures+=("$name")
        echo "=== test.sh: $name FAILED after $((SECONDS - start)) s"
        disk_note
    fi
}

# A full run writes about 12 GB (build trees, images, the boot tests' copies): a disk that fills
# up fails every later step with ENOSPC, so the cause is said once, plainly.
free_gb() {
    df --output=avail -B1G "$1" | tail -1 | tr -d ' '
}

disk_note() {
    local free
    free=$(free_gb .)
    [ "$free" -ge 2 ] || echo "=== test.sh: the disk is full ($free GB free here): later steps will fail too"
}

skip() {
    echo "=== test.sh: $1: skipped ($2)"
    skipped=$((skipped + 1))
}

install_debian_packages() {
    local missing=()
    command -v obex_test >/dev/null || missing+=(openobex-apps)
    command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
    [ -e /usr/lib/galera/libgalera_smm.so ] || missing+=(galera-4)
    command -v rsync >/dev/null || missing+=(rsync)
    command -v systemd-analyze >/dev/null || missing+=(systemd)
    command -v minisign >/dev/null || missing+=(minisign)
    command -v chromium >/dev/null || missing+=(chromium)
    command -v zbarimg >/dev/null || missing+=(zbar-tools)
    command -v shellcheck >/dev/null || missing+=(shellcheck)
    command -v fw_printenv >/dev/null || missing+=(libubootenv-tool)
    command -v wpa_supplicant >/dev/null || [ -x /usr/sbin/wpa_supplicant ] || missing+=(wpasupplicant)
    command -v rauc >/dev/null || missing+=(rauc)
    command -v mksquashfs >/dev/null || missing+=(squashfs-tools)
    command -v openssl >/dev/null || missing+=(openssl)
    [ -x /usr/lib/wine/wine64 ] || command -v wine64 >/dev/null || missing+=(wine64)
    command -v ssh-keygen >/dev/null && command -v ssh >/dev/null || missing+=(openssh-client)
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "test.sh: missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
        return 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_msrv_toolchain() {
    rustup toolchain list | grep -q "^$MSRV" || rustup toolchain install "$MSRV" --profile minimal
}

release_clippy() {
    # The image's binary is built without the test-only fault injection (the tests turn it on
    # through a dev-dependency): lint that build too.
    cargo clippy --locked --lib --bins -- -D warnings
}

unit_exposure() {
    # The shipped unit's sandbox by systemd's own measure; the test also prints the figure.
    systemd-analyze security --offline=true --threshold=20 --no-pager \
        --root=board/common/rootfs-overlay o4send.service | tail -1
}

msrv_build() {
    # Its own target dir, so the two compilers do not rebuild each other's artefacts. What
    # Buildroot builds: the library and the binary (the tests, which never ship, took 6.7 GB and
    # most of the time: 40 more binaries to link).
    CARGO_TARGET_DIR=target/msrv cargo "+$MSRV" build --locked --lib --bins
}

bench_smoke() {
    # The benchmark runs end to end on a small hall; figures for docs/benchmarks.md come from
    # a release build with the full sizes (see docs/benchmarks.md).
    cargo run --locked --quiet -- bench --phones 30 --sightings 5000
    cargo run --locked --quiet -- bench report --attempts 2000 --visits 4000 --phones 300
    cargo run --locked --quiet -- bench siege --logins 2 --idle 100 --slow 20 --secs 2
}

shellcheck_image_scripts() {
    shellcheck scripts/build-image.sh scripts/build-buildroot.sh scripts/release.sh scripts/image/*.sh \
        scripts/build-static.sh scripts/build-fleet-tool.sh scripts/flash.sh scripts/validate-buildroot.sh scripts/test.sh scripts/fuzz.sh \
        board/common/*.sh board/debian/*/*.sh tests/*.sh board/common/image-overlay/usr/lib/o4send/* \
        board/common/rootfs-overlay/usr/lib/o4send/usb-import board/common/rootfs-overlay/usr/lib/o4send/usb-gadget \
        board/debian/pi/rauc/rauc-bootloader
}

# Both images, from this checkout; the VM rig then boots the pc image this run built.
images_built=
build_images() {
    scripts/release.sh || return 1
    images_built=${O4SEND_IMAGE_OUT:-$PWD/output/images}
}

release_check() {
    local version
    version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
    python3 tests/imager-repo-check.py "${O4SEND_RELEASE_OUT:-output/release/$version}" "${O4SEND_IMAGE_OUT:-output/images}"
}

# The fleet tool release.sh built for laptops: the Windows build run under Wine against the Linux
# build (tests/windows-tool.sh), the macOS builds linked as Mach-O for their CPUs.
fleet_tool_check() {
    local version dir
    version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
    dir=${O4SEND_RELEASE_OUT:-output/release/$version}
    file -b "$dir/o4send-$version-macos-arm64" | grep -q '^Mach-O 64-bit arm64 executable' || return 1
    file -b "$dir/o4send-$version-macos-x86_64" | grep -q '^Mach-O 64-bit x86_64 executable' || return 1
    cargo build --locked -q --bin o4send &&
        tests/windows-tool.sh "$dir/o4send-$version-windows-x86_64.exe" "${CARGO_TARGET_DIR:-target}/debug/o4send"
}

# The images boot under TCG, two guests at a time on two cores: the Pi image on QEMU's generic
# arm64 machine, where it also takes its system updates from virtual USB sticks (a tampered one,
# one that never gets healthy and falls back, a good one through two power cuts: update-test.py);
# beside it the PC image under UEFI, as a card whose first growth a power cut interrupted after
# the partition table; then, alone, the Pi image on QEMU's Raspberry Pi 3B. Its four emulated
# cores share two with nothing: beside two other guests its first boot ran past systemd's 90 s
# device timeouts, and beside the update test's guest alone (CI, main 723d882) its kernel had
# not left the initramfs after 232 s and no login prompt came within 900 s. Alone (main
# a3afa6e) its login prompt came 187 s after QEMU started and the whole test took 4 minutes.
image_boot() {
    local version dir pi status=0
    version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
    dir=${O4SEND_IMAGE_OUT:-output/images}
    python3 scripts/image/update-test.py "$dir/o4send-$version-pi.img" >"$dir/update-test-pi.log" 2>&1 &
    pi=$!
    python3 scripts/image/boot-test.py pc "$dir/o4send-$version-pc.img" --cut-after-table >"$dir/boot-test-pc.log" 2>&1 ||
        status=1
    wait "$pi" || status=1
    python3 scripts/image/boot-test.py pi3 "$dir/o4send-$version-pi.img" >"$dir/boot-test-pi3.log" 2>&1 || status=1
    cat "$dir"/update-test-pi.log "$dir"/boot-test-pc.log "$dir"/boot-test-pi3.log
    return "$status"
}

# The Buildroot releases archived beside the checkout (CI has a copy of shared/ beside its clone).
shared_buildroot=$(dirname "$PWD")/shared/buildroot

# unpack_buildroot ARCHIVE: prints the Buildroot tree ARCHIVE holds, unpacked once into the
# cache under the archive's SHA-256 (a half-done unpacking is never used).
unpack_buildroot() {
    local archive=$1 cache sum dir
    if [ "$(id -u)" -eq 0 ]; then
        cache=/var/cache/o4send-buildroot
    else
        cache=${XDG_CACHE_HOME:-$HOME/.cache}/o4send-buildroot
    fi
    sum=$(sha256sum "$archive" | cut -d' ' -f1) || return 1
    dir=$cache/$sum
    if [ ! -e "$dir/.unpacked" ]; then
        rm -rf "$dir.tmp.$$"
        if ! { mkdir -p "$dir.tmp.$$" && tar -xzf "$archive" -C "$dir.tmp.$$" &&
            touch "$dir.tmp.$$/.unpacked" && rm -rf "$dir" && mv "$dir.tmp.$$" "$dir"; }; then
            rm -rf "$dir.tmp.$$"
            return 1
        fi
    fi
    compgen -G "$dir/buildroot-*/Makefile" | head -n 1 | xargs -r dirname
}

static_demo_in_empty_root() {
    # The static x86_64 binary alone in an empty directory: no libc, no /tmp, nothing else.
    scripts/build-static.sh x86_64 || return 1
    local root status
    root=$(mktemp -d)
    cp "${CARGO_TARGET_DIR:-target}/x86_64-unknown-linux-musl/release/o4send" "$root/"
    chroot "$root" /o4send demo --phones 50 --seed 7 --db /demo.db | grep -E '^(o4send demo|total)'
    status=${PIPESTATUS[0]}
    rm -rf "$root"
    return "$status"
}

static_aarch64_under_qemu() {
    scripts/build-static.sh aarch64 || return 1
    command -v qemu-aarch64-static >/dev/null ||
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-user-static >/dev/null ||
        return 1
    local dir status
    dir=$(mktemp -d)
    qemu-aarch64-static "${CARGO_TARGET_DIR:-target}/aarch64-unknown-linux-musl/release/o4send" \
        demo --phones 50 --seed 7 --db "$dir/demo.db" | grep -E '^(o4send demo|total)'
    status=${PIPESTATUS[0]}
    rm -rf "$dir"
    return "$status"
}

# A fresh clone's build tree, cached under /var/cache by its inputs (Cargo.lock and the compiler)
# as the images are: a warm machine rebuilds o4send alone, not its 300 dependencies. A checkout
# with a target/ of its own keeps it; other keys are removed, so the cache holds one tree.
cached_build_tree() {
    local base=/var/cache/o4send-cargo key
    [ ! -e target ] && [ "$(id -u)" -eq 0 ] || return 0
    key=$({ cat Cargo.lock; rustc -V; } | sha256sum | cut -c1-16)
    mkdir -p "$base/$key" || return 0
    find "$base" -mindepth 1 -maxdepth 1 ! -name "$key" -exec rm -rf {} +
    ln -s "$base/$key" target && echo "=== test.sh: build tree: target -> $base/$key"
}

cached_build_tree
echo "=== test.sh: $(free_gb .) GB free for the build, $(free_gb /var/tmp) GB for the images (a run writes about 12 GB)"
step "install Debian packages" install_debian_packages
step "install Rust $MSRV" install_msrv_toolchain
step "cargo fmt --check" cargo fmt --all -- --check
step "cargo clippy -D warnings" cargo clippy --locked --all-targets -- -D warnings
step "cargo clippy (release features) -D warnings" release_clippy
step "cargo test" cargo test --locked
step "fuzz: a short run of every target" scripts/fuzz.sh
step "systemd-analyze security o4send.service <= 2.0" unit_exposure
step "build with Rust $MSRV" msrv_build
step "bench smoke run" bench_smoke
step "shellcheck image scripts" shellcheck_image_scripts
if [ "$(id -u)" -eq 0 ]; then
    step "flash.sh refusals and a write on loop devices" tests/flash-selftest.sh
else
    skip "flash.sh on loop devices" "needs root"
fi
step "genimage: the SD card from genimage.cfg, post-build/post-fakeroot/post-image.sh (every board)" \
    tests/genimage-selftest.sh
if [ "$(id -u)" -eq 0 ]; then
    step "static x86_64 o4send: demo in an empty chroot" static_demo_in_empty_root
else
    skip "static x86_64 o4send in an empty chroot" "needs root"
fi
if [ "${O4SEND_STATIC_AARCH64:-}" = 1 ]; then
    step "static aarch64 o4send: demo under qemu-aarch64-static" static_aarch64_under_qemu
else
    skip "static aarch64 o4send: demo under qemu-aarch64-static" "O4SEND_STATIC_AARCH64 not 1 (the Pi image's build makes the binary)"
fi
# The images (root: mmdebstrap, chroot, binfmt_misc, loop-free assembly); under CI they run (and
# fail) whatever the user.
if [ "$(id -u)" -eq 0 ] || [ "${CI:-}" = true ]; then
    step "image: scripts/release.sh (build-image.sh pi pc, from Debian's packages; the Imager repository)" build_images
    step "image: the Imager repository names the images as built (sizes, SHA-256, devices)" release_check
    step "fleet tool: Windows build under Wine (passwd, bundle keygen/create, config check, report) against the Linux build; macOS builds linked" \
        fleet_tool_check
    step "image: both boot in QEMU (pi on virt and raspi3b, pc on UEFI): setup, READY, watchdogs, dashboard, read-only root, growth, reboot; the pi's system updates from USB sticks: refused, fallen back, kept through power cuts" \
        image_boot
    step "image: a build's refusals name their cause (missing package, foreign or damaged cache, full disk)" \
        tests/image-errors-selftest.sh
else
    skip "image: build, boot and refusals" "needs root"
fi
# Real BlueZ in QEMU guests against emulated phones, the appliance running the pc image (about 11
# minutes on two cores; needs root, installs qemu/debootstrap/mtools, caches its base image in
# /var/cache/o4send-vm).
# Without root it fails and says why; O4SEND_SKIP_VM=1 skips it.
if [ "${O4SEND_SKIP_VM:-0}" = 1 ]; then
    skip "VM rig (scripts/vm-test.sh)" "O4SEND_SKIP_VM=1"
else
    # The rig's appliance boots the pc image this run built (else it builds it itself).
    if [ -n "$images_built" ]; then
        O4SEND_VM_IMAGE=$images_built/o4send-$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)-pc.img
        export O4SEND_VM_IMAGE
    fi
    step "VM rig: the pc image against emulated phones: BlueZ, Wi-Fi, watchdog, USB import, hotspot" scripts/vm-test.sh
fi
# The image's Buildroot tree against every archived release (about a minute each on two cores),
# the validator's own selftest against the release build-buildroot.sh pins (or the last one).
if compgen -G "$shared_buildroot/buildroot-*.tar.gz" >/dev/null; then
    pinned=buildroot-$(sed -n 's/^BR_VERSION=//p' scripts/build-buildroot.sh)
    selftest_tree=
    for archive in "$shared_buildroot"/buildroot-*.tar.gz; do
        release=$(basename "$archive" .tar.gz)
        if ! tree=$(unpack_buildroot "$archive") || [ -z "$tree" ]; then
            step "unpack $release" false
            continue
        fi
        step "validate-buildroot.sh: $release (../shared/buildroot)" scripts/validate-buildroot.sh "$tree"
        if [ -z "$selftest_tree" ] || [ "$release" = "$pinned" ]; then selftest_tree=$tree; fi
    done
    if [ -n "$selftest_tree" ]; then
        step "validate-buildroot.sh catches a misspelt symbol ($(basename "$selftest_tree"))" \
            tests/validate-buildroot-selftest.sh "$selftest_tree"
    fi
else
    skip "validate-buildroot.sh against ../shared/buildroot" "no $shared_buildroot/buildroot-*.tar.gz"
fi
if [ -n "${BUILDROOT_DIR:-}" ]; then
    step "validate-buildroot.sh $BUILDROOT_DIR" scripts/validate-buildroot.sh "$BUILDROOT_DIR"
    step "validate-buildroot.sh catches a misspelt symbol" tests/validate-buildroot-selftest.sh "$BUILDROOT_DIR"
else
    skip "validate-buildroot.sh against BUILDROOT_DIR" "BUILDROOT_DIR not set"
fi

if [ "$failed" -gt 0 ]; then
    echo "test.sh: failed steps: ${failures[*]}"
fi
echo "test.sh: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
