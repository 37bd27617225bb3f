#!/bin/bash
# Build a tillpi SD-card image with pi-gen (Raspberry Pi OS Bookworm, arm64).
#
#   images/build.sh kiosk|edge [PI_GEN_DIR]
#
# Needs a Debian/Ubuntu host with pi-gen's dependencies (see pi-gen's README: qemu-user-static,
# debootstrap, ...) or Docker (set USE_DOCKER=1). The image lands in PI_GEN_DIR/deploy/.
set -euo pipefail

role=${1:?usage: build.sh kiosk|edge [PI_GEN_DIR]}
case "$role" in kiosk|edge) ;; *) echo "build.sh: role must be kiosk or edge" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
pigen=${2:-$here/.pi-gen}
pigen_ref=${PI_GEN_REF:-arm64}

if [[ ! -d "$pigen" ]]; then
  git clone --depth 1 --branch "$pigen_ref" https://github.com/RPi-Distro/pi-gen.git "$pigen"
fi

# The stage, with its files/ filled: the wheel, firmware-config, the install scripts, VERSION.
stage="$pigen/stage-tillpi-$role"
rm -rf "$stage"
cp -a "$here/pi-gen/stage-tillpi-$role" "$stage"
files="$stage/00-tillpi/files"
mkdir -p "$files/wheels"
python3 -m pip wheel --no-deps --wheel-dir "$files/wheels" "$repo"
cp -a "$repo/firmware-config" "$files/firmware-config"
install -m 755 "$here/common/install-files.sh" "$here/common/enable-units.sh" "$files/"
version=$(git -C "$repo" describe --tags --always --dirty 2>/dev/null || echo dev)
echo "$version" > "$files/VERSION"

# pi-gen reads its settings from `config`. stage2 is Raspberry Pi OS Lite: no desktop.
cat > "$pigen/config" <<CONFIG
IMG_NAME=tillpi-$role
RELEASE=bookworm
TARGET_HOSTNAME=tillpi-$role
LOCALE_DEFAULT=en_GB.UTF-8
TIMEZONE_DEFAULT=${TILLPI_TIMEZONE:-Asia/Shanghai}
FIRST_USER_NAME=${TILLPI_ADMIN_USER:-tillpi-admin}
DISABLE_FIRST_BOOT_USER_RENAME=1
FIRST_USER_PASS="${TILLPI_ADMIN_PASS:?set TILLPI_ADMIN_PASS (console login only; SSH takes keys only)}"
ENABLE_SSH=1
PUBKEY_ONLY_SSH=1
PUBKEY_SSH_FIRST_USER="${TILLPI_ADMIN_PUBKEY:?set TILLPI_ADMIN_PUBKEY to the admin SSH public key}"
STAGE_LIST="stage0 stage1 stage2 $stage"
CONFIG

cd "$pigen"
if [[ "${USE_DOCKER:-0}" == 1 ]]; then
  ./build-docker.sh
else
  sudo ./build.sh
fi
