################################################################################
#
# o4send
#
################################################################################

# The package is this repository: its root is the parent of the BR2_EXTERNAL tree. Buildroot
# copies it with rsync; it does not notice edits by itself: `make o4send-rebuild`.
O4SEND_VERSION = $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' $(BR2_EXTERNAL_O4SEND_PATH)/../Cargo.toml | head -n 1)
O4SEND_SITE = $(BR2_EXTERNAL_O4SEND_PATH)/..
O4SEND_SITE_METHOD = local
O4SEND_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = \
	--exclude=/target/ --exclude=/output/ --exclude=/buildroot/ \
	--exclude=/board/ --exclude=/scripts/ --exclude=/docs/
# The crates linked statically: libdbus (built from source by the dbus crate's "vendored"
# feature) and ring; the other crates are MIT or Apache-2.0.
O4SEND_LICENSE = GPL-3.0+, AFL-2.1 or GPL-2.0+ (libdbus), Apache-2.0 and ISC (ring)

# Buildroot vendors a cargo package's crates in its download step
# (support/download/cargo-post-process), which the local site method skips, so the
# offline `cargo build --offline --locked` of the cargo infrastructure would find no crates.
# Vendor them here the same way, into the build directory. Needs the internet the first time;
# the crate files are then cached in $(BR_CARGO_HOME).
define O4SEND_VENDOR_CRATES
	mkdir -p $(BR_CARGO_HOME) $(@D)/.cargo
	cd $(@D) && $(TARGET_MAKE_ENV) CARGO_HOME=$(BR_CARGO_HOME) \
		flock $(BR_CARGO_HOME)/.br-lock \
		cargo vendor --locked VENDOR > $(@D)/.cargo/config.toml
endef
O4SEND_PRE_BUILD_HOOKS += O4SEND_VENDOR_CRATES

# The services' users on the read-only root: systemd-sysusers cannot write /etc there, so they
# are made at build time (board/common/post-fakeroot.sh checks every sysusers.d user exists):
# the daemon's, and the captive page's own in the daemon's group.
define O4SEND_USERS
	o4send -1 o4send -1 * /var/lib/o4send - - o4send Bluetooth push appliance
	o4send-portal -1 o4send -1 * - - - o4send captive page for visitors
endef

$(eval $(cargo-package))
