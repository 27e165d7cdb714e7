#!/usr/bin/env python3
"""Rig scenario s: asks the link's mDNS responders for NAME.local's IPv4 address, as a laptop on
the hall's Wi-Fi does, from the interface whose address is FROM (run it inside that namespace).
Prints the address and exits 0, or exits 1 after WAIT seconds without an answer.
    mdns-ask.py NAME FROM [WAIT]"""
import socket, struct, sys, time
from dnswire import a_records

name, src = sys.argv[1], sys.argv[2]
wait = float(sys.argv[3]) if len(sys.argv) > 3 else 8
GROUP, PORT = "224.0.0.251", 5353

def question(host):
    labels = b"".join(bytes([len(p)]) + p.encode() for p in (host + ".local").split("."))
    # id 0, no flags, one question: type A, class IN with the unicast-response bit
    return struct.pack(">6H", 0, 0, 1, 0, 0, 0) + labels + b"\0" + struct.pack(">2H", 1, 0x8001)

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
            got = a_records(data, every_section=True) if data[2] & 0x80 else []
            if got:
                print(got[0])
                sys.exit(0)
    except socket.timeout:
        pass
sys.exit("no mDNS answer for %s.local within %g s" % (name, wait))
