"""The kiosk's composition root: the one place that builds its devices from settings and profile.

:func:`build_devices` reads each device's backend from :class:`~kiosk.settings.KioskSettings`
(resolved from the profile's hardware section) and builds the real adapter or the simulator:

============  ===========================================  ==========================
device        real                                         simulated
============  ===========================================  ==========================
scanner       CameraBarcodeScanner (camera, video, folder) SimulatedBarcodeScanner
produce/bag   Hx711Scale on the profile's pins             SimulatedScale
drawer        GpioCashDrawer, or PrinterKickCashDrawer     SimulatedCashDrawer
light         TowerLight, or RgbStatusLight (rgb pins)     SimulatedStatusLight
printer       EscposReceiptPrinter (python-escpos)         SimulatedReceiptPrinter
============  ===========================================  ==========================

Real GPIO devices use gpiozero's default pin factory unless ``pin_factory`` is given (tests
pass a ``MockFactory``). The scanner is wrapped in :class:`ScanFeedback`: every scan flashes
the light and beeps before it reaches the listener. Building starts no thread;
:meth:`KioskDevices.start` does. Nothing here runs at import.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from kiosk.devices.drawer import CashDrawer, GpioCashDrawer, PrinterKickCashDrawer, SimulatedCashDrawer
from kiosk.devices.health import DeviceHealth, DeviceStatus, HealthReporting
from kiosk.devices.light import RgbStatusLight, SimulatedStatusLight, StatusLight, TowerLight
from kiosk.devices.printer import (
    ReceiptPrinter,
    ReceiptSpool,
    SimulatedReceiptPrinter,
    build_receipt_printer,
)
from kiosk.devices.scale import Scale
from kiosk.devices.scale.factory import build_hx711_scale, build_simulated_scale
from kiosk.devices.scanner import BarcodeScanner, Scan, ScanCallback, SimulatedBarcodeScanner
from kiosk.errors import DeviceConfigError, DeviceError
from kiosk.health import HealthCollector, HealthSources
from kiosk.profile import CameraSettings, DeviceProfile, PinMap
from kiosk.settings import KioskSettings
from retail.clock import Clock, SystemClock

if TYPE_CHECKING:
    from kiosk.devices.scanner.frames import FrameSource

__all__ = [
    "DeviceUnavailableError",
    "DrawerPulseTest",
    "KioskDevices",
    "ScanFeedback",
    "build_devices",
    "build_frame_source",
    "build_scale",
]

log = logging.getLogger(__name__)

_T = TypeVar("_T")

SCALES = ("produce", "bag")


class DeviceUnavailableError(DeviceError, OSError):
    """A real device could not be reached while it was being built (no GPIO on this machine,
    a pin already in use)."""


# -- scan feedback -----------------------------------------------------------------------------


class ScanFeedback:
    """A :class:`~kiosk.devices.scanner.BarcodeScanner` that gives feedback on every scan.

    It takes over the wrapped scanner's ``on_scan``: each scan first flashes the status light
    (``flash_scan()``) and beeps (``beep()``), then goes to this object's own ``on_scan``
    listener (the checkout engine sets it). A light that fails is logged; the scan is still
    delivered. Callbacks run on the scanner's thread, as the port says. The wrapped scanner
    (for a simulator's verbs: ``feedback.inner.scan(code)``) is :attr:`inner`.
    """

    def __init__(self, scanner: BarcodeScanner, light: StatusLight, *, beep_s: float = 0.08) -> None:
        self.inner = scanner
        self.light = light
        self.beep_s = beep_s
        self.name = scanner.name
        self.on_scan: ScanCallback | None = scanner.on_scan
        scanner.on_scan = self._deliver

    def _deliver(self, scan: Scan) -> None:
        try:
            self.light.flash_scan()
            self.light.beep(self.beep_s)
        except DeviceError as exc:
            log.warning("scan feedback on %s failed: %s", self.light.name, exc)
        listener = self.on_scan
        if listener is not None:
            listener(scan)

    def start(self) -> None:
        self.inner.start()

    def stop(self) -> None:
        self.inner.stop()

    def close(self) -> None:
        self.inner.close()

    def health(self) -> DeviceHealth:
        return self.inner.health()

    def self_test(self) -> DeviceHealth:
        return self.inner.self_test()

    def __enter__(self) -> ScanFeedback:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<ScanFeedback {self.inner!r} -> {self.light.name}>"


class DrawerPulseTest:
    """The cash drawer as diagnostics sees it: ``self_test()`` pulses the drawer open (the
    drawer's own self-test only checks its driver) and reports its health afterwards."""

    def __init__(self, drawer: CashDrawer) -> None:
        self.drawer = drawer
        self.name = drawer.name

    def health(self) -> DeviceHealth:
        return self.drawer.health()

    def self_test(self) -> DeviceHealth:
        before = self.drawer.self_test()
        if before.status in (DeviceStatus.FAULT, DeviceStatus.ABSENT):
            return before
        try:
            self.drawer.open()
        except DeviceError as exc:
            log.warning("drawer self-test: %s", exc)
        return self.drawer.health()


class _PrinterKick:
    """What :class:`PrinterKickCashDrawer` needs (``cashdraw(pin)``) from the printer port."""

    def __init__(self, printer: ReceiptPrinter) -> None:
        self._printer = printer

    def cashdraw(self, pin: Any) -> None:
        self._printer.kick_drawer(int(pin))


# -- the devices -------------------------------------------------------------------------------


@dataclass(eq=False)
class KioskDevices:
    """Every device of one kiosk, built by :func:`build_devices`.

    A context manager; :meth:`close` closes every device once, in the reverse order of
    building (the health collector first, the status light last) and carries on past a
    device that fails to close.
    """

    scanner: ScanFeedback
    produce_scale: Scale
    bag_scale: Scale
    drawer: CashDrawer
    light: StatusLight
    printer: ReceiptPrinter
    health_collector: HealthCollector
    _closeables: list[Any] = field(default_factory=list, repr=False)
    _closed: bool = field(default=False, repr=False)

    def all(self) -> list[HealthReporting]:
        """The six devices, in the order diagnostics lists them."""
        return [self.scanner, self.produce_scale, self.bag_scale, self.drawer, self.light, self.printer]

    def diagnostic_devices(self) -> list[HealthReporting]:
        """The devices for :func:`kiosk.diagnostics.run_diagnostics`: as :meth:`all`, with
        the drawer's self-test pulsing it open."""
        return [self.scanner, self.produce_scale, self.bag_scale, DrawerPulseTest(self.drawer), self.light,
                self.printer]

    def start(self) -> None:
        """Start what runs on its own: the scanner, real scales' readers, a real light's ticker."""
        self._check_open()
        for device in (self.light, self.produce_scale, self.bag_scale):
            start = getattr(device, "start", None)
            if callable(start):
                start()
        self.scanner.start()

    def stop(self) -> None:
        for device in (self.scanner, self.bag_scale, self.produce_scale, self.light):
            stop = getattr(device, "stop", None)
            if callable(stop):
                stop()

    @property
    def closed(self) -> bool:
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise DeviceError("the kiosk's devices are closed")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        _close_all(self._closeables)

    def __enter__(self) -> KioskDevices:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _close_all(resources: list[Any]) -> None:
    for resource in reversed(resources):
        try:
            resource.close()
        except Exception:  # noqa: BLE001 - closing goes on for the others
            log.exception("closing %r failed", resource)


@contextmanager
def _gpio_errors(device: str) -> Iterator[None]:
    """Turn gpiozero's and the OS's errors while building a real device into one typed error."""
    try:
        yield
    except (DeviceError, DeviceConfigError):
        raise
    except Exception as exc:  # gpiozero's BadPinFactory, GPIOPinInUse, ..., OSError
        raise DeviceUnavailableError(
            f"{device}: the real device cannot be reached ({type(exc).__name__}: {exc}); "
            f"on a machine without it, set hardware.{device} to simulated in the device profile"
        ) from exc


# -- builders ------------------------------------------------------------------------------------


def build_frame_source(camera: CameraSettings) -> FrameSource:
    """The camera's frames: a camera index (``"0"``), a V4L2 device or a video file through
    OpenCV, or a folder of images (looped). OpenCV is imported here, not at start-up: a kiosk
    with a simulated scanner never loads it."""
    from kiosk.devices.scanner.frames import ImageFolderFrameSource, OpenCvFrameSource

    source = camera.source.strip()
    if source.isdigit():
        return OpenCvFrameSource(int(source), width=camera.width, height=camera.height, fps=camera.fps)
    if Path(source).is_dir():
        return ImageFolderFrameSource(source)
    return OpenCvFrameSource(source, width=camera.width, height=camera.height, fps=camera.fps)


def build_scale(
    settings: KioskSettings,
    profile: DeviceProfile,
    name: str,
    *,
    pin_factory: Any = None,
    clock: Clock | None = None,
    sleep: Callable[[float], None] | None = None,
) -> Scale:
    """One scale (``"produce"`` or ``"bag"``): an :class:`Hx711Scale` when its backend is real,
    else a :class:`SimulatedScale`."""
    if name not in SCALES:
        raise DeviceConfigError(f"no scale named {name!r}; the kiosk has {', '.join(SCALES)}")
    if settings.hardware.is_real(f"{name}_scale"):
        with _gpio_errors(f"{name}_scale"):
            return build_hx711_scale(profile, name, pin_factory=pin_factory, clock=clock, sleep=sleep)
    return build_simulated_scale(profile, name, clock=clock)


def _build_light(settings: KioskSettings, pins: PinMap, *, pin_factory: Any, clock: Clock) -> StatusLight:
    if not settings.hardware.is_real("light"):
        return SimulatedStatusLight(name="status_light", clock=clock)
    rgb = (pins.rgb_red, pins.rgb_green, pins.rgb_blue)
    with _gpio_errors("light"):
        if all(p is not None for p in rgb):
            return RgbStatusLight(*rgb, pins.buzzer, pin_factory=pin_factory, clock=clock)
        tower = (pins.light_green, pins.light_amber, pins.light_red)
        if any(p is None for p in tower):
            raise DeviceConfigError(
                "the pin map has no status light: set light_green, light_amber and light_red "
                "(a tower light) or rgb_red, rgb_green and rgb_blue (an RGB LED)"
            )
        return TowerLight(*tower, pins.buzzer, pin_factory=pin_factory, clock=clock)


def _build_printer(settings: KioskSettings, profile: DeviceProfile, *, clock: Clock, keep: list[Any]) -> ReceiptPrinter:
    printer_settings = replace(profile.printer_settings(), spool_path=str(settings.spool_path))
    if settings.hardware.is_real("printer"):
        return build_receipt_printer(printer_settings, clock=clock)
    spool = ReceiptSpool(settings.spool_path, clock=clock)
    keep.append(spool)  # the simulator does not close a spool it was handed
    return SimulatedReceiptPrinter(
        name=printer_settings.name,
        width_chars=printer_settings.width_chars,
        chinese_mode=printer_settings.chinese_mode,
        qr_native=printer_settings.qr == "native",
        profile=printer_settings.profile,
        spool=spool,
        clock=clock,
    )


def _build_scanner(settings: KioskSettings, profile: DeviceProfile, *, clock: Clock) -> BarcodeScanner:
    if settings.hardware.is_real("scanner"):
        from kiosk.devices.scanner.camera import CameraBarcodeScanner  # OpenCV and NumPy, only for a camera

        return CameraBarcodeScanner(build_frame_source(profile.camera_settings()), name="scanner", clock=clock)
    return SimulatedBarcodeScanner(name="scanner", clock=clock)


def _build_drawer(
    settings: KioskSettings,
    profile: DeviceProfile,
    printer: ReceiptPrinter,
    *,
    pin_factory: Any,
    clock: Clock,
    sleep: Callable[[float], None] | None,
) -> CashDrawer:
    if not settings.hardware.is_real("drawer"):
        return SimulatedCashDrawer(name="cash_drawer", clock=clock)
    pins = profile.pins()
    with _gpio_errors("drawer"):
        if settings.hardware.drawer_kick == "printer":
            return PrinterKickCashDrawer(
                _PrinterKick(printer),
                name="cash_drawer",
                kick_pin=profile.printer_settings().drawer_kick_pin,
                switch_pin=pins.drawer_switch,
                pin_factory=pin_factory,
                clock=clock,
            )
        if pins.drawer_relay is None:
            raise DeviceConfigError("the pin map has no drawer_relay for a GPIO cash drawer")
        return GpioCashDrawer(
            pins.drawer_relay, pins.drawer_switch, name="cash_drawer", pin_factory=pin_factory, clock=clock,
            sleep=sleep,
        )


def build_devices(
    settings: KioskSettings,
    profile: DeviceProfile,
    *,
    pin_factory: Any = None,
    clock: Clock | None = None,
    sleep: Callable[[float], None] | None = None,
    health_sources: HealthSources | None = None,
) -> KioskDevices:
    """Build every device of the kiosk: real adapters for ``real``, simulators for ``simulated``.

    ``pin_factory`` goes to every real GPIO device (None: gpiozero's default); ``clock`` to
    every device (None: the system clock); ``sleep`` paces the HX711 and the drawer relay
    pulse (tests pass a fake clock's ``advance``); ``health_sources`` is where the health
    collector reads the machine (None: the real files and commands).

    Raises :class:`~kiosk.errors.DeviceConfigError` for a bad profile entry and
    :class:`DeviceUnavailableError` when a real device cannot be reached; what was built by
    then is closed again.
    """
    clock = clock or SystemClock()
    built: list[Any] = []

    def keep(resource: _T) -> _T:
        built.append(resource)
        return resource

    try:
        pins = profile.pins()
        light = keep(_build_light(settings, pins, pin_factory=pin_factory, clock=clock))
        printer = keep(_build_printer(settings, profile, clock=clock, keep=built))
        scanner = keep(ScanFeedback(_build_scanner(settings, profile, clock=clock), light))
        produce = keep(build_scale(settings, profile, "produce", pin_factory=pin_factory, clock=clock, sleep=sleep))
        bag = keep(build_scale(settings, profile, "bag", pin_factory=pin_factory, clock=clock, sleep=sleep))
        drawer = keep(
            _build_drawer(settings, profile, printer, pin_factory=pin_factory, clock=clock, sleep=sleep)
        )
        collector = keep(
            HealthCollector(
                health_sources or HealthSources.system(),
                [scanner, produce, bag, drawer, light, printer],
                clock,
                settings.health_interval_s,
                data_dir=str(settings.data_dir),
            )
        )
    except BaseException:
        _close_all(built)
        raise
    log.info(
        "kiosk devices built: %s",
        ", ".join(f"{d}={getattr(settings.hardware, d)}" for d in ("scanner", "produce_scale", "bag_scale",
                                                                      "drawer", "light", "printer")),
    )
    return KioskDevices(
        scanner=scanner,
        produce_scale=produce,
        bag_scale=bag,
        drawer=drawer,
        light=light,
        printer=printer,
        health_collector=collector,
        _closeables=built,
    )
