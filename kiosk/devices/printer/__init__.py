"""The kiosk's receipt printer: port, python-escpos adapter, simulator, spool, settings.

>>> from kiosk.devices.printer import SimulatedReceiptPrinter
>>> with SimulatedReceiptPrinter() as printer:
...     printer.status().value
'ok'
"""

from kiosk.devices.printer.errors import (
    CoverOpenError,
    PaperOutError,
    PrinterConfigError,
    PrinterError,
    PrinterNotReadyError,
    PrinterOfflineError,
    ReceiptNotFoundError,
    SpoolError,
)
from kiosk.devices.printer.escpos_adapter import EscposReceiptPrinter, can_report_status
from kiosk.devices.printer.port import ReceiptPrinter
from kiosk.devices.printer.render import CHINESE_OFF, CHINESE_ON, ChineseMode, render_blocks, render_to_bytes
from kiosk.devices.printer.settings import PrinterSettings, build_escpos, build_receipt_printer
from kiosk.devices.printer.simulated import PrintedReceipt, SimulatedReceiptPrinter
from kiosk.devices.printer.spool import ReceiptSpool, SpooledReceipt
from kiosk.devices.printer.status import PrinterStatus, PrintResult, decode_status

__all__ = [
    "CHINESE_OFF", "CHINESE_ON", "ChineseMode", "CoverOpenError", "EscposReceiptPrinter",
    "PaperOutError", "PrintResult", "PrintedReceipt", "PrinterConfigError", "PrinterError",
    "PrinterNotReadyError", "PrinterOfflineError", "PrinterSettings", "PrinterStatus",
    "ReceiptNotFoundError", "ReceiptPrinter", "ReceiptSpool", "SimulatedReceiptPrinter",
    "SpoolError", "SpooledReceipt", "build_escpos", "build_receipt_printer", "can_report_status",
    "decode_status", "render_blocks", "render_to_bytes",
]
