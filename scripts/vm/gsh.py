#!/usr/bin/python3
"""Runs a shell command in a rig guest over its ttyS1 autologin root shell (QEMU unix socket chardev):
the guests have no network, so this is the rig's only control channel. Only one client at a time per VM.
Usage: gsh.py -s SOCK [-t TIMEOUT] [--wait SECS] 'command'  -> prints output, exits with the guest rc
(124 on timeout)."""
import socket, sys, time, re, os, argparse, random, base64
ap = argparse.ArgumentParser()
ap.add_argument('-s', '--sock', required=True)
ap.add_argument('-t', '--timeout', type=float, default=120)
ap.add_argument('--wait', type=float, default=0, help='retry connecting/prompt for this many seconds')
ap.add_argument('cmd')
a = ap.parse_args()
deadline = time.time() + max(a.wait, 0) + a.timeout
def connect():
    t0 = time.time()
    while True:
        try:
            s = socket.socket(socket.AF_UNIX); s.connect(a.sock); return s
        except OSError:
            if time.time() - t0 > a.wait: raise
            time.sleep(0.2)
s = connect(); s.settimeout(0.5)
buf = b''
def readuntil(pat, limit):
    global buf
    t = time.time() + limit
    while time.time() < t:
        m = re.search(pat, buf)
        if m: return m
        try:
            d = s.recv(65536)
            if d: buf += d
        except socket.timeout:
            pass
    return None
tag = '%08x' % random.getrandbits(32)
# get a prompt; disable echo so output is clean
# A guest still booting does not read its console: the newlines queue up in the socket, so send
# one every 3 s, and a send that cannot go out yet is not an error.
t_end = time.time() + max(a.wait, 5)
while time.time() < t_end:
    try:
        s.sendall(b'\n')
    except socket.timeout:
        pass
    if readuntil(rb'# $', 3.0): break
else:
    sys.exit('no prompt')
s.sendall(('stty -echo; bind "set enable-bracketed-paste off" 2>/dev/null; PS1="# "; PS2=""; echo RDY""%s\n' % tag).encode())
m0 = readuntil(('RDY%s\r?\n' % tag).encode(), 10)
buf = buf[m0.end():] if m0 else b''
readuntil(rb'# $', 2)   # swallow the prompt that follows
buf = b''
# The command travels base64-encoded on one line: no PS2 continuation prompts for multi-line
# scripts, no quoting surprises; a subshell, so an "exit" in the command does not log the shell out.
# Output is what lies between the start and the end marker.
b64 = base64.b64encode(a.cmd.encode()).decode()
s.sendall(('echo __ST%s; (eval "$(echo %s | base64 -d)"); __rc=$?; echo; echo "__RC%s=$__rc"\n' % (tag, b64, tag)).encode())
m = readuntil(('__RC%s=(\\d+)' % tag).encode(), a.timeout)
out = buf[:m.start()] if m else buf
st = re.search(('__ST%s\r?\n' % tag).encode(), out)
if st: out = out[st.end():]
sys.stdout.write(out.decode(errors='replace').replace('\r\n', '\n').rstrip('\n') + '\n')
sys.exit(int(m.group(1)) if m else 124)
