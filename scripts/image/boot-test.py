#!/usr/bin/env python3
"""Boots an o4send image as built, in QEMU under software emulation, and checks what an operator
relies on in its first minutes. Usage: boot-test.py pi|pi3|pc IMAGE [--cut-after-table]

  pi: -M virt (Cortex-A72, 1 GiB) started by Debian's U-Boot for QEMU (qemu-u-boot.sh, the same
      release as the Pi's), which runs the card's own boot script: it chooses root slot A and
      loads that slot's kernel and initramfs. The Pi's GPU firmware is not emulated, so
      config.txt is not read here.
  pi3: the pi image on QEMU's Raspberry Pi 3B (-M raspi3b), the card as an SD card (sized up to a
      power of two, as QEMU wants). QEMU plays the Pi's firmware: it starts the card's U-Boot
      with the Pi 3's own device tree from the boot partition and cmdline.txt in it; U-Boot's
      script then boots root A as on a Pi: Debian's kernel drives the Pi's SD host, root A is
      mmcblk0p2, the console the mini UART (ttyS1). QEMU's Pi has no network the test can
      reach, so the dashboard is not checked there; and its watchdog resets the machine the
      moment it is armed (QEMU models the reset, not the countdown), so bcm2835_wdt is kept from
      loading (modprobe.blacklist on the command line), the hardware watchdog is checked on virt,
      and the second boot is a power cycle (poweroff, QEMU started again) rather than a reboot.
  pc: -M q35 with OVMF's UEFI firmware: the image boots as a PC boots it (systemd-boot from the
      FAT boot partition).

Before the boot, the test writes o4send.toml on the image's boot partition as an operator's laptop
would (a byte-order mark, CRLF): a sender name, the console's and the dashboard's password
hashes; and makes the disk 1 GiB larger than the image, as a card is. Then, through the serial
console (the banner before the login prompt, a login with that password) and QEMU's user
network: o4send-setup put the file in force, o4send.service reached READY with its watchdog and
the hardware watchdog armed, the dashboard answers on its port, / is read-only, /boot is the
FAT read-only, /var is the overlay on the data partition, which grew to the disk's end; after a
reboot a file written under /var is still there and growdata has nothing left to do. pc: two USB
disks are plugged in from the start, a FAT labelled O4SEND with its own o4send.toml and an ext4
labelled o4send-data, and must not become /boot or /var (also when udev takes them for ATA disks).
--cut-after-table: the card as a power cut during the first boot's growth leaves it (the data
partition's table entry already grown, its file system not): the boot must grow only the file
system. Prints the boot time to READY (a figure, not a
check) and ends with one line "boot-test: TARGET: PASS ..." or "boot-test: TARGET: FAIL: why";
on a failure the guest's journal (or the console) is printed. Needs QEMU (host-tools.sh).
O4SEND_BOOT_KEEP=1 keeps the work directory."""
import ctypes
import hashlib
import os
import random
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from console import Console  # noqa: E402

# What the boot test's operator typed into Imager's form.
IMAGER_HOST = "o4send-ci"
IMAGER_SSID = "CI Hall"

# The box's certificate is its own (self-signed): the checks compare its fingerprint instead.
UNVERIFIED = ssl._create_unverified_context()


def yescrypt(password):
    """A yescrypt hash as Imager 2.x writes it, made by the host's libxcrypt (Debian's libcrypt1)."""
    lib = ctypes.CDLL("libcrypt.so.1")
    lib.crypt_gensalt.restype = lib.crypt.restype = ctypes.c_char_p
    lib.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
    lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    setting = lib.crypt_gensalt(b"$y$", 0, None, 0)
    hashed = (lib.crypt(password.encode(), setting) or b"").decode()
    if not hashed.startswith("$y$"):
        raise Failed(f"no yescrypt hash from the host's libcrypt for Imager's form: {hashed!r}")
    return hashed


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None


BOOT_TIMEOUT = 900  # TCG on two shared cores; a Pi boots in about a minute
SENDER = "CI Boot Test"


HERE = os.path.dirname(os.path.abspath(__file__))


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw).stdout


class Failed(Exception):
    pass


class BootTest:
    def __init__(self, target, image, cut_after_table=False):
        self.target, self.image, self.cut_after_table = target, image, cut_after_table
        self.work = tempfile.mkdtemp(prefix=f"o4send-boot-{target}.", dir="/var/tmp")
        self.disk = os.path.join(self.work, "disk.img")
        self.password = "ci-%016x" % random.getrandbits(64)
        self.port = free_port()
        self.tls_port = free_port()
        self.ssh_port = free_port()
        self.qemu = None
        self.con = None
        self.shell = False
        self.figures = []
        self.extra_toml = ""  # more of o4send.toml (update-test.py)
        self.extra_qemu = []  # more of QEMU's command line (update-test.py)

    # -- the card, as the operator's laptop leaves it ---------------------------------------------
    def prepare(self):
        sh("cp", "--sparse=always", self.image, self.disk)
        size = os.path.getsize(self.disk) + (1 << 30)
        if self.target == "pi3":  # an SD card's size is a power of two for QEMU
            size = 1 << (size - 1).bit_length()
        os.truncate(self.disk, size)
        if self.cut_after_table:
            # What growdata's first step leaves when the power goes right after it: partition 4
            # reaches the disk's end, its file system does not.
            subprocess.run(["sfdisk", "--quiet", "--no-reread", "-N", "4", self.disk],
                           input=", +\n", text=True, check=True, capture_output=True)
        self.fat = "%s@@%d" % (self.disk, fat_offset(self.disk))
        if self.target == "pi3":
            # Imager 1.x's form for Raspberry Pi OS: not applied, the box boots as usual and says so.
            hashed = sh("openssl", "passwd", "-6", self.password).strip()
            secrets = f'[console]\npassword_hash = "{hashed}"\n\n[dashboard]\npassword_hash = "{hashed}"\n'
        else:
            # The passwords come from Imager's form; o4send.toml holds the rest.
            self.imager_form()
            secrets = ""
        toml = (f'# written by boot-test.py as Notepad saves it\n[appliance]\nsender_name = "{SENDER}"\n\n'
                + secrets + self.extra_toml)
        path = os.path.join(self.work, "o4send.toml")
        with open(path, "wb") as f:
            f.write(b"\xef\xbb\xbf" + toml.replace("\n", "\r\n").encode())
        if self.target == "pc":
            self.attack_disks()
        sh("mcopy", "-o", "-i", self.fat, path, "::o4send.toml")
        if self.target == "pi3":
            for name in ("u-boot.bin", "cmdline.txt", "bcm2837-rpi-3-b.dtb"):
                sh("mcopy", "-n", "-i", self.fat, "::" + name, os.path.join(self.work, name))
            self.imager_1x()

    def put(self, name, text):
        path = os.path.join(self.work, name)
        with open(path, "w") as f:
            f.write(text)
        sh("mcopy", "-o", "-i", self.fat, path, "::" + name)

    def imager_form(self):
        """Raspberry Pi Imager 2.x's form for o4send's entry (init_format cloudinit), the files as
        Imager writes them (rpi-imager src/customization_generator.cpp, downloadthread.cpp): the
        password as a yescrypt hash, the Wi-Fi key as its PMK, empty lines dropped."""
        hashed = yescrypt(self.password)
        pmk = hashlib.pbkdf2_hmac("sha1", b"correct horse", IMAGER_SSID.encode(), 4096, 32).hex()
        # The operator's SSH key on the PC's card; the Pi's form has none (no SSH server then).
        keys = ""
        if self.target == "pc":
            self.ssh_key = os.path.join(self.work, "id_ed25519")
            sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "stand@laptop", "-f", self.ssh_key)
            with open(self.ssh_key + ".pub") as f:
                keys = f"  ssh_authorized_keys:\n    - \"{f.read().strip()}\"\n"
        self.put("meta-data", "instance-id: rpi-imager-1765065600000\n")
        self.put("user-data", "#cloud-config\nmanage_resolv_conf: false\n\n"
                 f"hostname: {IMAGER_HOST}\nmanage_etc_hosts: true\npackages:\n- avahi-daemon\n"
                 "apt:\n  preserve_sources_list: true\n  conf: |\n    Acquire {\n      Check-Date \"false\";\n    };\n"
                 "timezone: Europe/Berlin\nkeyboard:\n  model: pc105\n  layout: \"de\"\n"
                 f"user:\n  name: stand\n  shell: /bin/bash\n  lock_passwd: false\n  passwd: \"{hashed}\"\n"
                 + keys + "  sudo: null\nssh_pwauth: false\n\nruncmd:\n  - [ systemctl, enable, --now, ssh ]\n")
        self.put("network-config", "network:\n  version: 2\n  ethernets:\n    eth0:\n      dhcp4: true\n"
                 "      dhcp6: true\n      optional: true\n  wifis:\n    wlan0:\n      dhcp4: true\n"
                 f"      regulatory-domain: \"DE\"\n      access-points:\n        \"{IMAGER_SSID}\":\n"
                 f"          password: \"{pmk}\"\n      optional: true\n")

    def imager_1x(self):
        """Imager 1.x's form for Raspberry Pi OS (init_format systemd): firstrun.sh, and a one-shot
        boot into it on cmdline.txt, which U-Boot's script drops."""
        self.put("firstrun.sh", "#!/bin/bash\n\nset +e\n\nCURRENT_HOSTNAME=`cat /etc/hostname | tr -d \" \\t\\n\\r\"`\n"
                 "rm -f /boot/firstrun.sh\nsed -i 's| systemd.run.*||g' /boot/cmdline.txt\nexit 0\n")
        with open(os.path.join(self.work, "cmdline.txt")) as f:
            cmdline = f.read().strip()
        self.put("cmdline.txt", cmdline + " cfg80211.ieee80211_regdom=DE systemd.run=/boot/firstrun.sh "
                 "systemd.run_success_action=reboot systemd.unit=kernel-command-line.target")

    def attack_disks(self):
        """Two USB disks that are plugged in at boot by someone with a minute alone with the box,
        each carrying one of the card's labels: a FAT "O4SEND" with its own o4send.toml (another
        console password, its own sender name) and an ext4 "o4send-data". Non-removable, as a
        USB-SATA enclosure is: udev runs ata_id on such a disk."""
        fat = os.path.join(self.work, "usb-o4send.img")
        sh("mkfs.vfat", "-C", "-n", "O4SEND", fat, "16384")
        path = os.path.join(self.work, "attacker.toml")
        with open(path, "w") as f:
            f.write('[appliance]\nsender_name = "USB Attacker"\n')
        sh("mcopy", "-i", fat, path, "::o4send.toml")
        ext4 = os.path.join(self.work, "usb-data.img")
        with open(ext4, "wb") as f:
            f.truncate(32 << 20)
        sh("mkfs.ext4", "-q", "-L", "o4send-data", ext4)
        self.extra_qemu += ["-device", "qemu-xhci,id=xhci"]
        for i, img in enumerate((fat, ext4)):
            self.extra_qemu += ["-drive", f"file={img},if=none,id=usb{i},format=raw,snapshot=on",
                                "-device", f"usb-storage,bus=xhci.0,drive=usb{i},removable=off"]

    def check_card_not_usb(self):
        """/boot and /var come from the card with both USB disks in, also when udev takes them
        for ATA disks (a SAT bridge: ata_id sets ID_BUS=ata; a runtime rule plays ata_id here, as
        QEMU's USB disk answers no ATA pass-through)."""
        self.expect("both USB disks seen", "udevadm settle; blkid -o value -s LABEL /dev/sda /dev/sdb | sort; "
                    "readlink -f /sys/class/block/sda /sys/class/block/sdb | grep -c /usb",
                    lambda o: o.split() == ["O4SEND", "o4send-data", "2"], 120)
        self.expect("/boot and /var's data from the card, not USB", "findmnt -rno SOURCE /boot; "
                    "findmnt -rno SOURCE /run/buildroot/mounts/var", lambda o: o.split() == ["/dev/vda1", "/dev/vda4"])
        self.expect("the card's o4send.toml in force", "grep -c 'USB Attacker' /run/o4send/o4send.toml || true",
                    lambda o: o == "0")
        rule = "/run/udev/rules.d/61-boot-test-sata-bridge.rules"
        self.expect("the USB disks taken for ATA disks (ID_BUS=ata, as ata_id sets it for a SATA bridge)",
                    f"mkdir -p /run/udev/rules.d && echo 'SUBSYSTEMS==\"usb\", ENV{{ID_BUS}}=\"ata\"' > {rule} && "
                    "udevadm control --reload && udevadm trigger --settle /dev/sda /dev/sdb; "
                    "udevadm info -q property --property=ID_BUS --value /dev/sda", lambda o: o == "ata")
        self.expect("as ATA disks, the USB disks claim no card name",
                    "udevadm info -q property --property=DEVLINKS --value /dev/sda /dev/sdb | tr ' ' '\\n' | "
                    "grep -cx '/dev/o4send-boot\\|/dev/o4send-data' || true", lambda o: o == "0")
        self.expect("as ATA disks, the USB disks still name no card partition",
                    "readlink -f /dev/o4send-boot /dev/o4send-data", lambda o: o.split() == ["/dev/vda1", "/dev/vda4"])
        self.expect("the bridge rule taken away", f"rm {rule} && udevadm control --reload && "
                    "udevadm trigger --settle /dev/sda /dev/sdb", lambda o: True)
        self.figures.append("USB disks labelled O4SEND and o4send-data at boot (also as SATA bridges): "
                            "/boot and /var from the card")

    def start(self):
        serial = os.path.join(self.work, "console.sock")
        common = ["-m", "1024", "-smp", "2", "-nodefaults", "-no-user-config", "-display", "none",
                  "-drive", f"file={self.disk},if=none,id=disk,format=raw",
                  "-device", "virtio-blk-pci,drive=disk",
                  "-nic", f"user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:{self.port}-:8080"
                  f",hostfwd=tcp:127.0.0.1:{self.tls_port}-:8443,hostfwd=tcp:127.0.0.1:{self.ssh_port}-:22",
                  "-device", "virtio-rng-pci", "-device", "i6300esb",
                  "-chardev", f"socket,id=con,path={serial},server=on,wait=off",
                  "-serial", "chardev:con"]
        if self.target == "pi3":
            with open(os.path.join(self.work, "cmdline.txt")) as f:
                cmdline = f.read().strip()
            # What the Pi's GPU firmware does before U-Boot, QEMU does here: it loads the card's
            # U-Boot as the kernel and hands it the Pi 3's device tree with cmdline.txt in it.
            # The Pi 3's two UARTs: the PL011 (Bluetooth's on a Pi, nothing here), then the mini
            # UART, ttyS1: the console of cmdline.txt.
            argv = ["qemu-system-aarch64", "-M", "raspi3b", "-m", "1G", "-accel", "tcg,thread=multi",
                    "-kernel", os.path.join(self.work, "u-boot.bin"),
                    "-dtb", os.path.join(self.work, "bcm2837-rpi-3-b.dtb"),
                    "-append", cmdline + " modprobe.blacklist=bcm2835_wdt",
                    "-nodefaults", "-no-user-config", "-display", "none",
                    "-drive", f"file={self.disk},if=sd,format=raw",
                    "-chardev", f"socket,id=con,path={serial},server=on,wait=off",
                    "-serial", "null", "-serial", "chardev:con"]
        elif self.target == "pi":
            # Debian's U-Boot for QEMU's arm64 machine runs the card's own boot script (slot
            # choice and tries, the slot's kernel and initramfs), as U-Boot does on the Pi.
            uboot = sh(os.path.join(HERE, "qemu-u-boot.sh")).strip()
            argv = ["qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a72", "-accel", "tcg,thread=multi",
                    "-bios", uboot] + common
        else:
            vars_copy = os.path.join(self.work, "OVMF_VARS.fd")
            shutil.copy("/usr/share/OVMF/OVMF_VARS_4M.fd", vars_copy)
            argv = ["qemu-system-x86_64", "-M", "q35", "-cpu", "max", "-accel", "tcg,thread=multi",
                    "-drive", "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
                    "-drive", f"if=pflash,format=raw,file={vars_copy}"] + common
        argv += self.extra_qemu
        self.qemu_log = open(os.path.join(self.work, "qemu.log"), "a")
        self.started = time.time()
        self.qemu = subprocess.Popen(argv, stdout=self.qemu_log, stderr=subprocess.STDOUT)
        self.con = Console(serial, os.path.join(self.work, "console.log"))

    # -- checks -------------------------------------------------------------------------------------
    def run(self, command, timeout=60):
        rc, out = self.con.run(command, timeout)
        if rc is None:
            raise Failed(f"no answer within {timeout} s to: {command}")
        return rc, out

    def expect(self, what, command, ok, timeout=60):
        rc, out = self.run(command, timeout)
        if rc != 0 or not ok(out):
            raise Failed(f"{what}: `{command}` said (exit {rc}): {out[-400:]}")
        return out

    def boot_and_login(self, which):
        banner, ok = self.con.login("root", self.password, BOOT_TIMEOUT)
        if banner is None:
            raise Failed(f"{which}: no login prompt on the serial console within {BOOT_TIMEOUT} s")
        if not ok:
            raise Failed(f"{which}: the console refused the boot partition's password (banner: {banner.strip()[-300:]})")
        self.shell = True
        return banner

    def first_boot(self):
        banner = self.boot_and_login("first boot")
        wall = time.time() - self.started
        if "o4send appliance" not in banner or "config: ok: /boot/o4send.toml" not in banner:
            raise Failed(f"the banner before the login prompt does not name the appliance and its config: {banner.strip()[-400:]}")
        self.expect("o4send.service READY", "systemctl is-active o4send.service || "
                    "{ sleep 20; systemctl is-active o4send.service; }", lambda o: o.endswith("active"), 90)
        ready = self.expect("READY's time", "systemctl show -P ActiveEnterTimestampMonotonic o4send.service",
                            lambda o: o.strip().isdigit())
        self.figures.append(f"READY {int(ready) / 1e6:.1f} s after the kernel started "
                            f"(login prompt {wall:.0f} s after QEMU started)")
        self.expect("setup's verdict", "cat /run/o4send/config-status", lambda o: o == "ok: /boot/o4send.toml; " + self.form_line())
        self.expect("the boot file's sender name in force", "grep -c 'CI Boot Test' /run/o4send/o4send.toml",
                    lambda o: o != "0")
        self.expect("o4send's watchdog", "systemctl show -P WatchdogUSec o4send.service", lambda o: o == "30s")
        self.expect("o4send pings its watchdog", "sleep 2; systemctl show -P WatchdogTimestampMonotonic o4send.service",
                    lambda o: o.isdigit() and int(o) > 0)
        if self.target != "pi3":
            self.expect("the hardware watchdog", "cat /sys/class/watchdog/watchdog0/state; systemctl show -P RuntimeWatchdogUSec",
                        lambda o: o.split() == ["active", "14s"])
        if self.target in ("pi", "pi3"):
            self.expect("U-Boot's script chose slot A", "o4send bootstate get-current; o4send bootstate show",
                        lambda o: o.startswith("A\n") and "order A, tries left A 2 B 0 (copy 1)" in o)
        if self.target == "pi3":
            self.expect("the Pi 3's device tree and SD card", "cat /proc/device-tree/model; echo; findmnt -rno SOURCE /",
                        lambda o: "Raspberry Pi 3 Model B" in o and o.endswith("/dev/mmcblk0p2"))
        self.expect("/ read-only", "findmnt -rno OPTIONS /", lambda o: o.startswith("ro"))
        self.expect("writing to / fails", "touch /o4send-probe 2>&1; test ! -e /o4send-probe",
                    lambda o: "Read-only file system" in o)
        self.expect("/boot: the FAT, read-only", "findmnt -rno FSTYPE,OPTIONS /boot", lambda o: o.startswith("vfat ro,"))
        self.expect("/var: the overlay", "findmnt -rno FSTYPE /var", lambda o: o == "overlay")
        if self.target == "pc":
            self.check_card_not_usb()
        growdata = self.check_grown()
        table_grown = "growdata: partition table:" in growdata
        if "file system on" not in growdata or table_grown == self.cut_after_table:
            raise Failed(f"o4send-growdata on the first boot{' after a cut' if self.cut_after_table else ''}: {growdata}")
        if self.target != "pi3":
            self.check_dashboard()
        # Last: it takes a few seconds, and the checks above (U-Boot's tries before the system
        # confirms itself healthy) must come soon after READY.
        self.check_found()
        if self.target != "pi3":
            self.check_ssh()
        self.expect("a file under /var", "echo boot-test > /var/lib/o4send-boot-test && sync", lambda o: True)

    def form_line(self):
        if self.target == "pi3":
            return ("Imager: /boot/firstrun.sh: Imager's form for Raspberry Pi OS is not applied here; choose "
                    "o4send from its repository in Imager 2 and write the card again, or set the box up in o4send.toml")
        keys = "SSH keys 1, " if self.target == "pc" else ""
        return (f"Imager's form (/boot/user-data, /boot/network-config): name {IMAGER_HOST}, password, {keys}"
                f"Wi-Fi \"{IMAGER_SSID}\", country DE, time zone Europe/Berlin; not used by o4send: keyboard layout")

    def check_ssh(self):
        """SSH by the key from Imager's form only (the PC's card), never by password; no server
        at all without a key (the Pi's)."""
        if self.target != "pc":
            self.expect("no SSH server without a key", "systemctl is-active ssh.service; ss -tlnH 'sport = :22' | wc -l",
                        lambda o: o.split() == ["inactive", "0"])
            self.figures.append("no SSH server (no key in the form)")
            return
        self.expect("sshd up", "systemctl is-active ssh.service || { sleep 10; systemctl is-active ssh.service; }",
                    lambda o: o.endswith("active"), 60)
        base = ["ssh", "-p", str(self.ssh_port), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "BatchMode=yes", "-o", "ConnectTimeout=20"]
        got = subprocess.run(base + ["-i", self.ssh_key, "root@127.0.0.1", "cat /run/o4send/ssh/authorized_keys | wc -l; hostname"],
                             capture_output=True, text=True, timeout=90)
        if got.returncode != 0 or got.stdout.split() != ["1", IMAGER_HOST]:
            raise Failed(f"SSH with the form's key: exit {got.returncode}: {(got.stdout + got.stderr)[-300:]}")
        pw = subprocess.run(base + ["-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password,keyboard-interactive",
                                    "root@127.0.0.1", "true"], capture_output=True, text=True, timeout=90)
        if pw.returncode == 0 or "Permission denied (publickey)" not in pw.stderr:
            raise Failed(f"SSH without the key must be refused with only publickey offered: exit {pw.returncode}: {pw.stderr[-300:]}")
        host_key = self.expect("the box's own host key", "ls /etc/ssh/ | grep -c ssh_host_ || true; "
                               "ssh-keygen -lf /var/lib/o4send-ssh/ssh_host_ed25519_key.pub", lambda o: o.startswith("0\n"))
        self.figures.append(f"SSH as root with the form's key, password refused (publickey only); host key {host_key.split()[2]}")

    def check_found(self):
        """The box by its name: the host name (Imager's, or o4send- and the board's digits), mDNS
        answered by systemd-resolved on the wired link, and the banner's addresses."""
        want = IMAGER_HOST if self.target != "pi3" else "o4send"
        name = self.expect("the host name", "cat /proc/sys/kernel/hostname", lambda o: o.startswith(want))
        self.expect("mDNS on the wired link", "resolvectl mdns", lambda o: "(eth0): yes" in o or self.target == "pi3")
        self.expect("resolved answers mDNS (UDP 5353)", "ss -ulnpH 'sport = :5353'",
                    lambda o: "systemd-resolve" in o or self.target == "pi3")
        self.expect("the banner's addresses", "sleep 5; cat /run/o4send/banner/issue",
                    lambda o: "addresses: " in o and (self.target == "pi3" or "eth0 10.0.2.15" in o))
        self.figures.append(f"host name {name}" + ("" if self.target == "pi3" else f", {name}.local by mDNS on eth0"))

    def check_grown(self, figure=True):
        out = self.expect("the data partition", "findmnt -rno SOURCE /run/buildroot/mounts/var", lambda o: o.startswith("/dev/"))
        part = out.rsplit("/", 1)[1]
        rc, growdata = self.run("systemctl is-active o4send-growdata.service; journalctl -b -o cat -t o4send-growdata")
        # The disk is the partition's parent in sysfs (vda for vda4, mmcblk0 for mmcblk0p4).
        rc, sizes = self.run(f"p=$(readlink -f /sys/class/block/{part}); cat $p/../size $p/start $p/size; "
                             f"df -BM --output=size /run/buildroot/mounts/var | tail -1")
        total, start, size, fs = sizes.split()
        if int(start) + int(size) != int(total):
            raise Failed(f"the data partition {part} does not reach the disk's end ({start}+{size} of {total} sectors): {growdata}")
        if figure:
            self.figures.append(f"data partition grown{' (after a cut)' if self.cut_after_table else ''} to {int(size) // 2048} MiB, file system {fs}")
        return growdata

    def check_dashboard(self):
        """The dashboard over HTTPS with the box's own certificate, whose fingerprint the login page
        shows; plain HTTP only sends the browser there."""
        url = f"https://127.0.0.1:{self.tls_port}/login"
        end = time.time() + 120
        while True:
            try:
                with urllib.request.urlopen(url, timeout=20, context=UNVERIFIED) as r:
                    body = r.read().decode(errors="replace")
                    if r.status == 200 and "o4send" in body:
                        break
            except (urllib.error.URLError, OSError) as e:
                err = e
            if time.time() > end:
                raise Failed(f"the dashboard does not answer {url} through QEMU's network: {err}")
            time.sleep(3)
        pem = ssl.get_server_certificate(("127.0.0.1", self.tls_port), timeout=20)
        print_ = ":".join(f"{b:02X}" for b in hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).digest())
        if print_ not in body:
            raise Failed(f"the login page does not show the certificate's fingerprint {print_}")
        plain = f"http://127.0.0.1:{self.port}/login"
        no_redirect = urllib.request.build_opener(NoRedirect)
        try:
            no_redirect.open(plain, timeout=20)
            raise Failed(f"{plain} answered in clear text instead of redirecting to HTTPS")
        except urllib.error.HTTPError as e:
            where = e.headers.get("Location", "")
            if e.code != 307 or not where.startswith("https://"):
                raise Failed(f"{plain}: {e.code} to '{where}', want 307 to https://")
        self.figures.append(f"dashboard answered {url} (200, certificate SHA-256 {print_[:11]}… on its "
                            f"login page), plain HTTP redirected (307)")

    def second_boot(self):
        self.shell = False
        if self.target == "pi3":
            self.power_cycle()
        else:
            self.con.send("systemctl reboot\n")
        self.boot_and_login("after a reboot")
        self.expect("the file under /var after the reboot", "cat /var/lib/o4send-boot-test", lambda o: o == "boot-test")
        growdata = self.check_grown(figure=False)
        if "nothing to do" not in growdata:
            raise Failed(f"o4send-growdata did something on the second boot: {growdata}")
        self.expect("o4send.service READY again", "sleep 5; systemctl is-active o4send.service", lambda o: o == "active", 60)
        ready = self.expect("READY's time", "systemctl show -P ActiveEnterTimestampMonotonic o4send.service",
                            lambda o: o.strip().isdigit())
        if self.target == "pi":
            # The slot proves itself: o4send ran three minutes without a restart, so
            # o4send-healthy gives slot A its tries back.
            self.expect("slot A confirmed healthy", "until [ \"$(systemctl show -P SubState o4send-healthy.service)\" = exited ]; "
                        "do sleep 5; done; journalctl -b -o cat -t o4send-healthy | tail -1; o4send bootstate show",
                        lambda o: "ran healthy for 180 s" in o and "order A, tries left A 3 B 0 (copy 1)" in o, 400)
            self.figures.append("slot A confirmed healthy after 180 s of o4send (tries back to 3)")
        again = "a power cycle" if self.target == "pi3" else "a reboot"
        self.figures.append(f"after {again} READY {int(ready) / 1e6:.1f} s after the kernel started, "
                            "the file under /var still there, growdata: nothing to do")

    def power_cycle(self):
        """The Pi restarts through its watchdog, which is not loaded on raspi3b (see above): the
        system shuts down cleanly, then the power goes off and on (QEMU ends and starts again)."""
        self.con.send("systemctl poweroff\n")
        if self.con.wait(rb"reboot: (Power down|.*System halted)", 120) is None:
            raise Failed("systemctl poweroff: the kernel did not say it halted within 120 s")
        self.stop()
        self.con.sock.close()
        self.start()

    def journal(self):
        if self.shell:
            rc, out = self.con.run("journalctl -b --no-pager -o short-monotonic | tail -n 150; "
                                   "systemctl --failed --no-legend", 120)
            if rc is not None:
                return out
        try:
            with open(os.path.join(self.work, "console.log"), "rb") as f:
                return f.read()[-12000:].decode(errors="replace")
        except FileNotFoundError:
            return "(no console log: the guest was never started)"


    def stop(self):
        if self.qemu and self.qemu.poll() is None:
            self.qemu.kill()
            self.qemu.wait()


def fat_offset(disk):
    out = sh("sfdisk", "--dump", disk)
    for line in out.splitlines():
        if line.startswith(disk + "1 "):
            return int(line.split("start=")[1].split(",")[0]) * 512
    raise Failed("no first partition in the image")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_up(work, passed):
    """Removes the work directory after a pass; after a failure keeps its logs but not its disk
    images (gigabytes each: a few failed runs would fill a CI machine's disk).
    O4SEND_BOOT_KEEP=1 keeps everything."""
    if os.environ.get("O4SEND_BOOT_KEEP") == "1":
        return f"console log, QEMU log and disks kept in {work}"
    if passed:
        shutil.rmtree(work, ignore_errors=True)
        return "work directory removed"
    for name in os.listdir(work):
        if name.endswith((".img", ".raucb", ".fd")):
            os.remove(os.path.join(work, name))
    return f"console log and QEMU log in {work} (disks removed; O4SEND_BOOT_KEEP=1 keeps them)"


def main():
    args = sys.argv[1:]
    cut = "--cut-after-table" in args
    args = [a for a in args if a != "--cut-after-table"]
    if len(args) != 2 or args[0] not in ("pi", "pi3", "pc"):
        sys.exit("usage: boot-test.py pi|pi3|pc IMAGE [--cut-after-table]")
    test = BootTest(args[0], args[1], cut)
    status = 1
    try:
        test.prepare()
        test.start()
        test.first_boot()
        test.second_boot()
        print(f"boot-test: {test.target}: PASS ({'; '.join(test.figures)})")
        status = 0
    except (Failed, EOFError, subprocess.CalledProcessError, OSError) as e:
        print(f"boot-test: {test.target}: the guest's journal (or console) follows")
        print(test.journal())
        print(f"boot-test: {test.target}: FAIL: {e}")
    finally:
        test.stop()
        print(f"boot-test: {test.target}: {clean_up(test.work, status == 0)}")
    sys.exit(status)


if __name__ == "__main__":
    main()
