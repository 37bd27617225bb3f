"""Small linters for what a Pi boots with: ``config.txt``, ``cmdline.txt`` and udev rules.

Pure functions (text in, problems out); each problem is a readable string with a line number.
The tests run them on ``firmware-config/``; an image build may run them too.

* ``config.txt``: ``key=value`` lines in ``[section]`` filters; keys must be known to the Pi
  firmware (the list below holds the ones tillpi uses and their common neighbours); a plain key
  set twice in one section is an error (the firmware takes the last one silently);
  ``dtoverlay``/``dtparam`` may repeat but not with the same value.
* ``cmdline.txt``: exactly one line; no duplicate parameters; ``root=`` and ``rootwait`` present.
* udev rules (systemd 252 has no ``udevadm verify``): every line is comma-separated
  ``KEY[{attr}] OP "value"`` with a known key and an operator allowed for it; a rule that
  assigns must also match something.
"""

from __future__ import annotations

import re

__all__ = ["CONFIG_TXT_KEYS", "lint_cmdline_txt", "lint_config_txt", "lint_udev_rules"]

#: config.txt keys (Raspberry Pi firmware documentation) that tillpi's files may use.
CONFIG_TXT_KEYS = frozenset({
    "arm_64bit", "arm_boost", "arm_freq", "auto_initramfs", "avoid_warnings", "camera_auto_detect",
    "disable_overscan", "disable_splash", "display_auto_detect", "display_rotate", "dtoverlay", "dtparam",
    "enable_uart", "gpu_mem", "hdmi_blanking", "hdmi_drive", "hdmi_force_hotplug", "hdmi_group", "hdmi_mode",
    "hdmi_cvt", "initramfs", "kernel", "lcd_rotate", "max_framebuffers", "over_voltage", "otg_mode",
    "usb_max_current_enable", "gpio", "boot_delay", "dtdebug", "force_turbo", "temp_limit",
})
_REPEATABLE = {"dtoverlay", "dtparam", "gpio"}
_SECTION = re.compile(r"^\[(all|none|pi[0-9a-z0-9+]*|cm[0-9a-z]*|board-type=0x[0-9a-fA-F]+|EDID=.+|gpio[0-9]+=[01]|HDMI:[01]|tryboot|0x[0-9a-fA-F]+)\]$")
_CONFIG_LINE = re.compile(r"^([a-z0-9_]+)=(\S.*)$")


def lint_config_txt(text: str) -> list[str]:
    """Problems in a ``config.txt`` (an empty list means it is clean)."""
    problems: list[str] = []
    seen: dict[str, set[str]] = {}
    section = "all"
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            if not _SECTION.match(line):
                problems.append(f"line {number}: unknown section filter {line}")
            section = line
            continue
        match = _CONFIG_LINE.match(line)
        if match is None:
            problems.append(f"line {number}: not key=value: {line!r}")
            continue
        key, value = match.group(1), match.group(2).strip()
        if key not in CONFIG_TXT_KEYS:
            problems.append(f"line {number}: unknown key {key!r}")
        slot = f"{section}:{key}"
        marker = value if key in _REPEATABLE else ""
        if marker in seen.setdefault(slot, set()):
            what = f"{key}={value}" if key in _REPEATABLE else key
            problems.append(f"line {number}: {what} set twice in {section}")
        seen[slot].add(marker)
    return problems


_CMDLINE_TOKEN = re.compile(r"^[A-Za-z0-9_.\-]+(=[^\s]+)?$")


def lint_cmdline_txt(text: str) -> list[str]:
    """Problems in a ``cmdline.txt``: one line, valid tokens, no duplicates, a root."""
    problems: list[str] = []
    lines = text.split("\n")
    if text.endswith("\n"):
        lines = lines[:-1]
    if len(lines) != 1:
        problems.append(f"cmdline.txt must be one line, found {len(lines)}")
    tokens = " ".join(lines).split()
    names: dict[str, str] = {}
    for token in tokens:
        if not _CMDLINE_TOKEN.match(token):
            problems.append(f"bad parameter {token!r}")
            continue
        name = token.split("=", 1)[0]
        # console= may repeat (several consoles); nothing else may
        if name in names and name != "console":
            problems.append(f"parameter {name} given twice ({names[name]} and {token})")
        names[name] = token
    for needed in ("root", "rootwait"):
        if needed not in names:
            problems.append(f"parameter {needed} is missing")
    return problems


# -- udev -------------------------------------------------------------------------------------

_MATCH_ONLY = {"ACTION", "DEVPATH", "KERNEL", "KERNELS", "SUBSYSTEM", "SUBSYSTEMS", "DRIVER", "DRIVERS",
               "ATTRS", "TAGS", "TEST", "PROGRAM", "RESULT", "CONST", "SYSCTL"}
_ASSIGN_ONLY = {"OWNER", "GROUP", "MODE", "SYMLINK", "RUN", "IMPORT", "OPTIONS", "LABEL", "GOTO",
                "SECLABEL", "WAIT_FOR", "NAME"}
_BOTH = {"ATTR", "ENV", "TAG", "NAME", "SYMLINK"}
_WITH_ATTR = {"ATTR", "ATTRS", "ENV", "TEST", "IMPORT", "RUN", "SYSCTL", "CONST", "SECLABEL"}
_ASSIGN_OPS = {"=", "+=", "-=", ":="}
_MATCH_OPS = {"==", "!="}
_TOKEN = re.compile(r'\s*([A-Z_]+)(?:\{([^}]*)\})?\s*(==|!=|\+=|-=|:=|=)\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)')


def lint_udev_rules(text: str) -> list[str]:
    """Problems in a udev rules file (an empty list means it parses)."""
    problems: list[str] = []
    logical: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        if raw.endswith("\\"):
            pending += raw[:-1]
            continue
        logical.append((start, pending + raw))
        pending = ""
    if pending:
        problems.append(f"line {start}: file ends inside a continued line")
    for number, line in logical:
        text_line = line.strip()
        if not text_line or text_line.startswith("#"):
            continue
        pos, matches, assigns = 0, 0, 0
        while pos < len(text_line):
            token = _TOKEN.match(text_line, pos)
            if token is None:
                problems.append(f"line {number}: cannot parse from {text_line[pos:pos + 40]!r}")
                break
            key, attr, op, _value = token.groups()
            pos = token.end()
            known = _MATCH_ONLY | _ASSIGN_ONLY | _BOTH
            if key not in known:
                problems.append(f"line {number}: unknown key {key}")
                continue
            if (attr is not None) != (key in _WITH_ATTR):
                problems.append(f"line {number}: {key} {'needs' if key in _WITH_ATTR else 'takes no'} {{attribute}}")
            if op in _MATCH_OPS:
                if key in _ASSIGN_ONLY and key not in _BOTH:
                    problems.append(f"line {number}: {key} cannot be matched with {op}")
                matches += 1
            elif op in _ASSIGN_OPS:
                if key in _MATCH_ONLY and key not in _BOTH:
                    problems.append(f"line {number}: {key} cannot be assigned with {op}")
                assigns += 1
        if assigns and not matches:
            problems.append(f"line {number}: a rule that assigns must match something")
        if not assigns:
            problems.append(f"line {number}: a rule that assigns nothing does nothing")
    return problems
