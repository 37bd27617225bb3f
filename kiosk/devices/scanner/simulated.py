"""``SimulatedBarcodeScanner``: a simulator of the ``BarcodeScanner`` port for the UI and demo."""

from __future__ import annotations

import logging
import threading

from kiosk.devices.health import DeviceHealth, DeviceStatus
from kiosk.devices.scanner._status import HealthState
from kiosk.devices.scanner.errors import ScannerConfigError
from kiosk.devices.scanner.gtin import Validator, canonical_gtin, default_validator
from kiosk.devices.scanner.model import EAN13, EAN_UPC, Scan
from kiosk.devices.scanner.port import ScanCallback
from retail.clock import Clock, SystemClock

__all__ = ["SimulatedBarcodeScanner"]

logger = logging.getLogger(__name__)


class SimulatedBarcodeScanner:
    """Simulator: a barcode scanner driven by a person's verbs, no camera involved.

    ``scan(code)`` is one deliberate scan; ``hold(code)`` keeps a product in view (scanned
    once, however long it is held) and ``remove()`` takes it away. Codes that a real scanner
    would reject (bad check digit) are not delivered. ``on_scan`` is called on the thread that
    calls the verb, standing in for the scanner's thread. ``unplug()`` / ``plug()`` move its
    health to ``absent`` and back. For a simulated camera that renders real images, use
    :class:`CameraBarcodeScanner` over a ``GeneratedFrameSource`` or ``ImageFolderFrameSource``.
    """

    def __init__(
        self,
        *,
        name: str = "scanner",
        clock: Clock | None = None,
        on_scan: ScanCallback | None = None,
        validate: Validator = default_validator,
    ) -> None:
        self.name = name
        self.on_scan: ScanCallback | None = on_scan
        self._clock = clock or SystemClock()
        self._validate = validate
        self._running = False
        self._closed = False
        self._plugged = True
        self._held: tuple[str, str] | None = None
        self._lock = threading.Lock()
        self._health = HealthState(name, self._clock)
        self.scans: list[Scan] = []

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        if self._closed:
            raise ScannerConfigError(f"{self.name} is closed")
        self._running = True

    def stop(self) -> None:
        self._running = False
        self._held = None

    def close(self) -> None:
        if self._closed:
            return
        self.stop()
        self._closed = True

    def __enter__(self) -> SimulatedBarcodeScanner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- a person's verbs ----------------------------------------------------------------

    def scan(self, code: str, symbology: str = EAN13) -> Scan | None:
        """Scan ``code`` once. Returns the delivered scan, or None when nothing was delivered
        (scanner stopped or unplugged, or a code a real scanner would not read)."""
        if not (self._running and self._plugged):
            logger.debug("%s: %s not scanned, scanner not running", self.name, code)
            return None
        if not self._validate(code, symbology):
            logger.info("%s: %s %r not readable (check digit)", self.name, symbology, code)
            return None
        text = canonical_gtin(code, symbology) if symbology in EAN_UPC else code
        scan = Scan(text or code, symbology, self._clock.now())
        with self._lock:
            self.scans.append(scan)
        callback = self.on_scan
        if callback is not None:
            callback(scan)
        return scan

    def hold(self, code: str, symbology: str = EAN13) -> Scan | None:
        """Hold a product in view: scanned once; holding it longer scans nothing more."""
        if self._held == (code, symbology):
            return None
        scan = self.scan(code, symbology)
        if scan is not None:
            self._held = (code, symbology)
        return scan

    def remove(self) -> None:
        """Take the product out of view; holding it again scans it again."""
        self._held = None

    def unplug(self) -> None:
        """The scanner's cable comes out: health ``absent``, nothing scanned."""
        self._plugged = False

    def plug(self) -> None:
        self._plugged = True

    # -- health ----------------------------------------------------------------------------

    def health(self) -> DeviceHealth:
        if not self._plugged:
            return self._health.set(DeviceStatus.ABSENT, "not_found", "simulated scanner unplugged")
        return self._health.set(DeviceStatus.OK, "" if self._running else "idle")

    def self_test(self) -> DeviceHealth:
        return self.health()
