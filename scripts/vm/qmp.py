#!/usr/bin/python3
"""Minimal QMP client for the rig (hot-unplug/replug of devices, quitting VMs):
qmp.py SOCKET '{"execute": ...}' ['{...}' ...]  (prints each reply; exit 1 if any failed)"""
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile('rw')
def recv():
    while True:
        m = json.loads(f.readline())
        if 'event' in m: continue
        return m
recv(); f.write(json.dumps({'execute': 'qmp_capabilities'}) + '\n'); f.flush(); recv()
rc = 0
for c in sys.argv[2:]:
    f.write(c + '\n'); f.flush(); r = recv(); print(json.dumps(r))
    if 'error' in r: rc = 1
sys.exit(rc)
