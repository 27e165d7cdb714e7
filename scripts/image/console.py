"""A serial console of a QEMU guest, driven as a person at its keyboard would: wait for the login
prompt (and read the banner printed before it), log in, run shell commands and read their output
and exit status. Used by scripts/image/boot-test.py. Everything the console prints is appended
to a log file; only what arrives after each keystroke counts (a QEMU socket has no scrollback)."""
import re
import socket
import time

MARK = "__O4S_RC__"
# A kernel or journal line the guest prints on its console while a command runs ("[   50.27] ...").
CONSOLE_NOISE = re.compile(r"^\[\s*\d+\.\d+\] ")


class Console:
    def __init__(self, path, log_path, connect_timeout=30):
        end = time.time() + connect_timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.time() > end:
                    raise
                time.sleep(0.2)
        self.sock.settimeout(0.5)
        self.log = open(log_path, "ab")
        self.buf = b""

    def _read(self):
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return False
        if not data:
            raise EOFError("the guest's console closed (QEMU ended?)")
        self.buf += data
        self.log.write(data)
        self.log.flush()
        return True

    def wait(self, pattern, timeout, since=None):
        """Reads until `pattern` (bytes regex) matches what arrived after `since` (default: now).
        Returns the match, or None after `timeout` seconds."""
        start = len(self.buf) if since is None else since
        end = time.time() + timeout
        while True:
            m = re.search(pattern, self.buf[start:])
            if m:
                return m
            if time.time() >= end:
                return None
            self._read()

    def send(self, text):
        self.sock.sendall(text.encode())

    def login(self, user, password, timeout):
        """Waits for a login prompt and logs in: returns (banner text, True when a shell answers)."""
        since = len(self.buf)
        m = self.wait(rb"login: $|login: \x1b|\S+ login: ", timeout, since)
        if not m:
            return None, False
        banner = self.buf[since:since + m.start()].decode(errors="replace")
        self.send(user + "\n")
        if not self.wait(rb"Password: ", 30):
            return banner, False
        self.send(password + "\n")
        if not self.wait(rb"# $|# \x1b", 60):
            return banner, False
        # A plain shell for the machine: no echo, no prompt, no pager, no colours.
        self.send("stty -echo; export PS1= PS2= SYSTEMD_PAGER=cat SYSTEMD_COLORS=0 TERM=dumb\n")
        time.sleep(1)
        return banner, self.run("true", 30)[0] == 0

    def run(self, command, timeout=60):
        """Runs a shell command: (exit status, output), or (None, output so far) on a timeout."""
        since = len(self.buf)
        self.send(f"{command}; echo {MARK}$?__\n")
        m = self.wait(rb"__O4S_RC__(\d+)__", timeout, since)
        out = self.buf[since:].decode(errors="replace")
        if not m:
            return None, out
        out = self.buf[since:since + m.start()].decode(errors="replace")
        out = out.replace("\r", "")
        # The command line itself, if the terminal still echoed it, and the console's own messages.
        lines = [l for l in out.split("\n") if MARK not in l and not CONSOLE_NOISE.match(l)]
        return int(m.group(1)), "\n".join(lines).strip()
