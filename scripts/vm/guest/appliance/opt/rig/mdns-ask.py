#!/usr/bin/env python3
"""Rig scenario s: asks the link's mDNS responders for NAME.local's IPv4 address, as a laptop on
the hall's Wi-Fi does, from the interface whose address is FROM (run it inside that namespace).
Prints the address and exits 0, or exits 1 after WAIT seconds without an answer.
    mdns-ask.py NAME FROM [WAIT]"""
import socket, struct, sys, time

name, src = sys.argv[1], sys.argv[2]
wait = float(sys.argv[3]) if len(sys.argv) > 3 else 8
GROUP, PORT = "224.0.0.251", 5353

def question(host):
    labels = b"".join(bytes([len(p)]) + p.encode() for p in (host + ".local").split("."))
    # id 0, no flags, one question: type A, class IN with the unicast-response bit
    return struct.pack(">6H", 0, 0, 1, 0, 0, 0) + labels + b"\0" + struct.pack(">2H", 1, 0x8001)

def skip_name(data, i):
    while data[i]:
        if data[i] & 0xC0 == 0xC0:
            return i + 2
        i += data[i] + 1
    return i + 1

def answers(data):
    """The IPv4 addresses in the reply's answer and additional records."""
    _, flags, qd, an, ns, ar = struct.unpack(">6H", data[:12])
    if not flags & 0x8000:
        return []
    i = 12
    for _ in range(qd):
        i = skip_name(data, i) + 4
    found = []
    for _ in range(an + ns + ar):
        i = skip_name(data, i)
        rtype, _, _, rdlen = struct.unpack(">2HIH", data[i:i + 10])
        i += 10
        if rtype == 1 and rdlen == 4:
            found.append(socket.inet_ntoa(data[i:i + 4]))
        i += rdlen
    return found

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", PORT))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(GROUP) + socket.inet_aton(src))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(src))
s.settimeout(1)
deadline = time.monotonic() + wait
while time.monotonic() < deadline:
    s.sendto(question(name), (GROUP, PORT))
    try:
        while True:
            data, _ = s.recvfrom(9000)
            got = answers(data)
            if got:
                print(got[0])
                sys.exit(0)
    except socket.timeout:
        pass
sys.exit("no mDNS answer for %s.local within %g s" % (name, wait))
