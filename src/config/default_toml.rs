//! The commented default config printed by `o4send config default`: the reference for every key.
//! A test keeps it equal to `Config::default()`.

pub const DEFAULT_TOML: &str = r#"# o4send configuration. Every key is optional; the values shown are the defaults.
# Environment overrides: O4SEND_<SECTION>__<KEY>, e.g. O4SEND_POLICY__MIN_RSSI=-80.

[appliance]
# This box's name in logs and reports.
name = "o4send"
# sender_name = "Booth 12"                  # what phones show; default: the campaign's
# Writable data directory: the SQLite log and the active content live here.
data_dir = "/var/lib/o4send"
# db = "/var/lib/o4send/o4send.db"          # default: <data_dir>/o4send.db
# content_dir = "/var/lib/o4send/content"   # default: <data_dir>/content
# IANA time zone for the campaign's dates and daily hours.
time_zone = "UTC"
# Where the daemon publishes its live state for the dashboard and the status LED (a tmpfs).
live_dir = "/run/o4send/live"
# The status LED `o4send led` drives (Linux LED class): the Pi's green ACT LED.
status_led = "/sys/class/leds/ACT"

[radio]
# "bluez" for real controllers, "sim" for simulated phones.
backend = "bluez"

# One table per controller. role: "scan", "push" or "both".
# A radio that scans pages badly: with two controllers, give each one job.
# slots: concurrent pushes on this radio, 1 to 7 (a controller holds at most 7 links).
[[radio.adapters]]
id = "hci0"
role = "both"
slots = 3

[radio.sim]
# The simulated hall (backend = "sim"): deterministic under the seed.
seed = 1
phones = 50
arrival_window_secs = 600
dwell_min_secs = 1200
dwell_max_secs = 2400

[radio.sim.mix]
# Relative weights of phone behaviours.
accept = 40
decline = 14
ignore = 6
prompt_expires = 4
no_opp = 10
refuse_connection = 4
drop_mid_transfer = 5
refuse_type = 4
slow_link = 7
out_of_range = 6

[obex]
connect_timeout_secs = 20
# How long a phone's user may take to decide; then ABORT and "ignored".
decision_timeout_secs = 60
packet_timeout_secs = 15
# Android answers Forbidden when its own prompt expires (50 s): a Forbidden this late
# counts as "ignored", not "declined". 0 turns this off.
ignored_after_secs = 48
max_packet = 65535

[policy]
# min_rssi = -85                  # ignore devices heard more weakly (dBm)
# Device classes offered content: phone, computer, audio_video, wearable, peripheral,
# imaging, network, toy, health, miscellaneous, uncategorized.
classes = ["phone"]
# Always offered again (your own test phone); never contacted (opt-outs, staff).
allow = []
deny = []
# "ignored" is an answer: the phone is not asked again.
ignored_is_answer = true
# If ignored is not an answer: ask again after this long.
ignored_retry_secs = 3600
# Unreachable or failed attempts are retried with exponential back-off.
retry_limit = 3
retry_base_secs = 30
retry_max_secs = 600
# Allow-listed phones are offered again this long after their last attempt.
allow_resend_secs = 300
# After a phone declines one item, offer it the campaign's next item.
offer_next_after_decline = false

[engine]
# On SIGTERM, in-flight pushes get this long to finish, then they are aborted.
shutdown_grace_secs = 20
# Forget a device (here and in bluetoothd) this long after it was last seen.
forget_after_secs = 300
# Largest content item (bytes).
max_item_bytes = 8388608

[store]
# The log keeps this many days and at most this many MiB; answers are never pruned.
max_age_days = 90
max_size_mb = 256

[watchdog]
# With systemd's watchdog on (WatchdogSec=), the daemon stops pinging it, and so gets restarted,
# when a loop shows no progress for this long. A push worker's limit follows from [obex].
scan_stall_secs = 60
writer_stall_secs = 120

[update]
# A system update (docs/updates.md) is kept once o4send has run healthy_secs without a restart;
# a new system not kept trial_secs after it started restarts the box, and after three such
# starts the box goes back to the system it came from.
healthy_secs = 180
trial_secs = 900

[sync]
# Offline-first copy of the log to a central MySQL/MariaDB, and "already asked" shared by the
# fleet. No sync without mysql_url. TLS: add ?require_ssl=true to the URL.
# mysql_url = "mysql://o4send@db.example.org:3306/o4send?require_ssl=true"
# Secrets: better in the environment (O4SEND_SYNC__PASSWORD, O4SEND_SYNC__SECRET); a config
# file holding one must not be readable by everyone (chmod o-r; the image ships it as
# root:o4send 0640), or sync is refused.
# password = "..."                # replaces any password in the URL
# secret = "..."                  # at least 16 characters, the same on every appliance
# Appliances with the same fleet name never ask a phone another one already asked.
fleet = "default"
# Phones leave the appliance as HMAC-SHA256(secret, address); true sends raw addresses and
# device names instead.
raw_macs = false
# Rows per upload transaction.
batch = 1000
# A sync round every interval_secs (start to start; after a round that took longer, the next
# follows a tenth of the interval later), and the longest pause while the server is unreachable.
interval_secs = 30
backoff_max_secs = 300

[bundle]
# Content bundles from a USB stick (`o4send import`, docs/bundles.md) are refused unless signed
# by one of these minisign public keys: the base64 line of the .pub file that
# `o4send bundle keygen` (or `minisign -G`) wrote, e.g.
# trusted_keys = ["RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3"]
trusted_keys = []
# The largest bundle accepted, all its items together (bytes); each item is also capped by
# engine.max_item_bytes.
max_bundle_bytes = 67108864

[network]
# Rendered by `o4send setup` for systemd-networkd, wpa_supplicant and systemd-timesyncd.
ntp = []                          # none: timesyncd's own servers

[network.ethernet]
dhcp = true
# address = "192.168.1.50/24"     # a fixed address instead of DHCP
# gateway = "192.168.1.1"
# dns = ["192.168.1.1"]

[network.wifi]
# country = "DE"                  # needed with networks: the regulatory domain
networks = []
# [[network.wifi.networks]]
# ssid = "Expo-Staff"
# passphrase = "8 to 63 characters"   # none: an open network
# psk = "64 hex digits"               # instead of the passphrase: its WPA2 key (Imager writes it)
# hidden = false

[hotspot]
# The visitors' open Wi-Fi with the captive page (`o4send portal`); the Wi-Fi radio cannot be a
# client of network.wifi.networks at the same time.
enabled = false
# ssid = "Booth 12"               # none: the campaign's name, else appliance.name
band = "auto"                     # 5 GHz where the radio has it (leaves 2.4 GHz to Bluetooth), else 2.4; or "5", "2.4"
# channel = 36                    # none: 36 on 5 GHz, 1 on 2.4 GHz
address = "10.44.0.1"             # the box on the visitor network; visitors get the rest of its /24
max_visitors = 64

[console]
# root's password on the consoles as a crypt hash ($6$, $5$, $y$, $2b$); none: no login at all.
# password_hash = "$6$..."
# OpenSSH public keys that may log in as root over SSH, keys only; none: no SSH server runs.
ssh_keys = []

[dashboard]
# The operator's dashboard (`o4send dashboard`): its password as a crypt hash; without one it
# does not start.
# password_hash = "$6$..."
address = "0.0.0.0"
# HTTPS, with the box's own self-signed certificate (made on first start, kept in data_dir/tls;
# its fingerprint is on the banner, in `o4send status` and on the login page).
port = 8443
# Plain HTTP: "redirect" sends every browser to HTTPS; "serve" serves the dashboard in clear
# text too (each page warns: the password and the session can be read on the network).
http_port = 8080
http = "redirect"
# A session ends after this long without a request, and after session_max_secs anyway.
session_idle_secs = 1800
session_max_secs = 43200
# The box on the USB cable link to a laptop (Pi 4, Zero 2 W); the laptop gets an address of its
# /24 and a first visit over it needs no code.
usb_address = "10.55.0.1"
"#;
