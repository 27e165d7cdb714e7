#!/usr/bin/env python3
"""A visitor's phone on the hotspot (rig scenario w), run inside the visitor's network namespace
after visitor.sh joined and took a lease: it asks the network's DNS for the names Android, Apple
and Windows probe, runs each probe as the phone's OS does (no redirects followed), opens the page
the probe was sent to, takes every item the page offers, and tries what a visitor must not reach
(the dashboard's port on the appliance, another visitor's phone). Prints one JSON object."""
import argparse, hashlib, http.client, json, os, random, re, socket, struct, urllib.parse
from dnswire import a_records

PROBES = [  # (who, host, path)
    ("android", "connectivitycheck.gstatic.com", "/generate_204"),
    ("apple", "captive.apple.com", "/hotspot-detect.html"),
    ("windows", "www.msftconnecttest.com", "/connecttest.txt"),
]
UA = "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131 Mobile"


def resolve(server, name):
    """The A records the DNS server at `server` gives for `name` (one query over UDP)."""
    qid = random.randrange(65536)
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0" + struct.pack(">HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.sendto(q, (server, 53))
    msg = s.recv(4096)
    rid = struct.unpack(">H", msg[:2])[0]
    if rid != qid:
        raise ValueError("DNS answer for another query")
    return a_records(msg)


def get(ip, host, path):
    c = http.client.HTTPConnection(ip, 80, timeout=15)
    c.request("GET", path, headers={"Host": host, "User-Agent": UA, "Accept-Language": "en"})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), body


def reach(ip, port):
    """'reached' or why not."""
    try:
        socket.create_connection((ip, port), timeout=5).close()
        return "reached"
    except OSError as e:
        return type(e).__name__ + ": " + str(e)


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--dns", required=True)
    a.add_argument("--out", required=True)
    a.add_argument("--dashboard", type=int, nargs="+", default=[8443, 8080],
                   help="the dashboard's ports (HTTPS, plain HTTP)")
    a.add_argument("--other", help="IP:PORT of another visitor's listener")
    a.add_argument("--uplink", help="IP:PORT of a listener behind the box's uplink")
    a.add_argument("--no-items", action="store_true", help="open the page only")
    args = a.parse_args()
    os.makedirs(args.out, exist_ok=True)
    res = {"dns": {}, "probes": {}, "items": []}
    for who, host, path in PROBES:
        res["dns"][host] = resolve(args.dns, host)
        ip = res["dns"][host][0]
        status, headers, _ = get(ip, host, path)
        res["probes"][who] = {"status": status, "location": headers.get("location")}
    page = res["probes"]["android"]["location"]
    u = urllib.parse.urlsplit(page)
    status, headers, body = get(res["dns"]["connectivitycheck.gstatic.com"][0], u.netloc, u.path or "/")
    res["page"] = {"url": page, "status": status, "type": headers.get("content-type"), "bytes": len(body)}
    with open(os.path.join(args.out, "page.html"), "wb") as f:
        f.write(body)
    if not args.no_items:
        for href in sorted(set(re.findall(rb'href="(/save/[^"]+)"', body))):
            path = href.decode()
            st, h, data = get(u.hostname, u.netloc, path)
            res["items"].append({
                "path": path, "status": st, "type": h.get("content-type"),
                "disposition": h.get("content-disposition"), "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            })
    # "reached" when any of the dashboard's ports answered, else why the first did not.
    tries = [reach(u.hostname, port) for port in args.dashboard]
    res["dashboard"] = "reached" if "reached" in tries else tries[0]
    if args.other:
        ip, port = args.other.rsplit(":", 1)
        res["other_visitor"] = reach(ip, int(port))
    if args.uplink:
        ip, port = args.uplink.rsplit(":", 1)
        res["uplink"] = reach(ip, int(port))
    print(json.dumps(res))


main()
