#!/usr/bin/env python3
"""System updates of the pi image, in QEMU, every CI run (issue 25). Usage:
update-test.py PI_IMAGE    (the raw o4send-<version>-pi.img the build wrote)

The box is boot-test.py's pi machine (-M virt started by Debian's U-Boot running the card's own
boot script, slot choice and tries as on a Pi) with a USB controller; sticks are plugged in and
pulled through QEMU's monitor, as an operator does. It first passes boot-test.py's first-boot
checks as release N, then (o4send.toml: update.healthy_secs 10, trial_secs 60, so that a trial
takes a minute, not fifteen):
  1. a stick with a tampered N+1 (one payload byte changed after signing): refused with one
     line, the boot state and the slots unchanged, the daemon still running;
  2. N+2, whose o4send never starts, uploaded on the dashboard (logged in, its CSRF token): the
     system page offers the restart once it is installed, the operator asks for it; each start of
     N+2 ends at its trial deadline, and after its three tries U-Boot goes back to N, which says
     "N+2 did not come up healthy: back on N" (also on the system page); a stick with N+2 is then
     refused: it failed here before;
  3. a stick with a good N+1: the power is cut (QEMU killed) while RAUC writes it, then again
     while N+1 boots for the first time; the box boots a good slot every time, installs N+1
     again from the stick still in, and comes back as N+1 with "updated to N+1", the file under
     /var, the log, the content and the boot partition's settings as they were.
Prints the time of each part (figures, not checks) and ends with one line
"update-test: PASS (...)" or "update-test: FAIL: why"; O4SEND_BOOT_KEEP=1 keeps the work dir."""
import http.cookiejar
import importlib.machinery
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
bt = importlib.machinery.SourceFileLoader("boot_test", os.path.join(HERE, "boot-test.py")).load_module()
Failed = bt.Failed

UPDATE_TOML = "\n[update]\nhealthy_secs = 10\ntrial_secs = 60\n"
SLOT_LINE = rb"o4send: slot ([AB]) \(order ([AB ]+); tries left: A (\d), B (\d)\)"


def release_of(image):
    m = re.search(r"o4send-(.+)-pi\.img$", os.path.basename(image))
    if not m:
        raise Failed(f"{image}: not named o4send-VERSION-pi.img")
    return m.group(1)


class UpdateTest(bt.BootTest):
    def __init__(self, image):
        super().__init__("pi", image)
        self.release = release_of(image)
        self.monitor = os.path.join(self.work, "monitor.sock")
        self.extra_toml = UPDATE_TOML
        self.extra_qemu = ["-device", "qemu-xhci,id=xhci",
                           "-monitor", f"unix:{self.monitor},server=on,wait=off"]
        self.plugged = []  # (QEMU device id, stick image), plugged in now
        self.sticks_plugged = 0  # ids are never reused: QEMU frees a pulled stick's drive later
        self.slots_seen = []  # U-Boot's choices in this part

    # -- the release's bundles and the sticks that carry them -------------------------------------
    def make_sticks(self):
        n1, n2 = bump(self.release, 1), bump(self.release, 2)
        self.n1, self.n2 = n1, n2
        good = self.bundle(n1)
        broken = self.bundle(n2, edit=os.path.join(self.work, "break-o4send"))
        tampered = os.path.join(self.work, f"tampered-{n1}.raucb")
        shutil.copy(good, tampered)
        with open(tampered, "r+b") as f:  # one byte of the payload, after signing
            f.seek(64 << 20)
            b = f.read(1)
            f.seek(64 << 20)
            f.write(bytes([b[0] ^ 0x20]))
        self.stick_tampered = self.stick("tampered", tampered)
        self.bundle_broken = broken
        self.stick_broken = self.stick("broken", broken)
        self.stick_good = self.stick("good", good)

    def bundle(self, version, edit=None):
        out = os.path.join(self.work, f"o4send-{version}-pi.raucb")
        env = dict(os.environ)
        if edit:
            with open(edit, "w") as f:  # a release whose o4send never starts
                f.write("#!/bin/sh\nset -e\nprintf '#!/bin/sh\\nexit 1\\n' >\"$1.o4send\"\n"
                        "debugfs -w -R 'rm /usr/bin/o4send' \"$1\"\n"
                        "debugfs -w -R \"write $1.o4send /usr/bin/o4send\" \"$1\" >/dev/null\n"
                        "debugfs -w -R 'sif /usr/bin/o4send mode 0100755' \"$1\"\n")
            os.chmod(edit, 0o755)
            env["O4SEND_BUNDLE_EDIT"] = edit
        start = time.time()
        r = subprocess.run([os.path.join(HERE, "bundle.sh"), "pi", self.image, version, out],
                           env=env, capture_output=True, text=True)
        if r.returncode != 0:
            raise Failed(f"bundle.sh {version}: {r.stdout}{r.stderr}")
        print(f"update-test: {r.stdout.strip()} in {time.time() - start:.0f} s", flush=True)
        return out

    def stick(self, name, bundle):
        """A FAT stick as a laptop leaves it: the bundle, and macOS's ._ companion of it."""
        img = os.path.join(self.work, f"stick-{name}.img")
        size_mb = os.path.getsize(bundle) // (1 << 20) + 16
        bt.sh("mkfs.vfat", "-C", "-n", "STICK", img, str(size_mb * 1024))
        base = os.path.basename(bundle)
        bt.sh("mcopy", "-i", img, bundle, "::" + base)
        dot = os.path.join(self.work, "._" + base)
        with open(dot, "wb") as f:
            f.write(b"\x00\x05\x16\x07AppleDouble")
        bt.sh("mcopy", "-i", img, dot, "::._" + base)
        return img

    # -- QEMU's monitor: the USB port ---------------------------------------------------------------
    def hmp(self, command):
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(self.monitor)
            s.settimeout(10)
            buf = b""
            while not buf.endswith(b"(qemu) "):
                buf += s.recv(4096)
            s.sendall(command.encode() + b"\n")
            buf = b""
            while not buf.endswith(b"(qemu) "):
                buf += s.recv(4096)
        # The monitor echoes the command (with cursor moves), then says what it did.
        said = [x for x in buf.decode(errors="replace").split("\r\n")[1:-1] if x.strip() not in ("", "OK")]
        if said:
            raise Failed(f"QEMU monitor: {command}: {' '.join(said)}")

    def plug(self, img):
        self.sticks_plugged += 1
        n = self.sticks_plugged
        self.hmp(f"drive_add 0 if=none,id=stick{n},file={img},format=raw,readonly=on")
        self.hmp(f"device_add usb-storage,bus=xhci.0,drive=stick{n},id=usb{n},removable=on")
        self.plugged.append((f"usb{n}", img))

    def pull(self):
        dev, _ = self.plugged.pop()
        self.hmp(f"device_del {dev}")

    def cut_power_and_restart(self, stick):
        """The power goes off and on: QEMU killed, started again with the stick still in."""
        self.stop()
        self.con.sock.close()
        self.plugged = []
        self.shell = False
        extra = self.extra_qemu
        self.extra_qemu = extra + ["-drive", f"file={stick},if=none,id=stick0,format=raw,readonly=on",
                                   "-device", "usb-storage,bus=xhci.0,drive=stick0,removable=on"]
        self.start()
        self.extra_qemu = extra

    # -- the dashboard, as the operator's browser uses it ------------------------------------------
    def dashboard(self):
        """Logs in (the login form's token, then the session) and returns (open, csrf)."""
        jar = http.cookiejar.CookieJar()
        web = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar),
                                          urllib.request.HTTPSHandler(context=bt.UNVERIFIED)).open
        base = f"https://127.0.0.1:{self.tls_port}"
        form = web(base + "/login", timeout=60).read().decode()
        token = re.search(r'name="csrf" value="([0-9a-f]+)"', form).group(1)
        data = urllib.parse.urlencode({"csrf": token, "password": self.password}).encode()
        page = web(base + "/login", data=data, timeout=60).read().decode()
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
        return (lambda path, data=None, headers={}: web(urllib.request.Request(base + path, data=data, headers=headers),
                                                        timeout=600).read().decode()), csrf

    def upload_on_dashboard(self, bundle):
        web, csrf = self.dashboard()
        with open(bundle, "rb") as f:
            ctype, body = multipart({"csrf": csrf}, "bundle", os.path.basename(bundle), f.read())
        start = time.time()
        page = web("/system/upload", body, {"Content-Type": ctype})
        if "Received" not in page and "Installing" not in page:
            raise Failed(f"the dashboard's answer to the upload: {page[-600:]}")
        uploaded = time.time() - start
        end = time.time() + 600
        while time.time() < end:  # what the operator watches: progress, then the restart form
            page = web("/system")
            if 'name="when"' in page:
                return web, csrf, uploaded
            time.sleep(5)
        raise Failed(f"the system page never offered the restart: {page[-600:]}")

    # -- what the box says --------------------------------------------------------------------------
    def boot_and_login(self, which):
        banner = super().boot_and_login(which)
        self.run("dmesg -n 1")  # no kernel lines between a command's output lines
        return banner

    def now(self):
        return int(self.run("date +%s")[1].split()[-1])

    def wait_import(self, mark, what, timeout=300):
        """Waits for o4send-import@ to finish with the stick plugged in since `mark` (a time, or
        None: in this boot)."""
        since = "-b" if mark is None else f"--since=@{mark}"
        journal = f"journalctl -o cat -t o4send-import {since}"
        cmd = (f"for i in $(seq {timeout // 3}); do {journal} | grep -q 'o4send update:' && "
               "! systemctl list-units --no-legend --state=activating 'o4send-import@*' | grep -q . && break; "
               f"sleep 3; done; {journal}")
        rc, out = self.run(cmd, timeout + 30)
        if rc != 0 or "o4send update:" not in out:
            raise Failed(f"{what}: the stick's import said: {out[-600:]}")
        return out

    def next_slot(self, timeout=bt.BOOT_TIMEOUT):
        """Waits for U-Boot's slot line: (slot, order, tries left A, tries left B)."""
        m = self.con.wait(SLOT_LINE, timeout)
        if m is None:
            raise Failed(f"U-Boot chose no slot within {timeout} s")
        slot, order, a, b = (x.decode() for x in m.groups())
        self.slots_seen.append(f"{slot}({order}: A{a} B{b})")
        return slot, order, int(a), int(b)

    def wait_kept(self, what):
        cmd = ("until [ \"$(systemctl show -P SubState o4send-healthy.service)\" = exited ]; do sleep 3; done; "
               "journalctl -b -o cat -t o4send-healthy | tail -2; o4send bootstate show; o4send status | head -4")
        return self.run(cmd, 300)[1]

    # -- the three parts ----------------------------------------------------------------------------
    def tampered(self):
        start = time.time()
        self.wait_kept("the first boot")  # slot A's tries back to 3: the state to compare with
        before = self.expect("the boot state", "o4send bootstate show", lambda o: "order A, tries left A 3 B 0" in o)
        mark = self.now()
        self.plug(self.stick_tampered)
        out = self.wait_import(mark, "the tampered stick")
        if f"update refused: tampered-{self.n1}.raucb: changed after it was signed" not in out:
            raise Failed(f"the tampered bundle was not refused as changed after signing: {out[-600:]}")
        self.expect("nothing changed", "o4send bootstate show; systemctl is-active o4send.service; "
                    "ls /var/lib/o4send/update",
                    lambda o: o.startswith(before) and "active" in o.split("\n") and "incoming" not in o)
        line = self.expect("the refusal in o4send status", "o4send status | grep '^system:'",
                           lambda o: "changed after it was signed" in o)
        self.pull()
        self.figures.append(f"tampered N+1 refused in {time.time() - start:.0f} s, nothing changed ({line.strip()})")

    def broken(self):
        """N+2, whose o4send never starts, from the dashboard: uploaded, installed while the box
        works, restarted into when the operator confirms; it falls back by itself."""
        start = time.time()
        web, csrf, uploaded = self.upload_on_dashboard(self.bundle_broken)
        installed = time.time() - start
        self.shell = False
        web("/system/restart", urllib.parse.urlencode({"csrf": csrf, "when": "now"}).encode())
        slot, order, a, b = self.next_slot()
        if (slot, order, b) != ("B", "B A", 2):
            raise Failed(f"after installing {self.n2}, U-Boot chose {self.slots_seen[-1]}, not B first with 3 tries")
        for left in (1, 0):  # each start ends at the trial deadline; U-Boot counts down
            slot, order, a, b = self.next_slot(300)
            if slot == "A":
                break
            if b != left:
                raise Failed(f"slot B's tries: {self.slots_seen}")
        else:
            slot, order, a, b = self.next_slot(300)
        if slot != "A":
            raise Failed(f"U-Boot did not fall back to A: {self.slots_seen}")
        self.boot_and_login("after the fall back")
        kept = self.wait_kept("after the fall back")
        want = f"{self.n2} did not come up healthy: back on {self.release}"
        if want not in kept or "order A," not in kept:
            raise Failed(f"after the fall back: {kept[-600:]}")
        page = self.dashboard()[0]("/system")
        if want not in page:
            raise Failed(f"the system page after the fall back: {page[-600:]}")
        # The same release on a stick: not installed again (it failed here before).
        self.plug(self.stick_broken)
        again = self.wait_import(None, "a stick with the release that fell back")
        if f"{self.n2} did not come up healthy on this box before" not in again:
            raise Failed(f"the stick with {self.n2}: {again[-600:]}")
        self.pull()
        self.figures.append(f"N+2 without a working o4send, from the dashboard: uploaded in {uploaded:.0f} s, "
                            f"installed in {installed:.0f} s, back on N {time.time() - start:.0f} s after the upload "
                            f"({' '.join(self.slots_seen)}): \"{want}\" (overview and system page), its stick then refused")
        self.slots_seen = []

    def data_now(self):
        """What must survive an update: the file under /var, the campaign, the log's first
        record, the boot partition's settings in force."""
        out = self.expect("the data", "echo var=$(cat /var/lib/o4send-boot-test); "
                          "echo campaign=$(o4send content show 2>&1 | sha256sum | cut -c1-16); "
                          "echo log=$(o4send status | sed -n 's/^records from \\(.*\\) to .*/\\1/p'); "
                          "echo sender=$(grep -c 'CI Boot Test' /run/o4send/o4send.toml); "
                          "echo settings=$(cat /run/o4send/config-status)", lambda o: "var=boot-test" in o)
        return dict(l.split("=", 1) for l in out.split("\n") if "=" in l)

    def good_with_power_cuts(self):
        start = time.time()
        web, csrf = self.dashboard()  # a campaign to carry across the update
        ctype, body = multipart({"csrf": csrf, "name": "Update fair", "sender_name": "Booth 25"},
                                "files", "hall-map.txt", b"the map of the hall\n" * 100)
        page = web("/campaign", body, {"Content-Type": ctype})
        if "installed campaign" not in page or "Update fair" not in page:
            raise Failed(f"the campaign upload before the update: {page[-600:]}")
        before = self.data_now()
        mark = self.now()
        self.plug(self.stick_good)
        # Cut 1: while RAUC writes slot B.
        cmd = (f"for i in $(seq 100); do journalctl -o cat -t o4send-import --since=@{mark} | "
               f"grep -q 'installing {self.n1}' && break; sleep 1; done; sleep 4; "
               f"journalctl -o cat -t o4send-import --since=@{mark} | grep -e 'installing {self.n1}' -e '%' | tail -2")
        rc, out = self.run(cmd, 200)
        if f"installing {self.n1}" not in out and "%" not in out:
            raise Failed(f"the good stick: no install began: {out[-600:]}")
        cut_at = out.strip().split("\n")[-1].strip()
        self.cut_power_and_restart(self.stick_good)
        slot, order, a, b = self.next_slot()
        if slot != "A":
            raise Failed(f"after a cut during the install U-Boot chose {self.slots_seen[-1]}")
        # The stick still in: the box installs N+1 again and restarts into it.
        slot, order, a, b = self.next_slot()
        if (slot, b) != ("B", 2):
            raise Failed(f"after installing {self.n1} again: {self.slots_seen}")
        # Cut 2: N+1's first start, in the kernel.
        time.sleep(8)
        self.cut_power_and_restart(self.stick_good)
        slot, order, a, b = self.next_slot()
        if (slot, b) != ("B", 1):
            raise Failed(f"after a cut during N+1's first start: {self.slots_seen}")
        self.boot_and_login(f"{self.n1} after two power cuts")
        kept = self.wait_kept(f"{self.n1}")
        if f"updated to {self.n1}" not in kept or not re.search(r"order B A, tries left A \d B 3", kept):
            raise Failed(f"{self.n1} not kept: {kept[-600:]}")
        self.expect("the release", "o4send status | grep '^system:'",
                    lambda o: o.strip() == f"system: slot B, release {self.n1}: updated to {self.n1}")
        after = self.data_now()
        if after != before or not before.get("settings", "").startswith("ok: /boot/o4send.toml; Imager's form") or before.get("sender") != "1":
            raise Failed(f"the data across the update: before {before}, after {after}")
        self.figures.append(f"N+1 after power cuts mid-install (at \"{cut_at}\") and mid-boot: kept in {time.time() - start:.0f} s "
                            f"({' '.join(self.slots_seen)}), as before: {after}")


def multipart(fields, file_field, file_name, data):
    b = "o4sendUpdateTest"
    body = b"".join(f"--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n".encode()
                    for k, v in fields.items())
    body += (f"--{b}\r\nContent-Disposition: form-data; name=\"{file_field}\"; filename=\"{file_name}\"\r\n"
             "Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{b}--\r\n".encode()
    return f"multipart/form-data; boundary={b}", body


def bump(version, n):
    parts = version.split("-")[0].split(".")
    parts[-1] = str(int(parts[-1]) + n)
    return ".".join(parts)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: update-test.py PI_IMAGE")
    t = UpdateTest(sys.argv[1])
    status = 1
    try:
        t.prepare()
        t.make_sticks()
        t.start()
        t.first_boot()
        for part in (t.tampered, t.broken, t.good_with_power_cuts):
            part()
            print(f"update-test: {t.figures[-1]}", flush=True)
        print(f"update-test: PASS ({'; '.join(t.figures)})")
        status = 0
    except (Failed, EOFError, subprocess.CalledProcessError, OSError) as e:
        print("update-test: the guest's journal (or console) follows")
        print(t.journal())
        print(f"update-test: FAIL: {e}")
    finally:
        t.stop()
        print(f"update-test: {bt.clean_up(t.work, status == 0)}")
    sys.exit(status)


if __name__ == "__main__":
    main()
