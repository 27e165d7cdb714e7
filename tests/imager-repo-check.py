#!/usr/bin/env python3
"""Checks the Raspberry Pi Imager repository a release wrote (scripts/release.sh) against the
files themselves, as Imager would: every entry's image and icon exist in the release under the
names its URLs give, the download's size and SHA-256 are the .img.xz's (the release's
SHA256SUMS), the extracted size and SHA-256 are the raw image's (build-image.sh's SHA256SUMS, and
the .xz really unpacks to it), the devices are Imager's tags for the boards the image serves, the
date is a date, the icon a PNG, and no customisation format is claimed that the image does not
honour. Usage: imager-repo-check.py RELEASE_DIR IMAGES_DIR. Prints one line per check."""
import json
import lzma
import os
import re
import sys

DEVICES = {"pi3-64bit", "pi4-64bit"}
failed = False


def check(name, ok, detail=""):
    global failed
    print(f"imager-repo-check: {'ok' if ok else 'FAILED'}: {name}{'' if ok else ': ' + detail}")
    failed |= not ok


def sums(path):
    out = {}
    with open(path) as f:
        for line in f:
            digest, name = line.split()
            out[name.lstrip("*")] = digest
    return out


def main():
    release, images = sys.argv[1], sys.argv[2]
    repo = json.load(open(os.path.join(release, "o4send.rpi-imager.json")))
    released, built = sums(os.path.join(release, "SHA256SUMS")), sums(os.path.join(images, "SHA256SUMS"))
    entries = repo.get("os_list", [])
    check("one entry in os_list", len(entries) == 1, str(entries)[:200])
    for e in entries:
        xz = os.path.basename(e["url"])
        raw = xz[:-3]
        check(f"{xz}: in the release and its SHA256SUMS", os.path.exists(os.path.join(release, xz)) and xz in released)
        check(f"{xz}: image_download_size", e["image_download_size"] == os.path.getsize(os.path.join(release, xz)))
        check(f"{xz}: image_download_sha256", e["image_download_sha256"] == released.get(xz))
        check(f"{raw}: extract_sha256 is the built image's", e["extract_sha256"] == built.get(raw),
              f"{e['extract_sha256']} vs {built.get(raw)}")
        size = 0
        with lzma.open(os.path.join(release, xz)) as f:
            for block in iter(lambda: f.read(1 << 24), b""):
                size += len(block)
        check(f"{raw}: extract_size is what the .xz unpacks to", e["extract_size"] == size, f"{e['extract_size']} vs {size}")
        check("devices: Imager's tags of the Pi 3, Zero 2 W, Pi 4 and 400", set(e["devices"]) == DEVICES, str(e["devices"]))
        check("release_date", re.fullmatch(r"\d{4}-\d\d-\d\d", e["release_date"]) is not None, e["release_date"])
        icon = os.path.join(release, os.path.basename(e["icon"]))
        check("icon: a PNG in the release", os.path.exists(icon) and open(icon, "rb").read(8) == b"\x89PNG\r\n\x1a\n")
        check("init_format cloudinit (the form's answers, read by o4send setup)", e.get("init_format") == "cloudinit", str(e.get("init_format")))
        check("url and icon share the release's base URL", e["url"].rsplit("/", 1)[0] == e["icon"].rsplit("/", 1)[0])
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
