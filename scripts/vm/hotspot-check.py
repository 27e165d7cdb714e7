#!/usr/bin/env python3
"""Host side of rig scenario w: judges what the two visitor phones saw on the appliance's hotspot
(visitor.py's JSON) against the campaign's files. Prints one summary line, or every fault on one
line and exits 1.
usage: hotspot-check.py VISITOR1.json VISITOR2.json CAMPAIGN_DIR ADDRESS"""
import hashlib, json, mimetypes, os, sys, urllib.parse

v1, v2 = (json.load(open(p)) for p in sys.argv[1:3])
files, addr = sys.argv[3], sys.argv[4]
page = "http://%s/" % addr
bad = []
for name, v in (("visitor 1", v1), ("visitor 2", v2)):
    for host, ips in v["dns"].items():
        if ips != [addr]:
            bad.append("%s: DNS gave %s for %s, want [%s]" % (name, ips, host, addr))
    for who, p in v["probes"].items():
        if p["status"] not in (301, 302, 303, 307) or p["location"] != page:
            bad.append("%s: %s's probe got %s to %r, want a redirect to %s" % (name, who, p["status"], p["location"], page))
    if v["page"]["status"] != 200 or not (v["page"]["type"] or "").startswith("text/html"):
        bad.append("%s: the page: %s %s" % (name, v["page"]["status"], v["page"]["type"]))
    if v["dashboard"] == "reached":
        bad.append("%s reached the dashboard's port" % name)
if v1.get("other_visitor") in (None, "reached"):
    bad.append("visitor 1 reached visitor 2's phone (%s)" % v1.get("other_visitor"))
if v1.get("uplink") in (None, "reached"):
    bad.append("visitor 1 reached the uplink's side (%s)" % v1.get("uplink"))
want = sorted(os.listdir(files))
got = {}
for it in v1["items"]:
    n = urllib.parse.unquote(it["path"].rsplit("/", 1)[1])
    got[n] = it
    if n not in want:
        bad.append("the page offers %s, which is not in the campaign" % n)
        continue
    sha = hashlib.sha256(open(os.path.join(files, n), "rb").read()).hexdigest()
    mime = mimetypes.guess_type(n)[0] or "application/octet-stream"
    if it["status"] != 200 or it["sha256"] != sha:
        bad.append("%s: %s, %d bytes, not byte-identical" % (n, it["status"], it["bytes"]))
    if not (it["type"] or "").startswith(mime):
        bad.append("%s: Content-Type %r, want %s" % (n, it["type"], mime))
    if not (it["disposition"] or "").startswith("attachment") or n not in (it["disposition"] or ""):
        bad.append("%s: Content-Disposition %r" % (n, it["disposition"]))
missing = [n for n in want if n not in got]
if missing:
    bad.append("the page does not offer %s" % missing)
if bad:
    print("; ".join(bad))
    sys.exit(1)
print("DNS answered %s for %s; probes (%s) redirected to %s; %s byte-identical (%s); dashboard: %s; other visitor: %s; uplink: %s"
      % (addr, ", ".join(sorted(v1["dns"])), ", ".join(sorted(v1["probes"])), page,
         ", ".join("%s %d bytes" % (n, got[n]["bytes"]) for n in want), ", ".join(sorted({got[n]["type"] for n in want})),
         v1["dashboard"], v1["other_visitor"], v1["uplink"]))
