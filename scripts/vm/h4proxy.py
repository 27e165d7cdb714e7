#!/usr/bin/python3
"""H4 re-framing proxy between the rig VMs' controller ports and `btvirt -s` (host side).

Why it exists: without it, emulated controllers wedge under ACL traffic (pitfall below), and about
20 % of new pairings fail with "security block" in the two-VM setup.

QEMU's 16550 emulation hands the guest's UART output to the chardev one byte at a time, but
btvirt's server (emulator/server.c, BlueZ 5.66) cannot reassemble an ACL packet whose header is
split across reads (and keeps partial data in a buffer shared by all clients).  This proxy listens on
one unix socket per VM (QEMU connects as client), reassembles complete H4 packets from the guest and
writes each one with a single send() to btvirt's /tmp/bt-server-bredr.

btvirt->guest: packets are passed through, except that after an Encryption Change event ACL data for
that guest is held back until the guest's own "Read Encryption Key Size" command has completed (max
1 s).  A real controller answers that command within microseconds; through the slow emulated path
(TCG + virtio-serial + btvirt) the peer's L2CAP Connection Request could otherwise overtake it, and the
Linux 6.1 acceptor then refuses the channel with "Connection refused - security block"
(hci_conn_check_link_mode(): enc_key_size still 0).  Set H4PROXY_NO_HOLD=1 to disable.

Each LISTEN_SOCKET is one controller: QEMU connects to it as a client (one virtconsole port per
socket); every accepted connection gets its own connection to btvirt, i.e. its own emulated
controller (btvirt gives controllers addresses in connection order). Connections are logged.

The out-of-range phone ("ghost"): with H4PROXY_GHOST="LISTEN_SOCKET|ADDR|NAME", every time the guest
on LISTEN_SOCKET starts an inquiry, the proxy adds an Extended Inquiry Result for ADDR (class phone,
name NAME, Object Push UUID in its EIR) half a second after btvirt's Command Status. No controller has that
address, so every page to it ends in Page Timeout: a phone that answered the inquiry and was gone by
the time it was paged. Why not a real controller switched off after being seen: btvirt answers
inquiries only from controllers with *page* scan on (btdev.c checks scan_enable & 0x02), so
"inquiry scan only" is impossible, and powering one off after o4send saw it races o4send's page.
Pages to the ghost never reach btvirt: btvirt fails a page to an unknown address at once, which no
real controller does, and Linux 6.1 answers that ordering with a kernel BUG in hci_chan_del (an
L2CAP socket released after its link was already torn down) that kills bluetoothd. So the proxy
answers the guest's Create Connection itself like a real controller: Command Status at once, then
Connection Complete with Page Timeout (0x04) after 5.12 s; a Create Connection Cancel is answered
with Command Complete and Connection Complete "Unknown Connection Identifier" (0x02).

A controller unplugged (its guest connection closes): btvirt destroys that emulated controller and
silently drops the far ends of its links (btdev_destroy() sends no event), so the peers' hosts keep
half-open ACL links: the next connection from the same address gets "Ignoring HCI_Connection_Complete
for existing connection" / "ACL packet for unknown connection handle" in the peer's kernel, and its
set-ups fail for good. A real controller's peers end such links by supervision timeout. The proxy
plays that part: it learns every controller's address (Read BD_ADDR) and its peers' ACL handles
(Connection/Disconnection Complete), and when a pair closes it sends each peer guest a Disconnection
Complete with reason Connection Timeout (0x08) for its links to the vanished controller.

Secure Simple Pairing on the responder (the phone): btdev keeps one IO capability per controller,
not per pairing, and sends the responder's host an IO Capability Request only while that value is
0 (cmd_io_cap_reply(): `if (conn->link->dev->io_cap)`). From a phone's second pairing on, its
kernel therefore gets IO Capability Response, then User Confirmation Request, but no IO Capability
Request, so it never takes the reference that Simple Pairing Complete drops: the ACL's reference
count underflows (WARNING in hci_conn_timeout) and the kernel disconnects the link about 6 s after
pairing, in the middle of whatever runs on it (a prompt, a 1 MiB transfer). The proxy rewrites the
capability in the responder's IO Capability Request Reply to 0 (DisplayOnly; with the appliance's
NoInputNoOutput it is Just Works either way), so btdev asks the phone's host every time, in the
order a real responder sees: IO Capability Response, IO Capability Request, User Confirmation.

Usage: h4proxy.py BTVIRT_SOCKET LISTEN_SOCKET [LISTEN_SOCKET ...]
"""
import os, selectors, socket, struct, sys, time
HOLD = os.environ.get('H4PROXY_NO_HOLD') != '1'

target = sys.argv[1]
sel = selectors.DefaultSelector()

def h4_len(buf):
    """length of the first complete H4 packet in buf, or None if incomplete"""
    if not buf: return None
    t = buf[0]
    if t in (0x01, 0x03):          # command (opcode16, plen8) / SCO (handle16, len8)
        if len(buf) < 4: return None
        n = 4 + buf[3]
    elif t in (0x02, 0x05):        # ACL (handle16, len16) / ISO (handle16, len14)
        if len(buf) < 5: return None
        n = 5 + (struct.unpack_from('<H', buf, 3)[0] & (0x3fff if t == 5 else 0xffff))
    elif t == 0x04:                # event (code8, plen8)
        if len(buf) < 3: return None
        n = 3 + buf[2]
    else:
        raise ValueError('bad H4 packet type 0x%02x' % t)
    return n if len(buf) >= n else None

GHOST = os.environ.get('H4PROXY_GHOST', '').split('|')

def ghost_event(addr, name):
    """HCI Extended Inquiry Result event (0x2F) for a phone at addr."""
    eir = bytes([len(name) + 1, 0x09]) + name.encode() + bytes([3, 0x03, 0x05, 0x11])   # name, UUID16 0x1105
    eir = eir.ljust(240, b'\0')
    ba = bytes(int(x, 16) for x in reversed(addr.split(':')))
    body = bytes([1]) + ba + bytes([1, 0]) + bytes([0x0c, 0x02, 0x10]) + b'\0\0' + bytes([0xc4]) + eir   # rssi -60
    return bytes([0x04, 0x2f, len(body)]) + body

pairs = set()
class Pair:
    def __init__(self, guest, path=None):
        self.ghost = ghost_event(GHOST[1], GHOST[2]) if len(GHOST) == 3 and GHOST[0] == path else None
        self.ghost_ba = bytes(int(x, 16) for x in reversed(GHOST[1].split(':'))) if self.ghost else None
        self.page_due = None   # when the pending page to the ghost times out
        self.ghost_due = None  # when the ghost answers the inquiry under way
        self.guest, self.buf = guest, b''
        self.rbuf, self.held, self.hold_since = b'', [], None
        self.addr = None       # this controller's BD_ADDR (little-endian), from Read BD_ADDR
        self.links = {}        # handle -> peer BD_ADDR of this guest's open connections
        self.responding = set()  # peers whose IO Capability Response came first: we are the responder
        self.replied = set()     # peers we sent our IO capability first: we are the initiator
        self.bt = socket.socket(socket.AF_UNIX); self.bt.connect(target)
        sel.register(guest, selectors.EVENT_READ, self.from_guest)
        sel.register(self.bt, selectors.EVENT_READ, self.from_bt)
        pairs.add(self)
    def close(self):
        pairs.discard(self)
        for s in (self.guest, self.bt):
            try: sel.unregister(s)
            except Exception: pass
            s.close()
        if self.addr is not None:
            for p in list(pairs): p.peer_vanished(self.addr)
    def peer_vanished(self, addr):
        """Supervision timeout for every link of this guest to the controller at addr."""
        for handle in [h for h, a in self.links.items() if a == addr]:
            del self.links[handle]
            print('h4proxy: link %d to vanished controller timed out' % handle, flush=True)
            try: self.guest.sendall(bytes([0x04, 0x05, 4, 0x00]) + struct.pack('<H', handle) + b'\x08')
            except OSError: pass
    def track(self, pkt):
        """Learns this controller's address and its open links from controller->host events."""
        if pkt[0] != 0x04 or len(pkt) < 4: return
        if pkt[1] == 0x0e and pkt[4:6] == b'\x09\x10' and len(pkt) >= 13 and pkt[6] == 0:   # CC Read BD_ADDR
            if self.addr != bytes(pkt[7:13]):
                print('h4proxy: controller %s' % ':'.join('%02X' % b for b in reversed(pkt[7:13])), flush=True)
            self.addr = bytes(pkt[7:13])
        elif pkt[1] == 0x03 and len(pkt) >= 13 and pkt[3] == 0:                              # Connection Complete
            self.links[struct.unpack_from('<H', pkt, 4)[0]] = bytes(pkt[6:12])
        elif pkt[1] == 0x05 and len(pkt) >= 6 and pkt[3] == 0:                               # Disconnection Complete
            self.links.pop(struct.unpack_from('<H', pkt, 4)[0], None)
        elif pkt[1] == 0x32 and len(pkt) >= 9:                                               # IO Capability Response
            peer = bytes(pkt[3:9])
            if peer in self.replied: self.replied.discard(peer)
            else: self.responding.add(peer)
        elif pkt[1] == 0x36 and len(pkt) >= 10:                                              # Simple Pairing Complete
            self.responding.discard(bytes(pkt[4:10])); self.replied.discard(bytes(pkt[4:10]))
    def from_guest(self):
        d = self.guest.recv(65536)
        if not d: return self.close()
        self.buf += d
        while True:
            n = h4_len(self.buf)
            if n is None: break
            pkt, self.buf = self.buf[:n], self.buf[n:]
            pkt = self.responder_io_cap(pkt)
            if not self.ghost_page(pkt): self.bt.sendall(pkt)
    def responder_io_cap(self, pkt):
        """IO Capability Request Reply (0x042B) of a pairing responder: capability -> 0 (see above)."""
        if pkt[0] != 0x01 or pkt[1:3] != b'\x2b\x04' or len(pkt) < 13:
            return pkt
        peer = bytes(pkt[4:10])
        if peer not in self.responding:
            self.replied.add(peer)
            return pkt
        self.responding.discard(peer)
        return pkt[:10] + b'\x00' + pkt[11:]
    def ghost_page(self, pkt):
        """Answers Create Connection (0x0405) and its Cancel (0x0408) for the ghost; True if handled."""
        if not self.ghost or pkt[0] != 0x01 or pkt[4:10] != self.ghost_ba: return False
        if pkt[1:3] == b'\x05\x04':
            self.guest.sendall(bytes([0x04, 0x0f, 4, 0x00, 1, 0x05, 0x04]))   # Command Status: pending
            self.page_due = time.monotonic() + 5.12
            return True
        if pkt[1:3] == b'\x08\x04':
            self.guest.sendall(bytes([0x04, 0x0e, 10, 1, 0x08, 0x04, 0x00]) + self.ghost_ba)   # CC Cancel ok
            if self.page_due is not None: self.conn_complete(0x02)
            return True
        return False
    def conn_complete(self, status):
        self.page_due = None
        self.guest.sendall(bytes([0x04, 0x03, 11, status, 0, 0]) + self.ghost_ba + bytes([0x01, 0x00]))
    def flush(self):
        if self.held: self.guest.sendall(b''.join(self.held))
        self.held, self.hold_since = [], None
    def from_bt(self):
        d = self.bt.recv(65536)
        if not d: return self.close()
        self.rbuf += d
        while True:
            n = h4_len(self.rbuf)
            if n is None: break
            pkt, self.rbuf = self.rbuf[:n], self.rbuf[n:]
            self.track(pkt)
            if self.hold_since is not None and pkt[0] == 0x02:
                self.held.append(pkt); continue
            self.guest.sendall(pkt)
            if self.ghost and pkt[:2] == b'\x04\x0f' and pkt[3] == 0 and pkt[5:7] == b'\x01\x04':  # CS Inquiry ok
                # Answer a moment later, as a real phone does: a result that overtakes the kernel's
                # own "discovery started" bookkeeping is dropped without a Device Found.
                self.ghost_due = time.monotonic() + 0.5
            if not HOLD: continue
            if pkt[0] == 0x04 and pkt[1] == 0x08 and pkt[3] == 0 and pkt[6] != 0:   # Encryption Change, on
                self.hold_since = time.monotonic()
            elif pkt[0] == 0x04 and pkt[1] == 0x0e and pkt[4:6] == b'\x08\x14':      # CC Read Enc Key Size
                self.flush()
    def tick(self):
        if self.ghost_due is not None and time.monotonic() >= self.ghost_due:
            self.ghost_due = None
            self.guest.sendall(self.ghost)
        if self.hold_since is not None and time.monotonic() - self.hold_since > 1.0:
            self.flush()
        if self.page_due is not None and time.monotonic() >= self.page_due:
            self.conn_complete(0x04)   # Page Timeout

def make_listener(path):
    if os.path.exists(path): os.unlink(path)
    l = socket.socket(socket.AF_UNIX); l.bind(path); l.listen(4)
    def accept():
        g = l.accept()[0]
        print('h4proxy: controller connected on %s' % path, flush=True)
        Pair(g, path)
    sel.register(l, selectors.EVENT_READ, accept)

for p in sys.argv[2:]: make_listener(p)
print('h4proxy ready', flush=True)
while True:
    for key, _ in sel.select(timeout=0.1):
        try:
            key.data()
        except OSError as e:   # a VM went away (quit, or its port was unplugged): drop that pair only
            owner = getattr(key.data, '__self__', None)
            print('h4proxy: connection error %r' % e, flush=True)
            if isinstance(owner, Pair): owner.close()
    for p in list(pairs): p.tick()
