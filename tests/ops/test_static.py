"""Static checks of firmware-config/ and images/: shellcheck, systemd-analyze verify, config and udev lint.

The image's file layout is installed for real into a scratch root (images/common/install-files.sh)
and the units are verified and enabled there. ``systemd-analyze verify`` checks that each
ExecStart= binary exists and is executable, and these binaries (cage, the tillpi venv) are not on
this machine: the scratch root gets executable stubs at exactly the paths the units name, plus a
copy of this machine's own system units (targets, logind, ...), and verify runs with ``--root``.
Every warning it prints fails the test (it exits 0 on unknown keys).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tillpi_ops.lint import lint_cmdline_txt, lint_config_txt, lint_udev_rules

REPO = Path(__file__).resolve().parents[2]
FIRMWARE = REPO / "firmware-config"
IMAGES = REPO / "images"
ROLES = ("kiosk", "edge")
SYSTEM_UNITS = Path("/usr/lib/systemd/system")


def _tool(name: str) -> str:
    path = shutil.which(name) or (f"/usr/bin/{name}" if os.access(f"/usr/bin/{name}", os.X_OK) else None)
    if path is None:
        pytest.fail(f"{name} is not installed: the static checks need it (apt-get install -y {name}; "
                    "it is in tools/bootstrap.sh's system packages)")
    return path


def shell_scripts() -> list[Path]:
    """Every shell script: *.sh and any file whose first line is a sh/bash shebang."""
    found = []
    for base in (FIRMWARE, IMAGES):
        for path in sorted(base.rglob("*")):
            if not path.is_file() or ".pi-gen" in path.parts:
                continue
            if path.suffix == ".sh":
                found.append(path)
                continue
            with open(path, "rb") as handle:
                first = handle.readline()
            if re.match(rb"^#!\s*/(usr/)?bin/(env\s+)?(ba)?sh\b", first):
                found.append(path)
    return found


def test_there_are_shell_scripts_to_check() -> None:
    names = {p.name for p in shell_scripts()}
    assert {"install-files.sh", "enable-units.sh", "build.sh", "01-run.sh", "01-run-chroot.sh", "prerun.sh",
            "tillpi-firstboot"} <= names


@pytest.mark.parametrize("script", shell_scripts(), ids=lambda p: str(p.relative_to(REPO)))
def test_shell_script_passes_shellcheck(script: Path) -> None:
    shellcheck = _tool("shellcheck")
    result = subprocess.run([shellcheck, "--shell=bash", "--severity=style", str(script)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_shellcheck_catches_a_bad_script(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sh"
    bad.write_text('#!/bin/bash\nrm -rf $1/*\n')
    result = subprocess.run([_tool("shellcheck"), str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "SC2086" in result.stdout


@pytest.mark.parametrize("script", [p for p in shell_scripts() if p.suffix == ".sh" or p.name == "tillpi-firstboot"],
                         ids=lambda p: p.name)
def test_shell_scripts_are_executable(script: Path) -> None:
    assert script.stat().st_mode & stat.S_IXUSR, f"{script} is not executable"


# -- config.txt / cmdline.txt ------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_config_txt_is_clean_and_sets_what_a_till_needs(role: str) -> None:
    text = (FIRMWARE / role / "config.txt").read_text()
    assert lint_config_txt(text) == []
    assert "dtparam=watchdog=on" in text and "dtoverlay=disable-bt" in text and "disable_splash=1" in text
    if role == "kiosk":
        assert "camera_auto_detect=1" in text


@pytest.mark.parametrize("role", ROLES)
def test_cmdline_txt_is_one_line_with_fsck_repair_and_overlay_root(role: str) -> None:
    text = (FIRMWARE / role / "cmdline.txt").read_text()
    assert lint_cmdline_txt(text) == []
    tokens = text.split()
    assert "fsck.repair=yes" in tokens and "quiet" in tokens
    assert "overlayroot=tmpfs:recurse=0" in tokens and "root=ROOTDEV" in tokens


def test_config_linter_finds_unknown_and_duplicate_keys() -> None:
    problems = lint_config_txt("[all]\ncamera_auto_detect=1\ncamera_auto_detect=0\ndtparam=watchdog=on\n"
                               "dtparam=watchdog=on\nbogus_key=1\nnot a line\n[weird\n")
    assert any("camera_auto_detect set twice" in p for p in problems)
    assert any("dtparam=watchdog=on set twice" in p for p in problems)
    assert any("unknown key 'bogus_key'" in p for p in problems)
    assert any("not key=value" in p for p in problems)
    assert any("unknown section" in p for p in problems)


def test_cmdline_linter_refuses_two_lines_and_duplicates() -> None:
    problems = lint_cmdline_txt("root=ROOTDEV rootwait quiet quiet\nsplash\n")
    assert any("one line" in p for p in problems) and any("quiet given twice" in p for p in problems)


# -- udev ------------------------------------------------------------------------------------


def test_udev_rules_parse_and_cover_printers_scales_and_gpio() -> None:
    text = (FIRMWARE / "udev" / "99-tillpi.rules").read_text()
    assert lint_udev_rules(text) == []
    assert 'ATTR{idVendor}=="04b8"' in text and 'SYMLINK+="tillpi-printer"' in text
    assert 'SYMLINK+="tillpi-scale"' in text and 'KERNEL=="gpiochip[0-9]*", GROUP="gpio"' in text


def test_udev_linter_finds_broken_rules() -> None:
    problems = lint_udev_rules('SUBSYSTEM=="usb", GROUP="tillpi"\n'
                               'SUBSYSTEM=="usb" GROUP="tillpi"\n'
                               'KERNEL="lp0", MODE="0660"\n'
                               'ATTR=="x", MODE="0660"\n'
                               'FOO=="1", MODE="0660"\n')
    text = "\n".join(problems)
    assert "line 1" not in text
    assert "line 2: cannot parse" in text
    assert "line 3: KERNEL cannot be assigned" in text
    assert "line 4: ATTR needs {attribute}" in text
    assert "line 5: unknown key FOO" in text


# -- the image layout, installed into a scratch root -----------------------------------------


def _install(role: str, root: Path) -> None:
    root.mkdir()
    result = subprocess.run(["bash", str(IMAGES / "common" / "install-files.sh"), str(root), role, str(FIRMWARE)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def _exec_paths(unit_text: str) -> set[str]:
    paths = set()
    for line in unit_text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() in ("ExecStart", "ExecStartPre", "ExecStartPost", "ExecReload", "ExecStop"):
            binary = value.strip().lstrip("@-:+!")
            if binary:
                paths.add(binary.split()[0])
    return paths


def _prepare_verify_root(root: Path) -> list[Path]:
    units = sorted((root / "etc/systemd/system").glob("*.*"))
    target = root / "usr/lib/systemd/system"
    if SYSTEM_UNITS.is_dir() and not target.exists():
        shutil.copytree(SYSTEM_UNITS, target, symlinks=True)
    for unit in units:
        for binary in _exec_paths(unit.read_text()):
            stub = root / binary.lstrip("/")
            if not stub.exists():
                stub.parent.mkdir(parents=True, exist_ok=True)
                stub.write_text("#!/bin/sh\nexit 0\n")
                stub.chmod(0o755)
    return units


@pytest.mark.parametrize("role", ROLES)
def test_install_files_lays_out_the_image(role: str, tmp_path: Path) -> None:
    root = tmp_path / "root"
    _install(role, root)
    assert (root / "boot/firmware/config.txt").read_text() == (FIRMWARE / role / "config.txt").read_text()
    assert (root / "etc/udev/rules.d/99-tillpi.rules").is_file()
    assert os.access(root / "usr/local/sbin/tillpi-firstboot", os.X_OK)
    units = {p.name for p in (root / "etc/systemd/system").iterdir()}
    if role == "kiosk":
        assert "tillpi-kiosk.service" in units and "tillpi-broker.service" not in units
        assert (root / "etc/pam.d/tillpi-kiosk").is_file()
    else:
        assert {"tillpi-broker.service", "tillpi-edge.service", "tillpi-backup.timer"} <= units
        assert "tillpi-kiosk.service" not in units


def test_install_files_refuses_an_unknown_role(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    result = subprocess.run(["bash", str(IMAGES / "common" / "install-files.sh"), str(tmp_path / "root"), "server",
                             str(FIRMWARE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "role must be kiosk or edge" in result.stderr


@pytest.mark.parametrize("role", ROLES)
def test_units_pass_systemd_analyze_verify(role: str, tmp_path: Path) -> None:
    analyze = _tool("systemd-analyze")
    root = tmp_path / "root"
    _install(role, root)
    units = _prepare_verify_root(root)
    instances = {"tillpi-upgrade-check@.service": f"tillpi-upgrade-check@{role}.service",
                 "tillpi-health@.service": f"tillpi-health@tillpi-{role}.service",
                 "tillpi-health@.timer": f"tillpi-health@tillpi-{role}.timer",
                 "tillpi-restart@.service": f"tillpi-restart@tillpi-{role}.service"}
    names = [instances.get(u.name, u.name) for u in units]
    result = subprocess.run([analyze, "verify", "--man=no", "--generators=no", f"--root={root}", *names],
                            capture_output=True, text=True, timeout=120)
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 0 and output == "", output


def test_systemd_analyze_verify_catches_a_bad_unit(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc/systemd/system").mkdir(parents=True)
    (root / "etc/systemd/system/broken.service").write_text(
        "[Unit]\nDescription=x\n[Service]\nType=simpel\nExecStart=/opt/missing/bin/app\nRestat=always\n")
    _prepare_verify_root(root)
    (root / "opt/missing/bin/app").unlink()
    result = subprocess.run([_tool("systemd-analyze"), "verify", "--man=no", "--generators=no", f"--root={root}",
                             "broken.service"], capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert "simpel" in output and "Restat" in output and "not executable" in output


@pytest.mark.parametrize("role", ROLES)
def test_units_enable_offline_in_the_image_root(role: str, tmp_path: Path) -> None:
    systemctl = _tool("systemctl")
    root = tmp_path / "root"
    _install(role, root)
    _prepare_verify_root(root)
    env = {**os.environ, "PATH": f"{Path(systemctl).parent}:{os.environ.get('PATH', '')}"}
    result = subprocess.run(["bash", str(IMAGES / "common" / "enable-units.sh"), role, str(root)],
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    wants = root / "etc/systemd/system"
    if role == "kiosk":
        assert (wants / "graphical.target.wants/tillpi-kiosk.service").is_symlink()
        assert (wants / "getty@tty1.service").resolve() == Path("/dev/null")
        assert (wants / "timers.target.wants/tillpi-health@tillpi-kiosk.timer").is_symlink()
    else:
        assert (wants / "multi-user.target.wants/tillpi-broker.service").is_symlink()
        assert (wants / "multi-user.target.wants/tillpi-edge.service").is_symlink()
        assert (wants / "timers.target.wants/tillpi-backup.timer").is_symlink()
    assert (wants / "local-fs.target.wants/var-lib-tillpi.mount").is_symlink()


def test_units_are_hardened_and_restart() -> None:
    for name in ("tillpi-broker.service", "tillpi-edge.service", "tillpi-kiosk.service"):
        text = (FIRMWARE / "systemd" / name).read_text()
        for needed in ("User=tillpi", "Restart=always", "NoNewPrivileges=yes", "PrivateTmp=yes",
                       "ProtectSystem=strict", "ReadWritePaths=/var/lib/tillpi/", "StateDirectory=tillpi/"):
            assert needed in text, f"{name} lacks {needed}"
        # no app sends sd_notify: a WatchdogSec= would kill healthy services
        settings = [line for line in text.splitlines() if not line.startswith("#")]
        assert not any(line.startswith(("WatchdogSec=", "Type=notify")) for line in settings), name


def test_pi_gen_stages_follow_pi_gen_conventions() -> None:
    for role in ROLES:
        stage = IMAGES / "pi-gen" / f"stage-tillpi-{role}"
        assert (stage / "EXPORT_IMAGE").is_file() and os.access(stage / "prerun.sh", os.X_OK)
        sub = stage / "00-tillpi"
        packages = (sub / "00-packages").read_text().split()
        assert "python3-venv" in packages and "overlayroot" in packages
        assert os.access(sub / "01-run.sh", os.X_OK) and os.access(sub / "01-run-chroot.sh", os.X_OK)
        chroot = (sub / "01-run-chroot.sh").read_text()
        assert "systemd-sysusers" in chroot and f"enable-units.sh {role}" in chroot
    assert "mosquitto" in (IMAGES / "pi-gen/stage-tillpi-edge/00-tillpi/00-packages").read_text().split()
    kiosk_packages = (IMAGES / "pi-gen/stage-tillpi-kiosk/00-tillpi/00-packages").read_text().split()
    assert {"cage", "libzbar0", "fonts-noto-cjk"} <= set(kiosk_packages)
