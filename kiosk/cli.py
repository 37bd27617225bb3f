"""``tillpi kiosk ...`` / ``python -m kiosk ...``: the kiosk's device tools.

    diagnostics [--self-test] [--json] [--profile PATH]   every device and its status
    profile show [--profile PATH]                         the device profile, as JSON
    profile init [--profile PATH] [--hardware simulated|real]
                                                          write a profile of defaults
    calibrate {produce,bag} zero [--profile PATH]         empty platter: set the zero
    calibrate {produce,bag} span GRAMS [--profile PATH]   known mass on it: set the span
    scanner decode IMAGE...                               decode still images (JSON lines)
    pair [--print] [--no-window] [--fullscreen] [--data-dir D] [--profile PATH]
                                                          show (and print) the pairing code
    run [--headless | --fullscreen] [--shopper-sim [--shopper-pace S] [--shopper-seed N]]
        [--env-file kiosk.env] [--data-dir D] [--profile PATH]
                                                          run the kiosk until SIGTERM/SIGINT

Settings come from ``TILLPI_KIOSK_*`` variables (see :mod:`kiosk.settings`); ``--env-file``
adds those of a provisioned ``kiosk.env`` (variables already set win), ``--profile`` and
``--data-dir`` override them. ``run`` opens the kiosk window (``--fullscreen`` on the kiosk
itself) or runs headless; ``--shopper-sim`` lets simulated shoppers use the lane (every
device must be simulated). Exit codes: 0 done (also after SIGTERM/SIGINT), 1 a device or the
service failed, 2 bad usage, settings or profile.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

from kiosk.errors import DeviceConfigError, DeviceError, KioskError
from retail.clock import Clock

__all__ = ["main"]

log = logging.getLogger(__name__)

#: How many readings calibration takes at most while waiting for the weight to settle
#: (an HX711 gives 10 a second).
CALIBRATION_READINGS = 100


class _Io:
    def __init__(self, out: TextIO | None, err: TextIO | None) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr

    def say(self, text: str) -> None:
        self.out.write(text + "\n")

    def fail(self, text: str, code: int) -> int:
        self.err.write(f"tillpi kiosk: {text}\n")
        return code


def _parser() -> argparse.ArgumentParser:
    from kiosk import diagnostics

    parser = argparse.ArgumentParser(
        prog="tillpi kiosk", description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens (to stderr)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    diag = sub.add_parser("diagnostics", help="list every device and its status; --self-test tests each")
    diagnostics.add_arguments(diag)

    prof = sub.add_parser("profile", help="show or create the device profile")
    prof_sub = prof.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, text in (("show", "print the device profile as JSON"), ("init", "write a profile of defaults")):
        p = prof_sub.add_parser(name, help=text)
        _location_arguments(p)
        if name == "init":
            p.add_argument("--hardware", choices=("simulated", "real"),
                           help="every device's backend in a new profile (default simulated)")

    cal = sub.add_parser("calibrate", help="calibrate a real scale (zero, then span with a known mass)")
    cal.add_argument("scale", choices=("produce", "bag"))
    cal.add_argument("step", choices=("zero", "span"))
    cal.add_argument("grams", nargs="?", type=float, help="the known mass on the platter (span only)")
    _location_arguments(cal)

    scan = sub.add_parser("scanner", help="barcode scanner tools")
    scan_sub = scan.add_subparsers(dest="action", required=True, metavar="ACTION")
    dec = scan_sub.add_parser("decode", help="decode still images, one JSON line per image")
    dec.add_argument("images", nargs="+", metavar="IMAGE")

    pair = sub.add_parser("pair", help="show the pairing code and QR (from pairing.json) until the window closes")
    pair.add_argument("--print", action="store_true", help="also print the pairing slip on the receipt printer")
    pair.add_argument("--no-window", action="store_true", help="do not open the window (with --print: print only)")
    pair.add_argument("--fullscreen", action="store_true", help="open the window fullscreen")
    pair.add_argument("--language", default="en", help="the screen's first language (en or zh_CN)")
    _location_arguments(pair)

    run = sub.add_parser("run", help="run the kiosk (window or headless) until SIGTERM/SIGINT")
    mode = run.add_mutually_exclusive_group()
    mode.add_argument("--headless", action="store_true", help="no window (no Kivy): a loop plays the UI thread")
    mode.add_argument("--fullscreen", action="store_true", help="open the window fullscreen")
    run.add_argument("--shopper-sim", action="store_true", help="simulated shoppers use the lane")
    run.add_argument("--shopper-pace", type=float, default=0.5, metavar="S",
                     help="seconds per shopper step (default 0.5; small values compress a trading day)")
    run.add_argument("--shopper-seed", type=int, default=0, metavar="N", help="the shoppers' random seed")
    run.add_argument("--simulate-paper-out", type=float, metavar="S",
                     help="simulated printer only: run out of paper after S seconds, refilled S seconds later "
                          "(the demo's fault, so the printer alarm and its recovery show)")
    run.add_argument("--env-file", metavar="PATH", help="a kiosk.env of TILLPI_KIOSK_* settings")
    _location_arguments(run)
    return parser


def _location_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", metavar="PATH", help="device profile (default: <data folder>/profile.json)")
    parser.add_argument("--data-dir", metavar="PATH", help="the kiosk's data folder (TILLPI_KIOSK_DATA_DIR)")


# -- profile -------------------------------------------------------------------------------------


def _profile_dict(profile: Any) -> dict[str, Any]:
    scales = {}
    for name in profile.scale_names():
        settings = asdict(profile.scale_settings(name))
        settings.pop("name")
        scales[name] = {**settings, "calibration": profile.scale_calibration(name).to_dict()}
    printer = asdict(profile.printer_settings())
    printer.pop("spool_path")
    return {
        "path": str(profile.path),
        "lane": asdict(profile.lane()),
        "hardware": asdict(profile.hardware()),
        "pins": asdict(profile.pins()),
        "printer": printer,
        "camera": asdict(profile.camera_settings()),
        "scales": scales,
    }


def _profile_show(args: argparse.Namespace, io: _Io) -> int:
    from kiosk.profile import DeviceProfile
    from kiosk.settings import KioskSettings

    settings = KioskSettings.load(profile_path=args.profile, data_dir=args.data_dir)
    if not settings.profile_path.exists():
        return io.fail(
            f"no device profile at {settings.profile_path}; create one with: "
            f"tillpi kiosk profile init --profile {settings.profile_path}",
            1,
        )
    with DeviceProfile(settings.profile_path) as profile:
        io.say(json.dumps(_profile_dict(profile), ensure_ascii=False, indent=2))
    return 0


def _profile_init(args: argparse.Namespace, io: _Io) -> int:
    from kiosk.profile import DeviceProfile, HardwareSettings
    from kiosk.settings import KioskSettings

    settings = KioskSettings.load(profile_path=args.profile, data_dir=args.data_dir)
    path = settings.profile_path
    existed = path.exists()
    with DeviceProfile(path) as profile:
        if existed:
            profile.write_defaults()
            io.say(f"device profile {path} already exists; missing sections completed")
        else:
            if args.hardware is not None:
                profile.set_hardware(HardwareSettings(backend=args.hardware))
            io.say(f"device profile {path} created ({profile.hardware().backend} hardware)")
    return 0


# -- calibration ---------------------------------------------------------------------------------


def _calibrate(
    args: argparse.Namespace,
    io: _Io,
    *,
    pin_factory: Any,
    clock: Clock | None,
    sleep: Callable[[float], None] | None,
) -> int:
    from kiosk.composition import build_scale
    from kiosk.devices.scale import (
        ScaleCalibrationError,
        ScaleNotReadyError,
        ScaleUnstableError,
        calibrate_span,
        calibrate_zero,
    )
    from kiosk.settings import open_profile

    if args.step == "span" and (args.grams is None or not args.grams > 0):
        return io.fail("calibrate ... span needs the known mass in grams, more than 0: e.g. span 500", 2)
    if args.step == "zero" and args.grams is not None:
        return io.fail("calibrate ... zero takes no mass: empty the platter and run it alone", 2)
    with open_profile(profile_path=args.profile, data_dir=args.data_dir) as (settings, profile):
        device = f"{args.scale}_scale"
        if not settings.hardware.is_real(device):
            io.say(
                f"The {args.scale} scale is simulated in {settings.profile_path}, so there is nothing to "
                f"calibrate. Calibration is for the real scale: set hardware.{device} (or hardware.backend) "
                "to real on the kiosk itself."
            )
            return 1
        scale = build_scale(settings, profile, args.scale, pin_factory=pin_factory, clock=clock, sleep=sleep)
        try:
            for _ in range(CALIBRATION_READINGS):
                scale.update()
                try:
                    if args.step == "zero":
                        cal = calibrate_zero(scale, store=profile)  # type: ignore[arg-type]
                    else:
                        cal = calibrate_span(scale, args.grams, store=profile)  # type: ignore[arg-type]
                    break
                except (ScaleUnstableError, ScaleNotReadyError):
                    continue
                except ScaleCalibrationError as exc:
                    return io.fail(f"{args.scale} scale: {exc}", 1)
            else:
                return io.fail(
                    f"the {args.scale} scale did not give a settled reading in {CALIBRATION_READINGS} readings: "
                    "keep the platter still (and check its wiring), then try again",
                    1,
                )
        finally:
            scale.close()
    io.say(
        f"{args.scale} scale {args.step} calibrated: zero offset {cal.zero_offset}, "
        f"{cal.counts_per_gram:.4f} counts per gram; saved in {settings.profile_path}"
    )
    return 0


# -- run ---------------------------------------------------------------------------------------


def _read_env_file(path: str) -> dict[str, str]:
    """``KEY=VALUE`` lines (comments and blank lines skipped), as systemd's EnvironmentFile."""
    from kiosk.settings import KioskSettingsError

    values: dict[str, str] = {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise KioskSettingsError(f"env file {path} cannot be read: {exc.strerror}") from None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.partition("=")
        key = key.strip()
        if not sep or not key.replace("_", "").isalnum() or not key[0].isalpha():
            raise KioskSettingsError(f"{path}:{number}: not a KEY=VALUE line")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key] = value
    return values


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set the variables not set already, for the duration of the block."""
    added = [k for k in values if k not in os.environ]
    for key in added:
        os.environ[key] = values[key]
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


def _run(args: argparse.Namespace, io: _Io, *, pin_factory: Any, clock: Clock | None, **build_options: Any) -> int:
    from kiosk.service import KioskService, KioskServiceError
    from kiosk.settings import open_profile

    if args.shopper_pace < 0:
        return io.fail("--shopper-pace is seconds per step, 0 or more", 2)
    env = _read_env_file(args.env_file) if args.env_file else {}
    with _environment(env), open_profile(profile_path=args.profile, data_dir=args.data_dir) as (settings, profile):
        if args.shopper_sim and not settings.hardware.all_simulated:
            return io.fail("--shopper-sim drives simulated devices only; this profile has real hardware", 2)
        try:
            service = KioskService(settings, profile=profile, clock=clock, headless=args.headless,
                                   fullscreen=args.fullscreen, pin_factory=pin_factory, **build_options)
        except KioskServiceError as exc:
            return io.fail(str(exc), 1)
        if args.shopper_sim:
            from kiosk.simulated_shopper import SimulatedShopper

            shopper = SimulatedShopper.for_service(service, seed=args.shopper_seed,
                                                   seconds_per_step=args.shopper_pace)
            service.on_close(shopper.stop)  # it drives the lane: it stops first
            service.on_close(lambda: io.say("simulated shoppers: " + json.dumps(shopper.stats.as_dict(), sort_keys=True)))
            shopper.start()
        if args.simulate_paper_out is not None:
            printer = service.devices.printer
            if not hasattr(printer, "run_out_of_paper"):
                return io.fail("--simulate-paper-out needs the simulated printer", 2)
            stop = threading.Event()
            service.on_close(stop.set)

            def paper_fault() -> None:
                if not stop.wait(args.simulate_paper_out):
                    printer.run_out_of_paper()
                    io.say(f"kiosk {service.kiosk_id}: simulated printer out of paper")
                    if not stop.wait(args.simulate_paper_out):
                        printer.refill()
                        io.say(f"kiosk {service.kiosk_id}: simulated printer refilled")

            threading.Thread(target=paper_fault, name="paper-fault", daemon=True).start()
        io.say(f"kiosk {service.kiosk_id} of store {service.store_id} running "
               f"({'headless' if args.headless else 'fullscreen' if args.fullscreen else 'window'}"
               f"{', simulated shoppers' if args.shopper_sim else ''}); SIGTERM or Ctrl-C stops it")
        service.run(install_signals=True)
        io.say(f"kiosk {service.kiosk_id} stopped; {service.pending_at_close} sales wait for the edge in the journal")
    return 0


# -- pair ----------------------------------------------------------------------------------------


def _pair(args: argparse.Namespace, io: _Io, *, clock: Clock | None) -> int:
    from kiosk.settings import open_profile
    from kiosk.viewmodels.pairing import PairingFileError, load_pairing_file

    with open_profile(profile_path=args.profile, data_dir=args.data_dir) as (settings, profile):
        try:
            info = load_pairing_file(settings.data_dir)
        except PairingFileError as exc:
            return io.fail(str(exc), 2)
        io.say(f"kiosk {info.kiosk_id}, store {info.store_id}, lane {info.lane}: pairing code {info.code} "
               f"(valid until {info.expires_at.isoformat(timespec='minutes')})")
        if args.print:
            from kiosk.devices.printer.simulated import SimulatedReceiptPrinter
            from tillpi_ops.pairing import PairingCode, print_pairing_slip

            code = PairingCode(info.store_id, info.kiosk_id, info.lane, info.code, info.expires_at, info.payload)
            if settings.hardware.printer == "simulated":
                sent = print_pairing_slip(SimulatedReceiptPrinter(clock=clock), code)
                io.say(f"pairing slip sent to the simulated printer ({len(sent)} bytes)")
            else:
                from kiosk.devices.printer.settings import build_escpos

                connection = build_escpos(profile.printer_settings())
                try:
                    sent = print_pairing_slip(connection, code)
                finally:
                    connection.close()
                io.say(f"pairing slip printed ({len(sent)} bytes)")
    if args.no_window:
        return 0
    from kiosk.ui.env import DisplaySettings, prepare_kivy
    from kiosk.viewmodels.i18n import I18n
    from kiosk.viewmodels.pairing import PairingViewModel
    from retail.clock import SystemClock

    prepare_kivy(DisplaySettings(fullscreen=args.fullscreen, show_cursor=not args.fullscreen))
    from kiosk.ui.screens.pairing import PairingApp

    with PairingViewModel(I18n(args.language), info, clock=clock or SystemClock()) as view_model:
        PairingApp(view_model).run()
    return 0


# -- entry point ---------------------------------------------------------------------------------


def use_escpos_cache() -> None:
    """Give python-escpos one folder for its printer database cache, before it is imported.

    Without ``$ESCPOS_CAPABILITIES_PICKLE_DIR`` it makes a new temporary folder at every start
    and never removes it (a kiosk restarted daily slowly fills ``/tmp``), and re-parses its
    YAML database each time (about 140 ms and 3 MB). The folder is systemd's cache directory
    of the service (``$CACHE_DIRECTORY``), else ``$XDG_CACHE_HOME/tillpi`` or
    ``~/.cache/tillpi``; a variable set already is kept.
    """
    if "ESCPOS_CAPABILITIES_PICKLE_DIR" in os.environ:
        return
    base = os.environ.get("CACHE_DIRECTORY", "").split(":")[0] or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "tillpi")
    folder = Path(base) / "escpos"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        log.warning("no cache folder for the printer database at %s; python-escpos uses a temporary one", folder)
        return
    os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"] = str(folder)


def main(
    argv: Sequence[str] | None = None,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    pin_factory: Any = None,
    clock: Clock | None = None,
    sleep: Callable[[float], None] | None = None,
    **build_options: Any,
) -> int:
    """Run one kiosk command; returns the exit code. ``pin_factory``, ``clock``, ``sleep`` and
    ``build_options`` (e.g. ``health_sources``) reach the composition root (tests inject
    gpiozero's ``MockFactory`` and a fake clock)."""
    from kiosk.settings import KioskSettingsError

    use_escpos_cache()
    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.verbose:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    io = _Io(out, err)
    try:
        if args.command == "diagnostics":
            from kiosk.diagnostics import diagnose

            return diagnose(
                self_test=args.self_test, as_json=args.json, profile_path=args.profile, data_dir=args.data_dir,
                out=io.out, err=io.err, pin_factory=pin_factory, clock=clock, sleep=sleep, **build_options,
            )
        if args.command == "profile":
            return _profile_show(args, io) if args.action == "show" else _profile_init(args, io)
        if args.command == "calibrate":
            return _calibrate(args, io, pin_factory=pin_factory, clock=clock, sleep=sleep)
        if args.command == "scanner":
            from kiosk.devices.scanner.cli import decode_paths

            decode_paths(args.images, io.out)
            return 0
        if args.command == "pair":
            return _pair(args, io, clock=clock)
        if args.command == "run":
            return _run(args, io, pin_factory=pin_factory, clock=clock, **build_options)
    except (KioskSettingsError, DeviceConfigError) as exc:
        return io.fail(str(exc), 2)
    except DeviceError as exc:
        return io.fail(str(exc), 1)
    except KioskError as exc:
        return io.fail(str(exc), 1)
    return io.fail(f"unknown command {args.command!r}", 2)  # argparse refuses these first


if __name__ == "__main__":
    sys.exit(main())
