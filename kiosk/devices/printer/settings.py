"""Printer settings and the factory that builds the printer.

:class:`PrinterSettings` is the one printer settings class of the kiosk: the device profile
(:mod:`kiosk.profile`) stores and returns it, and :func:`build_receipt_printer` builds from it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Mapping

from escpos.escpos import Escpos

from kiosk.devices.printer.errors import PrinterConfigError
from kiosk.devices.printer.escpos_adapter import EscposReceiptPrinter
from kiosk.devices.printer.render import ChineseMode
from kiosk.devices.printer.spool import ReceiptSpool
from retail.clock import Clock

__all__ = ["CONNECTIONS", "DRAWER_KICK_PINS", "PrinterSettings", "build_escpos", "build_receipt_printer"]

CONNECTIONS = ("usb", "network", "serial", "file", "dummy")
#: The two drawer-kick outputs of an ESC/POS printer (``ESC p m``, pin 2 or pin 5).
DRAWER_KICK_PINS = (2, 5)


def _int(value: object, what: str) -> int:
    """Accept ``0x0416``, ``"0x0416"``, ``"1046"`` or ``1046``."""
    if isinstance(value, bool):
        raise PrinterConfigError(f"{what} must be a number, not {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value, 0)
        except ValueError:
            pass
    raise PrinterConfigError(f"{what} must be a number, not {value!r}")


@dataclass(frozen=True, slots=True)
class PrinterSettings:
    """How to reach the printer. ``connection`` picks which of the other fields matter:

    - ``usb``: ``usb_vendor_id``, ``usb_product_id`` (needs pyusb)
    - ``network``: ``host``, ``port`` (9100), ``timeout_s``
    - ``serial``: ``device`` (``/dev/ttyUSB0``), ``baudrate`` (needs pyserial)
    - ``file``: ``device`` (``/dev/usb/lp0``, or any file)
    - ``dummy``: nothing; bytes are kept in memory

    ``width_chars`` is the paper: 48 columns (80 mm) or 32 (58 mm). ``drawer_kick_pin`` is the
    printer's drawer-kick output a cash drawer is wired to (2 or 5). ``spool_path`` is where
    :func:`build_receipt_printer` keeps receipts; the kiosk's composition root sets it to the
    data folder, so the device profile does not store it.
    """

    connection: str = "dummy"
    usb_vendor_id: int | None = None
    usb_product_id: int | None = None
    host: str = ""
    port: int = 9100
    timeout_s: float = 5.0
    device: str = ""
    baudrate: int = 9600
    profile: str | None = None
    chinese_mode: str = "gb18030"
    qr: str = "native"
    width_chars: int = 48
    name: str = "printer"
    spool_path: str = ":memory:"
    drawer_kick_pin: int = 2

    def __post_init__(self) -> None:
        if self.connection not in CONNECTIONS:
            raise PrinterConfigError(f"printer connection must be one of {CONNECTIONS}, not {self.connection!r}")
        if self.chinese_mode not in {m.value for m in ChineseMode}:
            raise PrinterConfigError(f"chinese_mode must be gb18030 or image, not {self.chinese_mode!r}")
        if self.qr not in ("native", "image"):
            raise PrinterConfigError(f"qr must be native or image, not {self.qr!r}")
        if self.width_chars not in (48, 32):
            raise PrinterConfigError(f"width_chars must be 48 (80 mm) or 32 (58 mm), not {self.width_chars}")
        if self.connection == "usb" and (self.usb_vendor_id is None or self.usb_product_id is None):
            raise PrinterConfigError("a usb printer needs usb_vendor_id and usb_product_id")
        if self.connection == "network" and not self.host:
            raise PrinterConfigError("a network printer needs a host")
        if self.connection in ("serial", "file") and not self.device:
            raise PrinterConfigError(f"a {self.connection} printer needs a device path")
        if isinstance(self.drawer_kick_pin, bool) or self.drawer_kick_pin not in DRAWER_KICK_PINS:
            raise PrinterConfigError(f"drawer_kick_pin must be 2 or 5, not {self.drawer_kick_pin!r}")
        if not 0 < self.port < 65536:
            raise PrinterConfigError(f"port out of range: {self.port}")
        if self.profile is not None:
            from escpos.capabilities import CAPABILITIES

            if self.profile not in CAPABILITIES["profiles"]:
                raise PrinterConfigError(f"unknown python-escpos printer profile {self.profile!r}")

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> PrinterSettings:
        """From the device profile's ``printer`` entry; unknown keys are refused."""
        known = {f.name for f in fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise PrinterConfigError(f"unknown printer setting(s): {sorted(unknown)}")
        values = dict(raw)
        for key in ("usb_vendor_id", "usb_product_id"):
            if values.get(key) is not None:
                values[key] = _int(values[key], key)
        for key in ("port", "baudrate", "width_chars", "drawer_kick_pin"):
            if key in values:
                values[key] = _int(values[key], key)
        return cls(**values)


def build_escpos(settings: PrinterSettings) -> Escpos:
    """The python-escpos printer object for ``settings`` (not opened until first used)."""
    from escpos import printer as p

    profile = settings.profile
    if settings.connection == "dummy":
        return p.Dummy(profile=profile)
    if settings.connection == "file":
        return p.File(settings.device, profile=profile)
    if settings.connection == "network":
        return p.Network(settings.host, port=settings.port, timeout=settings.timeout_s, profile=profile)
    if settings.connection == "usb":
        if not p.Usb.is_usable():
            raise PrinterConfigError("usb printers need pyusb (pip install 'python-escpos[usb]')")
        return p.Usb(settings.usb_vendor_id, settings.usb_product_id, profile=profile)
    if not p.Serial.is_usable():
        raise PrinterConfigError("serial printers need pyserial (pip install 'python-escpos[serial]')")
    return p.Serial(settings.device, baudrate=settings.baudrate, profile=profile)


def build_receipt_printer(
    settings: PrinterSettings,
    *,
    spool: ReceiptSpool | None = None,
    clock: Clock | None = None,
) -> EscposReceiptPrinter:
    """The receipt printer for ``settings``; the spool is ``settings.spool_path`` unless given."""
    escpos = build_escpos(settings)
    return EscposReceiptPrinter(
        escpos,
        name=settings.name,
        width_chars=settings.width_chars,
        chinese_mode=settings.chinese_mode,
        qr_native=settings.qr == "native",
        spool=spool if spool is not None else ReceiptSpool(settings.spool_path, clock=clock),
        clock=clock,
        close_spool=spool is None,
    )
