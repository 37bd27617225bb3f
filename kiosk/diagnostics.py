"""Device diagnostics: ask every device how it is, or have it test itself.

    python -m kiosk.diagnostics [--self-test] [--json] [--profile PATH] [--data-dir PATH]
    python -m kiosk diagnostics ...            (the same)

prints a table (or JSON) of devices and statuses; the exit code is 0 when no device is at
fault or absent, 1 otherwise, 2 when the settings or the device profile are not valid. The
device list is a parameter; by default ``main`` builds the kiosk's six devices (scanner,
produce scale, bag scale, drawer, light, printer) through the composition root
(:func:`kiosk.composition.build_devices`) from the settings and the device profile. With
``--self-test`` each device tests itself: the scales read, the drawer pulses open, the
printer prints a test page, the camera grabs a frame and the decoder reads a test code.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence, TextIO

from kiosk.devices.health import DeviceHealth, DeviceStatus, HealthReporting
from retail.clock import Clock, SystemClock

if TYPE_CHECKING:
    from kiosk.composition import KioskDevices

__all__ = ["default_devices", "diagnose", "format_table", "main", "run_diagnostics"]

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


def default_devices(
    *,
    profile_path: str | None = None,
    data_dir: str | None = None,
    clock: Clock | None = None,
    **build_options: Any,
) -> KioskDevices:
    """The kiosk's devices as the composition root builds them from the settings (environment,
    ``profile_path``/``data_dir`` overrides) and the device profile. The caller closes them."""
    from kiosk.composition import build_devices
    from kiosk.settings import open_profile

    with open_profile(profile_path=profile_path, data_dir=data_dir) as (settings, profile):
        return build_devices(settings, profile, clock=clock, **build_options)


def _report(results: Sequence[DeviceHealth], as_json: bool, out: TextIO) -> int:
    if as_json:
        out.write(json.dumps([r.to_dict() for r in results], ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(format_table(results) + "\n")
    bad = any(r.status in (DeviceStatus.FAULT, DeviceStatus.ABSENT) for r in results)
    return 1 if bad else 0


def diagnose(
    *,
    self_test: bool = False,
    as_json: bool = False,
    profile_path: str | None = None,
    data_dir: str | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    clock: Clock | None = None,
    **build_options: Any,
) -> int:
    """Build the kiosk's devices, report each (health, or self-test), close them. Returns the
    exit code: 0 all usable, 1 a device at fault or absent (or unreachable), 2 bad settings
    or profile. ``build_options`` go to :func:`kiosk.composition.build_devices`
    (``pin_factory``, ``sleep``, ``health_sources``)."""
    from kiosk.composition import DeviceUnavailableError
    from kiosk.errors import DeviceConfigError
    from kiosk.settings import KioskSettingsError

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        devices = default_devices(profile_path=profile_path, data_dir=data_dir, clock=clock, **build_options)
    except (KioskSettingsError, DeviceConfigError) as exc:
        err.write(f"kiosk diagnostics: {exc}\n")
        return 2
    except DeviceUnavailableError as exc:
        err.write(f"kiosk diagnostics: {exc}\n")
        return 1
    with devices:
        results = run_diagnostics(devices.diagnostic_devices(), self_test=self_test, clock=clock)
    return _report(results, as_json, out)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The diagnostics options (shared with ``python -m kiosk diagnostics``)."""
    parser.add_argument("--self-test", action="store_true",
                        help="have each device test itself (prints a test page, pulses the drawer)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--profile", metavar="PATH", help="device profile (default: <data folder>/profile.json)")
    parser.add_argument("--data-dir", metavar="PATH", help="the kiosk's data folder (TILLPI_KIOSK_DATA_DIR)")


def main(
    argv: Sequence[str] | None = None,
    *,
    devices: Callable[[], Iterable[HealthReporting]] | Iterable[HealthReporting] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    **build_options: Any,
) -> int:
    """``devices`` given: report those (a callable's devices are closed afterwards, a list's are
    not). Otherwise the composition root builds the kiosk's devices (see :func:`diagnose`)."""
    parser = argparse.ArgumentParser(prog="python -m kiosk.diagnostics", description=__doc__.split("\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    out = out or sys.stdout
    if devices is None:
        return diagnose(self_test=args.self_test, as_json=args.json, profile_path=args.profile,
                        data_dir=args.data_dir, out=out, err=err, **build_options)
    owned = callable(devices)  # close only what main built itself
    built = list(devices()) if callable(devices) else list(devices)
    try:
        results = run_diagnostics(built, self_test=args.self_test)
    finally:
        if owned:
            for device in built:
                close = getattr(device, "close", None)
                if callable(close):
                    close()
    return _report(results, args.json, out)


if __name__ == "__main__":
    raise SystemExit(main())
