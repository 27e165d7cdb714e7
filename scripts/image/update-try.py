#!/usr/bin/env python3
"""A first, by-hand trial of a system update (issue 25), not yet a test in test.sh:
  update-try.py PI_IMAGE STICK_IMAGE
boots the Pi image like boot-test.py's pi target (QEMU virt, U-Boot and the card's script) with a
second virtio disk holding a RAUC bundle (update.raucb on a FAT, and tampered.raucb if there),
tries the tampered one, installs the good one with `rauc install`, reboots, and prints the boot
state, a file written under /var before the update, and RAUC's status before and after. Run on 2026-12-06: the
bundle (verity, signed with the development release key, the root slot of the same build with a
marker file) installed into slot B in 28 s; RAUC set the order through `o4send bootstate`
("order B A, tries left A 2 B 3"); after the reboot U-Boot booted B ("get-current: B", "Booted
from: rootfs.1 (B)", tries B 2). Make the bundle with bookworm's rauc 1.8:
  rauc bundle --cert CERT --key KEY DIR update.raucb   (DIR: manifest.raucm, rootfs.ext4)
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
os.environ["O4SEND_BOOT_KEEP"] = "1"
try:
    t.prepare(); t.start(); t.boot_and_login("first boot")
    def run(c, timeout=600):
        rc, out = t.run(c, timeout); print(f"$ {c}\n{out}\n(rc {rc})", flush=True); return out
    run("o4send bootstate show; rauc status 2>&1 | head -30")
    run("mkdir -p /run/stick && mount -o ro /dev/vdb /run/stick && ls -la /run/stick")
    run("echo before-the-update > /var/lib/o4send-update-try && sync")
    if "/run/stick/tampered.raucb" in run("ls /run/stick/tampered.raucb"):
        run("rauc install /run/stick/tampered.raucb 2>&1 | tail -3; o4send bootstate show", 600)
    start = time.time()
    run("rauc install /run/stick/update.raucb 2>&1 | tail -15", 1200)
    print(f"install took {time.time()-start:.0f} s")
    run("o4send bootstate show; rauc status 2>&1 | head -30")
    t.shell = False
    t.con.send("systemctl reboot\n")
    t.boot_and_login("after the install")
    run("o4send bootstate get-current; o4send bootstate show; cat /var/lib/o4send-update-try; "
        "cat /usr/lib/o4send/bundle-marker; rauc status 2>&1 | head -20")
finally:
    t.stop()
    print("work dir", t.work)
