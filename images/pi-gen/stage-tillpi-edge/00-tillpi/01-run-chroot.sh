#!/bin/bash -e
# pi-gen, inside the image's chroot: the tillpi user, the venv, the units.
systemd-sysusers /usr/lib/sysusers.d/tillpi.conf

python3 -m venv /opt/tillpi/venv
/opt/tillpi/venv/bin/pip install --no-cache-dir --upgrade pip
wheel=$(ls /opt/tillpi/wheels/tillpi-*.whl)
/opt/tillpi/venv/bin/pip install --no-cache-dir --find-links /opt/tillpi/wheels "${wheel}"

# tillpi runs its own Mosquitto (tillpi-broker.service) from /var/lib/tillpi/broker;
# Debian's mosquitto.service would take port 1883 with an open configuration.
systemctl disable mosquitto.service
systemctl mask mosquitto.service

/opt/tillpi/bin/enable-units.sh edge
systemctl disable userconfig.service 2>/dev/null || true
