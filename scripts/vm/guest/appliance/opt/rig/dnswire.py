"""DNS messages as the rig's phones and laptops read them (visitor.py: the hotspot's DNS;
mdns-ask.py: mDNS): a name skipped, and the IPv4 addresses of a reply's records."""
import socket, struct


def skip_name(msg, i):
    while True:
        n = msg[i]
        if n == 0:
            return i + 1
        if n & 0xC0 == 0xC0:
            return i + 2
        i += 1 + n


def a_records(msg, every_section=False):
    """The A records' addresses: of the answers, or of every section (mDNS puts them anywhere)."""
    _, _, qd, an, ns, ar = struct.unpack(">6H", msg[:12])
    i = 12
    for _ in range(qd):
        i = skip_name(msg, i) + 4
    out = []
    for _ in range(an + (ns + ar if every_section else 0)):
        i = skip_name(msg, i)
        rtype, _, _, rdlen = struct.unpack(">HHIH", msg[i:i + 10])
        i += 10
        if rtype == 1 and rdlen == 4:
            out.append(socket.inet_ntoa(msg[i:i + 4]))
        i += rdlen
    return out
