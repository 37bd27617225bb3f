"""What a scanner hands over: a :class:`Scan`, and the symbology names it uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "CODE128",
    "DATABAR",
    "DATABAR_EXP",
    "EAN8",
    "EAN13",
    "EAN_UPC",
    "QRCODE",
    "RETAIL_SYMBOLOGIES",
    "UPCA",
    "UPCE",
    "Scan",
]

EAN13 = "EAN13"
EAN8 = "EAN8"
UPCA = "UPCA"
UPCE = "UPCE"
CODE128 = "CODE128"
DATABAR = "DATABAR"
DATABAR_EXP = "DATABAR_EXP"
QRCODE = "QRCODE"

#: EAN/UPC: the symbologies whose only protection is a mod-10 check digit.
EAN_UPC = frozenset({EAN13, EAN8, UPCA, UPCE})
RETAIL_SYMBOLOGIES = frozenset({EAN13, EAN8, UPCA, UPCE, CODE128, DATABAR, DATABAR_EXP, QRCODE})


@dataclass(frozen=True, slots=True)
class Scan:
    """One accepted scan.

    ``text`` is the decoded content. EAN/UPC codes are given as GTIN-13 (UPC-A with a leading
    0, UPC-E expanded to UPC-A first); EAN-8 stays 8 digits. GS1 DataBar and GS1-128 come in
    the "(AI)value" human-readable form when the decoder gives it. ``at`` is when the scanner
    accepted it (timezone-aware, from the scanner's clock).
    """

    text: str
    symbology: str
    at: datetime
