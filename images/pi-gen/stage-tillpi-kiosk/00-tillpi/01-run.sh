#!/bin/bash -e
# pi-gen, on the build host: copy the tillpi wheel(s) and firmware-config into the image.
# images/build.sh fills files/ (wheels/, firmware-config/, install-files.sh, enable-units.sh,
# VERSION) before pi-gen runs; pi-gen runs this script from this folder with ROOTFS_DIR set.
: "${ROOTFS_DIR:?run me from pi-gen}"

if ! compgen -G "files/wheels/tillpi-*.whl" >/dev/null; then
	echo "01-run.sh: no tillpi wheel in $(pwd)/files/wheels: build with images/build.sh" >&2
	exit 1
fi
install -d -m 755 "${ROOTFS_DIR}/opt/tillpi/wheels" "${ROOTFS_DIR}/opt/tillpi/bin"
install -m 644 files/wheels/*.whl "${ROOTFS_DIR}/opt/tillpi/wheels/"
install -m 644 files/VERSION "${ROOTFS_DIR}/opt/tillpi/VERSION"
install -m 755 files/enable-units.sh "${ROOTFS_DIR}/opt/tillpi/bin/enable-units.sh"
files/install-files.sh "${ROOTFS_DIR}" kiosk files/firmware-config
