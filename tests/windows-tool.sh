#!/usr/bin/env bash
# The fleet tool's Windows build (release.sh: o4send-<version>-windows-x86_64.exe) under Wine, as
# a stand owner's Windows laptop runs it: a password hash, a signing key, a signed stick, a check
# of o4send.toml as Notepad saves it, and a day's report; the Linux build (the box's own code)
# then takes what it made. Debian 12's Wine 8.0 lacks bcryptprimitives.dll, which every Windows
# 10 and 11 has and Rust's standard library asks for random bytes: tests/wine/bcryptprimitives.c
# gives it that one function, beside the .exe here only.
#   windows-tool.sh EXE LINUX_O4SEND
set -euo pipefail
exe=$(realpath "${1:?usage: windows-tool.sh EXE LINUX_O4SEND}")
linux=$(realpath "${2:?usage: windows-tool.sh EXE LINUX_O4SEND}")
here=$(cd "$(dirname "$0")" && pwd)
wine=$(command -v wine64 || command -v wine || echo /usr/lib/wine/wine64)
if [ ! -x "$wine" ]; then
    [ "${CI:-}" != true ] || { echo "windows-tool: FAIL: Wine is missing (scripts/test.sh installs wine64)" >&2; exit 1; }
    echo "windows-tool: SKIPPED: no Wine (apt-get install wine64)"
    exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export WINEPREFIX=$work/prefix WINEDEBUG=-all
fail() { echo "windows-tool: FAIL: $*" >&2; exit 1; }
cd "$work"
cp "$exe" o4send.exe
x86_64-w64-mingw32-gcc -O2 -shared -o bcryptprimitives.dll "$here/wine/bcryptprimitives.c" -ladvapi32 ||
    fail "cannot build the ProcessPrng shim (gcc-mingw-w64-x86-64-posix)"
win() { "$wine" o4send.exe "$@" 2>&1 | tr -d '\r'; }
"$wine" wineboot --init >/dev/null 2>&1 || fail "Wine could not make its prefix"

v=$(win --version) || fail "--version: $v"
[[ $v == "o4send "* ]] || fail "--version: $v"

hash=$(printf 'booth seven pw\n' | win passwd)
ok=$(python3 -c 'import ctypes, sys
c = ctypes.CDLL("libcrypt.so.1"); c.crypt.restype = ctypes.c_char_p
h = sys.argv[2].encode(); print(c.crypt(sys.argv[1].encode(), h) == h)' 'booth seven pw' "$hash")
[ "$ok" = True ] || fail "passwd: '$hash' is not a crypt hash of the password (libxcrypt)"

win bundle keygen --unencrypted >keygen.txt || fail "bundle keygen: $(cat keygen.txt)"
key=$(sed -n 's/^trusted_keys = \["\(.*\)"\]$/\1/p' keygen.txt)
mkdir files stick
printf '%%PDF-1.4 spring fair flyer\n' >files/flyer.pdf
win bundle create --from files --to stick --key o4send.key --name "Spring fair" >create.txt ||
    fail "bundle create: $(cat create.txt)"
verified=$("$linux" bundle verify --pub o4send.pub stick 2>&1) || fail "the Linux build refuses the Windows stick: $verified"

printf '\xef\xbb\xbf[appliance]\r\nsender_name = "Caf\xc3\xa9 7"\r\ntime_zone = "Europe/Berlin"\r\n\r\n[console]\r\npassword_hash = "%s"\r\n\r\n[bundle]\r\ntrusted_keys = ["%s"]\r\n' \
    "$hash" "$key" >o4send.toml
checked=$(win config check o4send.toml) || fail "config check of Notepad's o4send.toml: $checked"
linux_checked=$("$linux" config check o4send.toml 2>&1) || fail "the Linux build refuses the same file: $linux_checked"
printf '[policy]\r\nmin_rssi = 40\r\n' >broken.toml
rc=0
broken=$(win config check broken.toml) || rc=$?
if [ "$rc" != 78 ] || [[ $broken != *"policy.min_rssi = 40"* ]]; then
    fail "config check of a broken file: exit $rc: $broken"
fi

"$linux" demo --phones 40 --db demo.db >/dev/null
"$linux" report --db demo.db --html linux.html >/dev/null
day=$(win report --db demo.db --html windows.html) || fail "report: $day"
cmp -s linux.html windows.html || fail "the Windows report differs from the Linux one"

echo "windows-tool: ok: $v under $("$wine" --version): passwd's hash checked by libxcrypt; a stick signed by key $(sed -n 's/.*key ID \([0-9A-F]*\).*/\1/p' keygen.txt | head -1) verified by the Linux build ($verified); Notepad's o4send.toml ok, a broken one exit 78; the report ($day) byte-identical to the Linux build's"
