#!/bin/bash
# Enable tillpi's units for a role. In the image's chroot: `enable-units.sh kiosk`; offline on
# a root tree (tests): `enable-units.sh kiosk ROOT` (systemctl --root, no running systemd).
set -euo pipefail

role=${1:?usage: enable-units.sh kiosk|edge [ROOT]}
root=${2:-}
ctl=(systemctl)
if [[ -n "$root" ]]; then
  ctl+=("--root=$root")
fi

common=(var-lib-tillpi.mount tillpi-firstboot.service)
case "$role" in
  kiosk)
    units=(tillpi-kiosk.service tillpi-upgrade-check@kiosk.service tillpi-health@tillpi-kiosk.timer)
    ;;
  edge)
    units=(tillpi-broker.service tillpi-edge.service tillpi-upgrade-check@edge.service tillpi-backup.timer
           tillpi-health@tillpi-broker.timer tillpi-health@tillpi-edge.timer)
    ;;
  *)
    echo "enable-units.sh: role must be kiosk or edge, not '$role'" >&2
    exit 2
    ;;
esac

"${ctl[@]}" enable "${common[@]}" "${units[@]}"
if [[ "$role" == kiosk ]]; then
  # The shopper never sees a login prompt: cage owns tty1, and there is no desktop to fall back to.
  "${ctl[@]}" set-default graphical.target
  "${ctl[@]}" mask getty@tty1.service
fi
