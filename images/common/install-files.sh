#!/bin/bash
# Install tillpi's boot configuration, systemd units, udev rules and system settings into a
# root file system tree. Used by the pi-gen stages (ROOT = ${ROOTFS_DIR}) and by the tests
# (ROOT = a scratch folder); it only copies files, so it needs no chroot and no root.
#
#   install-files.sh ROOT ROLE FIRMWARE_CONFIG_DIR        ROLE is kiosk or edge
set -euo pipefail

if [[ $# -ne 3 ]]; then
  echo "usage: $0 ROOT kiosk|edge FIRMWARE_CONFIG_DIR" >&2
  exit 2
fi
root=$1
role=$2
src=$3
case "$role" in
  kiosk|edge) ;;
  *) echo "install-files.sh: role must be kiosk or edge, not '$role'" >&2; exit 2 ;;
esac
[[ -d "$root" ]] || { echo "install-files.sh: $root is not a folder" >&2; exit 2; }
[[ -f "$src/$role/config.txt" ]] || { echo "install-files.sh: $src is not firmware-config/" >&2; exit 2; }

put() {  # put MODE SOURCE DEST (DEST relative to the root)
  install -D -m "$1" "$src/$2" "$root/$3"
}

# Boot partition (Raspberry Pi OS Bookworm mounts it at /boot/firmware).
put 644 "$role/config.txt" boot/firmware/config.txt
put 644 "$role/cmdline.txt" boot/firmware/cmdline.txt

# Units common to both roles.
for unit in var-lib-tillpi.mount tillpi-firstboot.service tillpi-upgrade-check@.service \
            tillpi-health@.service tillpi-health@.timer tillpi-restart@.service; do
  put 644 "systemd/$unit" "etc/systemd/system/$unit"
done
if [[ "$role" == kiosk ]]; then
  units=(tillpi-kiosk.service)
  health=(tillpi-kiosk)
else
  units=(tillpi-broker.service tillpi-edge.service tillpi-backup.service tillpi-backup.timer)
  health=(tillpi-broker tillpi-edge)
fi
for unit in "${units[@]}"; do
  put 644 "systemd/$unit" "etc/systemd/system/$unit"
done
for name in "${health[@]}"; do
  put 644 "health/$name.env" "etc/tillpi/health/$name.env"
done

put 644 udev/99-tillpi.rules etc/udev/rules.d/99-tillpi.rules
put 644 common/sysusers.d/tillpi.conf usr/lib/sysusers.d/tillpi.conf
put 644 common/tmpfiles.d/tillpi.conf usr/lib/tmpfiles.d/tillpi.conf
put 644 common/journald.conf.d/tillpi.conf etc/systemd/journald.conf.d/tillpi.conf
put 644 common/system.conf.d/tillpi-watchdog.conf etc/systemd/system.conf.d/tillpi-watchdog.conf
put 644 common/logrotate.d/tillpi etc/logrotate.d/tillpi
put 755 scripts/tillpi-firstboot usr/local/sbin/tillpi-firstboot
put 644 README.md opt/tillpi/share/firmware-config/README.md

if [[ "$role" == kiosk ]]; then
  put 644 kiosk/sysctl.d/90-tillpi-kiosk.conf etc/sysctl.d/90-tillpi-kiosk.conf
  put 644 kiosk/pam.d/tillpi-kiosk etc/pam.d/tillpi-kiosk
fi

install -d -m 755 "$root/var/lib/tillpi"
echo "installed tillpi $role files into $root"
