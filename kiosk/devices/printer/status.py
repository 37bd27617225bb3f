"""Printer status and the decoding of ESC/POS real-time status (``DLE EOT n``) replies.

Pure code: the adapter sends the queries through python-escpos and hands the reply bytes here.

- ``DLE EOT 1`` printer status: bit 3 set = offline.
- ``DLE EOT 2`` offline cause: bit 2 = cover open, bit 5 = printing stopped at paper end.
- ``DLE EOT 4`` roll paper sensor: bits 2-3 = paper near end, bits 5-6 = paper end.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = [
    "QUERY_OFFLINE_CAUSE",
    "QUERY_PAPER",
    "QUERY_PRINTER",
    "PrintResult",
    "PrinterStatus",
    "decode_status",
]

QUERY_PRINTER = b"\x10\x04\x01"
QUERY_OFFLINE_CAUSE = b"\x10\x04\x02"
QUERY_PAPER = b"\x10\x04\x04"

_OFFLINE = 0x08
_COVER_OPEN = 0x04
_STOPPED_PAPER_END = 0x20
_NEAR_END = 0x0C
_PAPER_END = 0x60


class PrinterStatus(str, Enum):
    """What the printer says about itself.

    ``UNKNOWN_OK`` is for connections that cannot report (``Dummy``, ``File``, a printer that
    does not answer ``DLE EOT``): it is assumed able to print, and health says so.
    """

    OK = "ok"
    PAPER_NEAR_END = "paper_near_end"
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    OFFLINE = "offline"
    UNKNOWN_OK = "unknown-ok"

    @property
    def can_print(self) -> bool:
        return self in (PrinterStatus.OK, PrinterStatus.PAPER_NEAR_END, PrinterStatus.UNKNOWN_OK)


def _first(reply: bytes | None) -> int | None:
    return reply[0] if reply else None


def decode_status(printer: bytes | None, offline_cause: bytes | None, paper: bytes | None) -> PrinterStatus:
    """Map the replies to ``DLE EOT 1``, ``2`` and ``4`` to one status (worst first).

    ``None`` or empty means the query got no answer; no answer at all means ``UNKNOWN_OK``.
    """
    p, c, s = _first(printer), _first(offline_cause), _first(paper)
    if p is None and c is None and s is None:
        return PrinterStatus.UNKNOWN_OK
    if c is not None and c & _COVER_OPEN:
        return PrinterStatus.COVER_OPEN
    if (s is not None and s & _PAPER_END) or (c is not None and c & _STOPPED_PAPER_END):
        return PrinterStatus.PAPER_OUT
    if p is not None and p & _OFFLINE:
        return PrinterStatus.OFFLINE
    if s is not None and s & _NEAR_END:
        return PrinterStatus.PAPER_NEAR_END
    return PrinterStatus.OK


@dataclass(frozen=True, slots=True)
class PrintResult:
    """A receipt that reached the printer. ``status`` is what the printer reported before it
    printed (``paper_near_end`` is a warning worth showing staff)."""

    sale_id: str
    byte_count: int
    status: PrinterStatus
    attempts: int = 1
