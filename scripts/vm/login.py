#!/usr/bin/python3
"""Logs in on the appliance VM's booth console (ttyS2: a serial getty, as the image has on its
consoles; a QEMU unix socket chardev), as someone at the booth with a keyboard would.

Usage: login.py -s SOCK USER PASSWORD [-t TIMEOUT]
Ends whatever the console shows with Ctrl-D (agetty exits and systemd starts a fresh one, which
prints the banner, /etc/issue, then its prompt), reads that banner, types USER and PASSWORD, and
prints one JSON line: {"banner": "..." or null, "result": "shell" | "incorrect" |
"no password prompt" | "no login prompt" | "timeout", "transcript": "..."}. A shell is logged out
again at once. Exit status 0 whenever the exchange itself worked (the result says what happened).
Only what the console prints after each keystroke counts: a QEMU socket has no scrollback, and a
stale "Login incorrect" must not stand for the answer to this password."""
import argparse, json, re, socket, sys, time

ap = argparse.ArgumentParser()
ap.add_argument('-s', '--sock', required=True)
ap.add_argument('-t', '--timeout', type=float, default=60)
ap.add_argument('user')
ap.add_argument('password')
a = ap.parse_args()

s = socket.socket(socket.AF_UNIX)
s.connect(a.sock)
s.settimeout(0.3)
buf = b''


def until(pats, limit, since):
    """Reads until a regex matches the text received after offset `since`: (index, match) or None."""
    global buf
    end = time.time() + limit
    while True:
        for i, p in enumerate(pats):
            m = re.search(p, buf[since:])
            if m:
                return i, m
        if time.time() >= end:
            return None
        try:
            d = s.recv(4096)
            if d:
                buf += d
        except socket.timeout:
            pass


def send(data):
    """Sends and returns the offset from which the answer counts."""
    mark = len(buf)
    s.sendall(data)
    return mark


def out(result, banner=None):
    print(json.dumps(dict(banner=banner, result=result,
                          transcript=buf.decode(errors='replace')[-3000:])))
    sys.exit(0)


until([rb'$^'], 1, 0)   # whatever was on its way
for _ in range(3):
    mark = send(b'\x04')
    r = until([rb'login: $'], 20, mark)
    if r:
        break
else:
    out('no login prompt')
text = buf[mark:mark + r[1].start()].decode(errors='replace').replace('\r', '')
# After a refused password, Ctrl-D reaches login(1)'s own prompt (one more refused attempt, no
# banner): banner null. A fresh agetty prints the banner.
banner = None if 'Login incorrect' in text else text.strip('\n')
mark = send(a.user.encode() + b'\r')
if not until([rb'[Pp]assword: $'], 15, mark):
    out('no password prompt', banner)
mark = send(a.password.encode() + b'\r')
r = until([rb'Login incorrect', rb'(#|\$) $'], a.timeout, mark)
if r is None:
    out('timeout', banner)
if r[0] == 0:
    out('incorrect', banner)
send(b'exit\r')
until([rb'login: $'], 10, len(buf))
out('shell', banner)
