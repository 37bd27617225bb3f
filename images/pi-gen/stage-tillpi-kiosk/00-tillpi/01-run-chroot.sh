#!/bin/bash -e
# pi-gen, inside the image's chroot: the tillpi user, the venv, the units.
systemd-sysusers /usr/lib/sysusers.d/tillpi.conf

python3 -m venv /opt/tillpi/venv
/opt/tillpi/venv/bin/pip install --no-cache-dir --upgrade pip
wheel=$(ls /opt/tillpi/wheels/tillpi-*.whl)
# [pi] adds lgpio and RPi.GPIO (gpiozero's pin factories); --find-links prefers bundled wheels.
/opt/tillpi/venv/bin/pip install --no-cache-dir --find-links /opt/tillpi/wheels "${wheel}[pi]"

/opt/tillpi/bin/enable-units.sh kiosk
# No desktop and no first-boot wizard on a till.
systemctl disable userconfig.service 2>/dev/null || true
systemctl disable lightdm.service 2>/dev/null || true
