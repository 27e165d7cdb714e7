#!/usr/bin/env python3
"""Prints a Raspberry Pi Imager repository file (its os_list JSON) naming one o4send image, and
writes the entry's icon. Imager checks every field it reads: the sizes and SHA-256 of the file it
downloads and of the image inside it (a wrong value aborts the write), the devices it offers the
image for, the release date.

Usage: imager-json.py --version V --base-url URL --image RAW.img --xz RAW.img.xz --date YYYY-MM-DD
                      --icon OUT.png

"init_format": "cloudinit": Imager offers its OS customisation form (host name, password, Wi-Fi,
country, time zone) and writes the answers as cloud-init's user-data and network-config on the
boot partition, which `o4send setup` reads (src/setup/imager). Every Imager 2.x knows this
format; "rpi-preseed" would hide the entry from Imager before 2.0.11, which prunes entries whose
format it does not know. A release_date of 2023 or later makes Imager hash the password with
yescrypt."""
import argparse
import hashlib
import json
import os
import struct
import zlib

DEVICES = ["pi3-64bit", "pi4-64bit"]  # Imager's tags: Pi 3 and Zero 2 W, Pi 4 and 400


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def icon_png(path, size=64):
    """A blue disc with a white Bluetooth rune: drawn here, so the release needs no image tools."""
    def seg_dist(px, py, ax, ay, bx, by):
        dx, dy = bx - ax, by - ay
        t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
        return ((px - ax - t * dx) ** 2 + (py - ay - t * dy) ** 2) ** 0.5

    s = size / 64.0
    rune = [(22, 21, 42, 41), (42, 41, 32, 51), (32, 51, 32, 13), (32, 13, 42, 23), (42, 23, 22, 43)]
    rows = []
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            px, py = x + 0.5, y + 0.5
            r = ((px - size / 2) ** 2 + (py - size / 2) ** 2) ** 0.5
            if r > size / 2:
                row += bytes([0, 0, 0, 0])
            elif min(seg_dist(px, py, *(c * s for c in seg)) for seg in rune) < 2.6 * s:
                row += bytes([255, 255, 255, 255])
            else:
                row += bytes([0, 0x5f, 0xb0, 255])
        rows.append(bytes(row))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def main():
    ap = argparse.ArgumentParser()
    for opt in ("--version", "--base-url", "--image", "--xz", "--date", "--icon"):
        ap.add_argument(opt, required=True)
    a = ap.parse_args()
    base = a.base_url if a.base_url.endswith("/") else a.base_url + "/"
    icon_png(a.icon)
    entry = {
        "name": f"o4send {a.version}",
        "description": "Bluetooth push appliance for expos: offers your flyer to every phone "
                       "nearby, once, and logs every answer. Raspberry Pi 3, 4, 400 and Zero 2 W.",
        "icon": base + os.path.basename(a.icon),
        "url": base + os.path.basename(a.xz),
        "extract_size": os.path.getsize(a.image),
        "extract_sha256": sha256(a.image),
        "image_download_size": os.path.getsize(a.xz),
        "image_download_sha256": sha256(a.xz),
        "release_date": a.date,
        "devices": DEVICES,
        "init_format": "cloudinit",
    }
    print(json.dumps({"os_list": [entry]}, indent=2))


if __name__ == "__main__":
    main()
