#!/usr/bin/env bash
# Checks the BR2_EXTERNAL tree (buildroot/) against a Buildroot checkout, offline, without
# building anything:
#   1. every defconfig loads (make BR2_EXTERNAL=buildroot O=<tmp> <name>);
#   2. every BR2_* line of ours, set or "is not set", survives into .config: Kconfig silently
#      drops unknown (misspelt) symbols and symbols whose dependencies are not met;
#   3. every path a defconfig names exists ($(BR2_EXTERNAL_O4SEND_PATH)/... or relative to
#      the Buildroot tree);
#   4. `make show-info` parses our package: version from Cargo.toml, depends on host-rustc;
#   5. utils/check-package is clean on buildroot/ and the board scripts.
#   validate-buildroot.sh BUILDROOT_DIR [NAME_defconfig...]     (default: every defconfig)
# One line per problem, naming the defconfig and the symbol or path; exits 1 if there is any.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
repo=$PWD
ext=$repo/buildroot

die() {
    echo "validate-buildroot: $*" >&2
    exit 2
}

[ $# -ge 1 ] || die "usage: validate-buildroot.sh BUILDROOT_DIR [NAME_defconfig...]"
br=$1
shift
if [ ! -f "$br/Makefile" ] || [ ! -f "$br/Config.in" ] || [ ! -f "$br/utils/check-package" ]; then
    die "$br is not a Buildroot tree (no Makefile, Config.in, utils/check-package)"
fi
br=$(cd "$br" && pwd)
version=$(make -s --no-print-directory -C "$br" print-version 2>/dev/null) ||
    die "make print-version failed in $br"

# check-package needs Python's magic and flake8 modules, and shellcheck for shell scripts.
py=
for p in python3 /usr/bin/python3; do
    "$p" -c 'import magic, flake8' 2>/dev/null && { py=$p; break; }
done
if { [ -z "$py" ] || ! command -v shellcheck >/dev/null; } && [ "$(id -u)" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        python3-magic python3-flake8 shellcheck >/dev/null && py=/usr/bin/python3
fi
if [ -z "$py" ] || ! command -v shellcheck >/dev/null; then
    die "utils/check-package needs python3-magic, python3-flake8 and shellcheck (apt-get install them)"
fi

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    for f in "$ext"/configs/*_defconfig; do names+=("$(basename "$f")"); done
fi
cargo_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$repo/Cargo.toml" | head -n 1)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
problems=0
lines=0
paths=0
problem() {
    echo "validate-buildroot: $*"
    problems=$((problems + 1))
}

for name in "${names[@]}"; do
    defconfig=$ext/configs/$name
    [ -f "$defconfig" ] || { problem "$name: no such file $defconfig"; continue; }
    out=$work/$name
    if ! make -C "$br" BR2_EXTERNAL="$ext" O="$out" "$name" >"$out.log" 2>&1; then
        problem "$name: make $name failed: $(grep -v '^make' "$out.log" | tail -n 1)"
        continue
    fi
    config=$out/.config

    while IFS= read -r line; do
        case $line in
        BR2_*=*)
            sym=${line%%=*}
            lines=$((lines + 1))
            grep -qxF -- "$line" "$config" && continue
            have=$(grep -E "^$sym=|^# $sym is not set" "$config")
            problem "$name: $line was dropped by Kconfig (${have:-unknown symbol, misspelt, or unmet dependency}${have:+ is what .config has})"
            ;;
        "# BR2_"*" is not set")
            sym=${line#\# }
            sym=${sym%% *}
            lines=$((lines + 1))
            grep -qxF -- "$line" "$config" && continue
            have=$(grep -E "^$sym=" "$config")
            problem "$name: $line was dropped by Kconfig (${have:-unknown symbol, misspelt, or unmet dependency}${have:+ is what .config has})"
            ;;
        esac
    done <"$defconfig"

    # Paths: every word with a slash in a string value, except download locations and device
    # tree names (those are paths inside the kernel source).
    while IFS= read -r line; do
        sym=${line%%=*}
        case $sym in *_DTS_NAME) continue ;; esac
        value=${line#*=\"}
        value=${value%\"}
        # shellcheck disable=SC2016 # a literal $(call ...) / $(BR2_EXTERNAL_O4SEND_PATH)
        case $value in *'$(call'* | *://*) continue ;; esac
        for word in $value; do
            case $word in */*) ;; *) continue ;; esac
            # shellcheck disable=SC2016
            path=${word//'$(BR2_EXTERNAL_O4SEND_PATH)'/$ext}
            case $path in /*) ;; *) path=$br/$path ;; esac
            paths=$((paths + 1))
            [ -e "$path" ] || problem "$name: $sym names $word, which does not exist ($path)"
        done
    done < <(grep -E '^BR2_[A-Z0-9_]+="' "$defconfig")

    if ! make -s --no-print-directory -C "$br" O="$out" show-info >"$out.json" 2>"$out.err"; then
        problem "$name: make show-info failed: $(tail -n 1 "$out.err")"
        continue
    fi
    verdict=$("$py" - "$out.json" "$cargo_version" <<'EOF'
import json, sys
info = json.load(open(sys.argv[1]))
pkg = info.get("o4send")
if pkg is None:
    print("o4send is not among its packages")
elif pkg.get("version") != sys.argv[2]:
    print(f"o4send's version is {pkg.get('version')!r}, Cargo.toml says {sys.argv[2]!r}")
elif "host-rustc" not in pkg.get("dependencies", []):
    print("o4send does not depend on host-rustc")
EOF
    ) || verdict="its output is not JSON"
    [ -z "$verdict" ] || problem "$name: make show-info: $verdict"
done

# check-package: the external tree and the board scripts (shellcheck runs on those).
mapfile -t files < <(cd "$repo" && find buildroot board/common -maxdepth 3 -type f \
    \( -name '*.mk' -o -name 'Config.in' -o -name '*_defconfig' -o -name '*.hash' -o -name '*.sh' -o -name '*.patch' \) | sort)
if ! (cd "$repo" && "$py" "$br/utils/check-package" -b "${files[@]}") >"$work/check-package.log" 2>&1; then
    while IFS= read -r l; do problem "check-package: $l"; done <"$work/check-package.log"
fi

echo "validate-buildroot: Buildroot $version: ${#names[@]} defconfigs, $lines BR2_ lines, $paths paths, show-info, check-package ($(tail -n 1 "$work/check-package.log")): $problems problems"
[ "$problems" -eq 0 ]
