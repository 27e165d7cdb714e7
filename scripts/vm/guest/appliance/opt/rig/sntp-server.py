#!/usr/bin/env python3
"""The rig's NTP server on the access point's side (network namespace `ap` of the appliance VM).

A stock server (chrony, ntpd) cannot play this part: the namespace shares the appliance's kernel
and so its one wall clock, which is wrong on purpose and which timesyncd is about to step; such a
server would hand the appliance its own wrong time back. This one serves the host's time: the
appliance's QEMU keeps its CMOS clock at a fixed distance from the host's (`-rtc base=2020-01-01`),
vm-start.sh puts that distance on the kernel command line (o4s.rtc_offset=SECONDS), and the
server anchors real time once on an edge of the RTC's seconds and then follows CLOCK_MONOTONIC_RAW,
which no clock step nor frequency adjustment touches.

Usage: sntp-server.py ADDRESS   (answers NTPv3/v4 client requests on ADDRESS:123, stratum 1)
Logs one line per request to stdout.
"""
import socket, struct, sys, time

NTP_1970 = 2208988800


def rtc_offset():
    for a in open('/proc/cmdline').read().split():
        if a.startswith('o4s.rtc_offset='):
            return int(a.split('=', 1)[1])
    sys.exit('sntp-server: no o4s.rtc_offset= on the kernel command line')


def rtc_seconds():
    with open('/sys/class/rtc/rtc0/since_epoch') as f:
        return int(f.read())


def anchor():
    """(real epoch seconds, CLOCK_MONOTONIC_RAW) at one instant: waits for the RTC's next second."""
    off = rtc_offset()
    s0 = rtc_seconds()
    while True:
        s = rtc_seconds()
        if s != s0:
            return s + off, time.clock_gettime(time.CLOCK_MONOTONIC_RAW)
        time.sleep(0.002)


def ntp_ts(t):
    sec = int(t)
    return struct.pack('!II', sec + NTP_1970, int((t - sec) * 2**32) & 0xffffffff)


def main():
    addr = sys.argv[1]
    real0, mono0 = anchor()
    now = lambda: real0 + time.clock_gettime(time.CLOCK_MONOTONIC_RAW) - mono0
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 123))
    print('sntp-server: serving %s on %s:123 (rtc_offset %d)' % (
        time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(now())), addr, rtc_offset()), flush=True)
    while True:
        req, peer = s.recvfrom(512)
        t_rx = now()
        if len(req) < 48:
            continue
        vn = (req[0] >> 3) & 7
        if (req[0] & 7) != 3 or vn not in (3, 4):   # client requests only
            continue
        resp = bytes([(0 << 6) | (vn << 3) | 4, 1, req[2], 0xec])   # LI 0, server, stratum 1, 2^-20 s
        resp += struct.pack('!II', 0, 0x10)      # root delay 0, root dispersion 0.25 ms
        resp += b'RIG\0'                          # reference id of a stratum-1 source
        resp += ntp_ts(t_rx - 1) + req[40:48] + ntp_ts(t_rx)   # reference, origin, receive
        resp += ntp_ts(now())                     # transmit
        s.sendto(resp, peer)
        print('sntp-server: %s asked, answered %s' % (
            peer[0], time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(t_rx))), flush=True)


if __name__ == '__main__':
    main()
