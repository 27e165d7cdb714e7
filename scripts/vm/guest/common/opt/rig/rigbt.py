#!/usr/bin/env python3
"""BlueZ/obexd helper of the o4send VM rig, run inside the guests (python3-dbus + python3-gi).

  rigbt.py phones CONF        phone VM daemon: sets up one emulated phone per controller as CONF says
                              ("PORT NAME BEHAVIOUR STATE" lines; PORT is the virtconsole tty, hvcN;
                              the rig writes one line per VM, scripts/vm/phones.conf says why),
                              runs obexd as their OPP server and an obexd agent that decides per
                              phone, writes /run/rig/phones.json and logs every ask to
                              /run/rig/asks.log (with the sender's name as the phone knows it)
  rigbt.py phone-on NAME      make a phone that started "off" appear (powered, discoverable)
  rigbt.py adapter HCI [--alias A] [--discoverable] [--class-phone] [--off]
  rigbt.py obexd-push --dest ADDR --file F [--source ADDR]   push with BlueZ's obexd client
                              (session bus from DBUS_SESSION_BUS_ADDRESS); prints "secs=..."
  rigbt.py discover HCI ADDR  inquiry until ADDR is seen (rig self-check)

Behaviours (the obexd agent's answer to AuthorizePush, chosen by the adapter that received it):
  accept  store into /srv/inbox/NAME/       decline  org.bluez.obex.Error.Rejected -> 0xC3 Forbidden
  ignore  never answer (the sender's decision timeout fires)
  (the out-of-range phone is not here: it is a "ghost" inquiry result added by h4proxy.py)

Object Push record (/etc/rig/opp-record, from phones.conf's OPP column; absent = obexd's own):
  rfcomm    RFCOMM channel only, no GoepL2capPsm (an older phone)
  dead-psm  RFCOMM channel and a GoepL2capPsm nothing listens on (the L2CAP channel is refused)
"""
import argparse, glob, json, os, re, subprocess, sys, time
import dbus, dbus.service, dbus.mainloop.glib
from gi.repository import GLib

BLUEZ = 'org.bluez'
RUN = '/run/rig'
OBEX_BUS = 'unix:path=/run/rig/obex-bus'


def log(*a):
    print('[rigbt %.3f]' % time.monotonic(), *a, flush=True)


def hci_of_port(port, timeout=60):
    """hciN whose parent tty is /dev/PORT (hci_uart sets the tty as the hci device's parent)."""
    end = time.time() + timeout
    while time.time() < end:
        for h in glob.glob('/sys/class/bluetooth/hci*'):
            if os.path.basename(os.path.realpath(h + '/device')) == port:
                return os.path.basename(h)
        time.sleep(0.2)
    raise SystemExit('no controller on /dev/%s after %ss' % (port, timeout))


def props(bus, path, iface):
    return dbus.Interface(bus.get_object(BLUEZ, path), 'org.freedesktop.DBus.Properties'), iface


def wait_adapter(bus, hci, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        try:
            p = dbus.Interface(bus.get_object(BLUEZ, '/org/bluez/' + hci), 'org.freedesktop.DBus.Properties')
            return p, str(p.Get('org.bluez.Adapter1', 'Address'))
        except dbus.DBusException:
            time.sleep(0.2)
    raise SystemExit('bluetoothd has no %s after %ss' % (hci, timeout))


def setup_adapter(bus, hci, alias=None, discoverable=False, phone_class=False, off=False):
    p, addr = wait_adapter(bus, hci)
    A = 'org.bluez.Adapter1'
    if off:
        p.Set(A, 'Powered', dbus.Boolean(False))
        return addr
    p.Set(A, 'Powered', dbus.Boolean(True))
    if alias:
        p.Set(A, 'Alias', alias)
    p.Set(A, 'Pairable', dbus.Boolean(True))
    if phone_class:   # Major class Phone, minor Smartphone (o4send offers content to class "phone")
        subprocess.run(['btmgmt', '--index', hci[3:], 'class', '2', '12'], check=True, stdout=subprocess.DEVNULL)
    if discoverable:
        p.Set(A, 'DiscoverableTimeout', dbus.UInt32(0))
        p.Set(A, 'Discoverable', dbus.Boolean(True))
    return addr


class BluezAgent(dbus.service.Object):
    """NoInputNoOutput pairing agent: Just Works, like a phone whose user taps nothing."""
    I = 'org.bluez.Agent1'
    @dbus.service.method(I, in_signature='', out_signature='')
    def Release(self): pass
    @dbus.service.method(I, in_signature='os', out_signature='')
    def AuthorizeService(self, dev, uuid): log('AuthorizeService', dev, uuid)
    @dbus.service.method(I, in_signature='o', out_signature='s')
    def RequestPinCode(self, dev): return '0000'
    @dbus.service.method(I, in_signature='o', out_signature='u')
    def RequestPasskey(self, dev): return dbus.UInt32(0)
    @dbus.service.method(I, in_signature='ouq', out_signature='')
    def DisplayPasskey(self, dev, pk, entered): pass
    @dbus.service.method(I, in_signature='os', out_signature='')
    def DisplayPinCode(self, dev, pin): pass
    @dbus.service.method(I, in_signature='ou', out_signature='')
    def RequestConfirmation(self, dev, pk): log('RequestConfirmation', dev)
    @dbus.service.method(I, in_signature='o', out_signature='')
    def RequestAuthorization(self, dev): log('RequestAuthorization', dev)
    @dbus.service.method(I, in_signature='', out_signature='')
    def Cancel(self): log('agent Cancel')


class Rejected(dbus.DBusException):
    _dbus_error_name = 'org.bluez.obex.Error.Rejected'


class ObexAgent(dbus.service.Object):
    """obexd's agent for every phone: the answer depends on which local adapter got the push."""
    I = 'org.bluez.obex.Agent1'

    def __init__(self, bus, path, phones):
        super().__init__(bus, path)
        self.bus, self.by_addr, self.pending = bus, {v['addr'].upper(): (k, v) for k, v in phones.items()}, []
        self.system = dbus.SystemBus()

    def sender(self, local, remote):
        """The sender's name as this phone's bluetoothd knows it (Device1.Name: the remote name the
        kernel asked for when the sender connected), what a phone shows in "X wants to send you"."""
        try:
            om = dbus.Interface(self.system.get_object(BLUEZ, '/'), 'org.freedesktop.DBus.ObjectManager').GetManagedObjects()
        except dbus.DBusException:
            return ''
        for ifs in om.values():
            d = ifs.get('org.bluez.Device1')
            if d and str(d.get('Address', '')).upper() == remote.upper():
                ad = om.get(d['Adapter'], {}).get('org.bluez.Adapter1', {})
                if str(ad.get('Address', '')).upper() == local.upper():
                    return str(d.get('Name', ''))
        return ''

    @dbus.service.method(I, in_signature='', out_signature='')
    def Release(self): pass

    @dbus.service.method(I, in_signature='', out_signature='')
    def Cancel(self): log('obex agent Cancel')

    @dbus.service.method(I, in_signature='o', out_signature='s', async_callbacks=('ok', 'err'))
    def AuthorizePush(self, transfer, ok, err):
        tp = dbus.Interface(self.bus.get_object('org.bluez.obex', transfer), 'org.freedesktop.DBus.Properties')
        t = tp.GetAll('org.bluez.obex.Transfer1')
        sp = dbus.Interface(self.bus.get_object('org.bluez.obex', t['Session']), 'org.freedesktop.DBus.Properties')
        s = sp.GetAll('org.bluez.obex.Session1')
        name, ph = self.by_addr.get(str(s['Source']).upper(), ('?', {'behaviour': 'decline'}))
        beh = ph['behaviour']
        rec = dict(t=time.time(), phone=name, behaviour=beh, remote=str(s['Destination']),
                   name=str(t.get('Name', '')), size=int(t.get('Size', 0)),
                   sender=self.sender(str(s['Source']), str(s['Destination'])))
        with open(RUN + '/asks.log', 'a') as f:
            f.write(json.dumps(rec) + '\n')
        log('AuthorizePush', rec)
        if beh == 'accept':
            d = '/srv/inbox/' + name
            os.makedirs(d, exist_ok=True)
            ok(d + '/' + os.path.basename(rec['name'] or 'unnamed'))
        elif beh == 'ignore':
            self.pending.append((ok, err))   # never answered: the user looks away
        else:
            err(Rejected('declined by rig phone ' + name))


def read_conf(path):
    phones = {}
    for line in open(path):
        line = line.split('#', 1)[0].split()
        if line:
            port, name, beh, state = line
            phones[name] = dict(port=port, behaviour=beh, state=state)
    return phones


def cmd_phones(a):
    os.makedirs(RUN, exist_ok=True)
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    bus = dbus.SystemBus()
    phones = read_conf(a.conf)
    BluezAgent(bus, '/rig/agent')
    am = dbus.Interface(bus.get_object(BLUEZ, '/org/bluez'), 'org.bluez.AgentManager1')
    am.RegisterAgent('/rig/agent', 'NoInputNoOutput')
    am.RequestDefaultAgent('/rig/agent')
    for name, ph in phones.items():
        ph['hci'] = hci_of_port(ph['port'])
        ph['addr'] = setup_adapter(bus, ph['hci'], alias=name, discoverable=True, phone_class=True,
                                   off=ph['state'] == 'off')
        log('phone', name, ph)
    # obexd: one OPP server for all adapters, on a private session bus. Not -a (auto-accept): our
    # agent decides. -p limits plugins to the OPP server (plain "-p bluetooth" makes obexd exit).
    if not os.path.exists(RUN + '/obex-bus'):
        subprocess.run(['dbus-daemon', '--config-file=/opt/rig/obex-bus.conf', '--fork', '--nopidfile', '--syslog-only'], check=True)
    env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=OBEX_BUS)
    os.makedirs('/srv/inbox', exist_ok=True)
    subprocess.Popen(['/usr/libexec/bluetooth/obexd', '-n', '-r', '/srv/inbox', '-p', 'bluetooth,filesystem,opp'],
                     env=env, stdout=open(RUN + '/obexd.log', 'w'), stderr=subprocess.STDOUT)
    sbus = dbus.bus.BusConnection(OBEX_BUS)
    end = time.time() + 30
    while True:
        try:
            oam = dbus.Interface(sbus.get_object('org.bluez.obex', '/org/bluez/obex'), 'org.bluez.obex.AgentManager1')
            break
        except dbus.DBusException:
            if time.time() > end:
                raise SystemExit('obexd did not come up')
            time.sleep(0.2)
    ObexAgent(sbus, '/rig/obexagent', phones)
    oam.RegisterAgent('/rig/obexagent')
    if os.path.exists('/etc/rig/opp-record'):
        rewrite_opp_record(open('/etc/rig/opp-record').read().strip())
    with open(RUN + '/phones.json.tmp', 'w') as f:
        json.dump(phones, f, indent=1)
    os.rename(RUN + '/phones.json.tmp', RUN + '/phones.json')
    log('phones ready')
    GLib.MainLoop().run()


DEAD_PSM = '0x1007'   # odd, upper byte's low bit clear: a valid PSM, and nothing listens on it


def local_opp_record():
    """(handle, RFCOMM channel) of this VM's Object Push record, via bluetoothd's -C socket."""
    out = subprocess.run(['sdptool', 'search', '--bdaddr', 'local', 'OPUSH'],
                         capture_output=True, text=True).stdout
    handle = re.search(r'Service RecHandle: (0x[0-9a-f]+)', out)
    channel = re.search(r'Channel: (\d+)', out)
    return (handle.group(1), channel.group(1)) if handle and channel else None


def rewrite_opp_record(kind):
    """Replaces obexd's OPP record (RFCOMM + GoepL2capPsm) with sdptool's RFCOMM-only one on the
    same channel, where bluetoothd still hands connections to obexd; dead-psm then adds a
    GoepL2capPsm that no socket listens on (sdptool writes it as a uint32, as some phones do)."""
    if kind not in ('rfcomm', 'dead-psm'):
        raise SystemExit('unknown OPP record kind %r' % kind)
    end = time.time() + 30
    while (found := local_opp_record()) is None:
        if time.time() > end:
            raise SystemExit('no OPP record of obexd to rewrite after 30 s')
        time.sleep(0.2)
    handle, channel = found
    subprocess.run(['sdptool', 'del', handle], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(['sdptool', 'add', '--channel=' + channel, 'OPUSH'], check=True, stdout=subprocess.DEVNULL)
    if kind == 'dead-psm':
        handle, _ = local_opp_record()
        subprocess.run(['sdptool', 'setattr', handle, '0x0200', DEAD_PSM], check=True, stdout=subprocess.DEVNULL)
    log('opp record', kind, 'channel', channel)


def cmd_phone_on(a):
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    bus = dbus.SystemBus()
    ph = json.load(open(RUN + '/phones.json'))[a.name]
    print(setup_adapter(bus, ph['hci'], alias=a.name, discoverable=True, phone_class=True))


def cmd_adapter(a):
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    print(setup_adapter(dbus.SystemBus(), a.hci, alias=a.alias, discoverable=a.discoverable,
                        phone_class=a.class_phone, off=a.off))


def cmd_discover(a):
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    bus = dbus.SystemBus()
    path = '/org/bluez/' + a.hci
    ad = dbus.Interface(bus.get_object(BLUEZ, path), 'org.bluez.Adapter1')
    want = path + '/dev_' + a.addr.upper().replace(':', '_')
    loop = GLib.MainLoop()
    t0 = time.monotonic()
    def added(p, ifs):
        if str(p) == want:
            loop.quit()
    bus.add_signal_receiver(added, 'InterfacesAdded', 'org.freedesktop.DBus.ObjectManager')
    try:
        ad.RemoveDevice(want)
    except dbus.DBusException:
        pass
    ad.SetDiscoveryFilter({'Transport': 'bredr'})
    ad.StartDiscovery()
    GLib.timeout_add(int(a.timeout * 1000), loop.quit)
    loop.run()
    ad.StopDiscovery()
    om = dbus.Interface(bus.get_object(BLUEZ, '/'), 'org.freedesktop.DBus.ObjectManager').GetManagedObjects()
    if want not in om:
        raise SystemExit('DISCOVERY FAIL: %s' % a.addr)
    print('DISCOVERY OK %s after %.2fs' % (a.addr, time.monotonic() - t0))


def cmd_obexd_push(a):
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    cl = dbus.Interface(bus.get_object('org.bluez.obex', '/org/bluez/obex'), 'org.bluez.obex.Client1')
    t0 = time.monotonic()
    opts = {'Target': 'opp'}
    if a.source:
        opts['Source'] = a.source
    sess = cl.CreateSession(a.dest, opts, timeout=a.timeout)
    op = dbus.Interface(bus.get_object('org.bluez.obex', sess), 'org.bluez.obex.ObjectPush1')
    loop = GLib.MainLoop()
    st = {}
    def changed(iface, ch, inv, path=None):
        if path == st.get('path') and 'Status' in ch:
            st['s'] = str(ch['Status'])
            if st['s'] in ('complete', 'error'):
                loop.quit()
    bus.add_signal_receiver(changed, 'PropertiesChanged', 'org.freedesktop.DBus.Properties', path_keyword='path')
    tpath, tprops = op.SendFile(os.path.abspath(a.file))
    st['path'] = tpath
    st['s'] = str(tprops.get('Status'))
    GLib.timeout_add(int(a.timeout * 1000), loop.quit)
    if st['s'] not in ('complete', 'error'):
        loop.run()
    secs = time.monotonic() - t0
    try:
        cl.RemoveSession(sess)
    except dbus.DBusException:
        pass
    print('obexd-push: status=%s secs=%.2f' % (st['s'], secs))
    sys.exit(0 if st['s'] == 'complete' else 1)


ap = argparse.ArgumentParser()
sp = ap.add_subparsers(dest='cmd', required=True)
x = sp.add_parser('phones'); x.add_argument('conf'); x.set_defaults(f=cmd_phones)
x = sp.add_parser('phone-on'); x.add_argument('name'); x.set_defaults(f=cmd_phone_on)
x = sp.add_parser('adapter'); x.add_argument('hci'); x.add_argument('--alias'); x.add_argument('--discoverable', action='store_true')
x.add_argument('--class-phone', action='store_true'); x.add_argument('--off', action='store_true'); x.set_defaults(f=cmd_adapter)
x = sp.add_parser('discover'); x.add_argument('hci'); x.add_argument('addr'); x.add_argument('--timeout', type=float, default=30); x.set_defaults(f=cmd_discover)
x = sp.add_parser('obexd-push'); x.add_argument('--source'); x.add_argument('--dest', required=True); x.add_argument('--file', required=True)
x.add_argument('--timeout', type=float, default=120); x.set_defaults(f=cmd_obexd_push)
a = ap.parse_args()
a.f(a)
