#!/usr/bin/env python3
"""Rig scenario w's control: from wherever it runs, connects to each HOST:PORT given (retrying for
up to 10 s while a listener starts) and exits 1 naming the first that does not answer."""
import socket, sys, time

for target in sys.argv[1:]:
    host, port = target.rsplit(":", 1)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection((host, int(port)), timeout=3).close()
            break
        except OSError as e:
            if time.monotonic() > deadline:
                sys.exit("%s: %s" % (target, e))
            time.sleep(0.2)
print("reached " + " ".join(sys.argv[1:]))
