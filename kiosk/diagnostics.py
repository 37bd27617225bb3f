"""Device diagnostics: ask every device how it is, or have it test itself.

    python -m kiosk.diagnostics [--self-test] [--json]

prints a table (or JSON) of devices and statuses; the exit code is 0 when no device is at
fault or absent, 1 otherwise. The device list is a parameter: for now ``main`` builds the
simulated devices it knows (the receipt printer); the composition root will pass the real ones.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Callable, Iterable, Sequence, TextIO

from kiosk.devices.health import DeviceHealth, DeviceStatus, HealthReporting
from retail.clock import Clock, SystemClock

__all__ = ["default_devices", "format_table", "main", "run_diagnostics"]

log = logging.getLogger(__name__)


def run_diagnostics(
    devices: Iterable[HealthReporting], *, self_test: bool, clock: Clock | None = None
) -> list[DeviceHealth]:
    """Each device's ``health()`` (or ``self_test()``), in order. A device that raises is
    reported as a fault with code ``diagnostics_error``; the others still run."""
    clock = clock or SystemClock()
    results: list[DeviceHealth] = []
    for device in devices:
        name = getattr(device, "name", type(device).__name__)
        try:
            results.append(device.self_test() if self_test else device.health())
        except Exception as exc:  # noqa: BLE001 - diagnostics report every failure, never stop
            log.warning("diagnostics of %s failed: %r", name, exc)
            results.append(
                DeviceHealth(name, DeviceStatus.FAULT, clock.now(), "diagnostics_error", f"{type(exc).__name__}: {exc}")
            )
    return results


def format_table(results: Sequence[DeviceHealth]) -> str:
    """A plain-text table: device, status, code, since, detail."""
    header = ("DEVICE", "STATUS", "CODE", "SINCE", "DETAIL")
    rows = [(r.device, r.status.value, r.code or "-", r.since.strftime("%Y-%m-%d %H:%M:%S"), r.detail) for r in results]
    widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(4)]
    lines = []
    for row in (header, *rows):
        cells = [str(row[i]).ljust(widths[i]) for i in range(4)] + [str(row[4])]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def default_devices(clock: Clock | None = None) -> list[HealthReporting]:
    """The devices diagnostics can build on its own: the simulated receipt printer."""
    from kiosk.devices.printer import SimulatedReceiptPrinter

    return [SimulatedReceiptPrinter(name="printer", clock=clock)]


def main(
    argv: Sequence[str] | None = None,
    *,
    devices: Callable[[], Iterable[HealthReporting]] | Iterable[HealthReporting] | None = None,
    out: TextIO | None = None,
) -> int:
    parser = argparse.ArgumentParser(prog="python -m kiosk.diagnostics", description=__doc__.split("\n")[0])
    parser.add_argument("--self-test", action="store_true", help="have each device test itself (prints a test page)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    out = out or sys.stdout
    owned = devices is None or callable(devices)  # close only what main built itself
    if devices is None:
        built = list(default_devices())
    elif callable(devices):
        built = list(devices())
    else:
        built = list(devices)
    try:
        results = run_diagnostics(built, self_test=args.self_test)
    finally:
        if owned:
            for device in built:
                close = getattr(device, "close", None)
                if callable(close):
                    close()
    if args.json:
        out.write(json.dumps([r.to_dict() for r in results], ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(format_table(results) + "\n")
    bad = any(r.status in (DeviceStatus.FAULT, DeviceStatus.ABSENT) for r in results)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
