# boot.cmd: U-Boot's script on the boot partition (boot.scr, made by image.sh with mkimage).
# It chooses the root slot, A (partition 2) or B (partition 3), and boots that slot's own kernel
# and initramfs. The state it keeps (src/update/bootstate.rs says the same in Rust):
#   BOOT_ORDER "A" or "A B" or "B A"; BOOT_A_LEFT, BOOT_B_LEFT the tries left (3 after an install
#   or a healthy run). Two copies of it, U-Boot environments of 16 KiB (32 sectors) in the raw
#   sectors at 1 MiB and 1 MiB + 16 KiB, before the first partition: no file system is written
#   at boot. Copy 1 first, copy 2 if copy 1's CRC fails (a power cut while it was written),
#   else a fresh card's state: slot A only.
# Each boot takes one try from the slot it boots, and writes that down before it loads anything,
# so a slot whose kernel fails to load or whose system never gets healthy (the running system
# gives the tries back, `o4send bootstate set-state X good`, after it ran healthy) runs out of
# tries and the next slot in the order boots. When every slot is out of tries (power cut again and
# again before a system got healthy), each slot in the order gets its tries back and the first
# boots: the box never stops in the boot loader.
# The same script runs on QEMU's arm64 machine with Debian's qemu_arm64 U-Boot (the boot test).

echo "o4send: choosing the root slot (${devtype} ${devnum})"
setexpr o4s_state ${kernel_addr_r} + 0x8000000
setexpr o4s_ramdisk ${kernel_addr_r} + 0x4000000
${devtype} dev ${devnum}
setenv BOOT_ORDER
if ${devtype} read ${o4s_state} 0x800 0x20 && env import -c ${o4s_state} 0x4000 BOOT_ORDER BOOT_A_LEFT BOOT_B_LEFT; then
  echo "o4send: boot state from copy 1"
elif ${devtype} read ${o4s_state} 0x820 0x20 && env import -c ${o4s_state} 0x4000 BOOT_ORDER BOOT_A_LEFT BOOT_B_LEFT; then
  echo "o4send: copy 1 of the boot state is torn; copy 2"
fi
if test -z "${BOOT_ORDER}"; then
  echo "o4send: no boot state: a fresh card, slot A"
  setenv BOOT_ORDER A
  setenv BOOT_A_LEFT 3
  setenv BOOT_B_LEFT 0
fi

setenv o4s_slot
for s in ${BOOT_ORDER}; do
  if test -z "${o4s_slot}"; then
    if test "${s}" = A && test ${BOOT_A_LEFT} -gt 0; then
      setexpr BOOT_A_LEFT ${BOOT_A_LEFT} - 1
      setenv o4s_slot A
    elif test "${s}" = B && test ${BOOT_B_LEFT} -gt 0; then
      setexpr BOOT_B_LEFT ${BOOT_B_LEFT} - 1
      setenv o4s_slot B
    fi
  fi
done
if test -z "${o4s_slot}"; then
  echo "o4send: every slot is out of tries (${BOOT_ORDER}): each gets its tries back"
  for s in ${BOOT_ORDER}; do
    setenv BOOT_${s}_LEFT 3
    if test -z "${o4s_slot}"; then
      setexpr BOOT_${s}_LEFT 2
      setenv o4s_slot ${s}
    fi
  done
fi
if test "${o4s_slot}" = B; then setenv o4s_part 3; else setenv o4s_part 2; fi
echo "o4send: slot ${o4s_slot} (order ${BOOT_ORDER}; tries left: A ${BOOT_A_LEFT}, B ${BOOT_B_LEFT})"
env export -c -s 0x4000 ${o4s_state} BOOT_ORDER BOOT_A_LEFT BOOT_B_LEFT
${devtype} write ${o4s_state} 0x800 0x20
${devtype} write ${o4s_state} 0x820 0x20

# The kernel's command line: the Pi's firmware made it from cmdline.txt (and its own additions)
# in the device tree; a machine without that firmware (QEMU's) gets a serial console. Root and
# slot are this boot's.
setenv o4s_args
fdt addr ${fdt_addr}
fdt get value o4s_args /chosen bootargs
if test -z "${o4s_args}"; then setenv o4s_args "console=ttyAMA0 rootwait ro fsck.repair=yes net.ifnames=0"; fi
setexpr o4s_args gsub "root=[^ ]*" "" "${o4s_args}"
# Raspberry Pi Imager 1.x's form adds a one-shot boot into its firstrun.sh (Raspberry Pi OS's
# helpers, not on this system): dropped, so such a card boots as usual and `o4send setup` says
# on the banner that the form was not applied.
setexpr o4s_args gsub "systemd.run[^ ]*" "" "${o4s_args}"
setexpr o4s_args gsub "systemd.unit=[^ ]*" "" "${o4s_args}"
setenv bootargs "${o4s_args} root=PARTUUID=6f347365-0${o4s_part} rauc.slot=${o4s_slot}"

if ext4load ${devtype} ${devnum}:${o4s_part} ${kernel_addr_r} /usr/lib/o4send/slot/vmlinuz && ext4load ${devtype} ${devnum}:${o4s_part} ${o4s_ramdisk} /usr/lib/o4send/slot/initrd.img; then
  booti ${kernel_addr_r} ${o4s_ramdisk}:${filesize} ${fdt_addr}
fi
echo "o4send: slot ${o4s_slot} did not boot; starting again (its try is spent)"
reset
