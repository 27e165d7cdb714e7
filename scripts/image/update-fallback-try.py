#!/usr/bin/env python3
"""By hand, not in test.sh (issue 25): update-fallback-try.py PI_IMAGE STICK_IMAGE installs the
bundle on the stick (update.raucb: a release that never gets healthy, e.g. /usr/bin/o4send
replaced by a script that exits 1), reboots, and waits for U-Boot to fall back to slot A.
Run on 2026-12-06 it showed the gap to fix: B booted, o4send-setup failed, o4send.service only
got "Dependency failed" (no restarts, so its start limit never rebooted), and the box stayed on B.
"""
import importlib.machinery, os, subprocess, sys, time
bt = importlib.machinery.SourceFileLoader("bt", os.path.join(os.path.dirname(os.path.abspath(__file__)), "boot-test.py")).load_module()
stick = sys.argv[2]
real_popen = subprocess.Popen
def popen(argv, *a, **kw):
    if argv[0].startswith("qemu-system"):
        argv = argv + ["-drive", f"file={stick},if=none,id=stick,format=raw,readonly=on", "-device", "virtio-blk-pci,drive=stick"]
    return real_popen(argv, *a, **kw)
bt.subprocess.Popen = popen
t = bt.BootTest("pi", sys.argv[1])
try:
    t.prepare(); t.start(); t.boot_and_login("first boot")
    def run(c, timeout=600):
        rc, out = t.run(c, timeout); print(f"$ {c}\n{out}\n(rc {rc})", flush=True); return out
    run("mkdir -p /run/stick && mount -o ro /dev/vdb /run/stick && rauc install /run/stick/update.raucb 2>&1 | tail -2; o4send bootstate show")
    t.shell = False
    start = time.time()
    t.con.send("systemctl reboot\n")
    since = len(t.con.buf)
    m = t.con.wait(rb"o4send: slot A \(order B A[^)]*\)", 1500, since)
    print(f"U-Boot fell back: {m.group(0).decode() if m else None} after {time.time()-start:.0f} s", flush=True)
    slots = [x.decode() for x in __import__("re").findall(rb"o4send: slot [AB] \([^)]*\)", t.con.buf[since:])]
    print("boots:", slots, flush=True)
    t.boot_and_login("after the fall back")
    run("o4send bootstate get-current; o4send bootstate show; systemctl is-active o4send.service")
finally:
    t.stop()
    print("work dir", t.work)
