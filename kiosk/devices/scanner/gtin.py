"""The scanner's view of a GTIN read: delegates every rule to :mod:`retail.barcodes`.

Pure: the simulated scanner validates its codes here without loading the decoders (OpenCV).
"""

from __future__ import annotations

from collections.abc import Callable

from kiosk.devices.scanner.model import EAN_UPC
from retail.barcodes import expand_upce as _expand_upce
from retail.barcodes import validate_gtin
from retail.errors import BarcodeError

__all__ = ["Validator", "canonical_gtin", "default_validator", "expand_upce", "gtin_check_digit_ok"]

Validator = Callable[[str, str], bool]
"""``validate(text, symbology) -> bool``: a last word on a read before it is accepted."""


def gtin_check_digit_ok(digits: str) -> bool:
    """True when ``digits`` (GTIN-8/12/13/14) is ASCII digits and its GS1 check digit holds."""
    try:
        validate_gtin(digits)
    except BarcodeError:
        return False
    return True


def expand_upce(code: str) -> str:
    """Expand an 8-digit UPC-E to 12-digit UPC-A (check digit verified)."""
    return _expand_upce(code)


def canonical_gtin(text: str, symbology: str) -> str | None:
    """The GTIN-13 form of an EAN/UPC read (EAN-8 stays 8 digits), or None if it is not valid.

    UPC-E may arrive as 8 digits (expanded here) or already expanded by the decoder.
    """
    digits = text.strip()
    if not digits.isascii() or not digits.isdigit():
        return None
    try:
        if symbology == "UPCE" and len(digits) == 8:
            digits = _expand_upce(digits)
        if symbology == "EAN8":
            return validate_gtin(digits) if len(digits) == 8 else None
        if len(digits) == 12:
            digits = "0" + digits
        return validate_gtin(digits) if len(digits) == 13 else None
    except BarcodeError:
        return None


def default_validator(text: str, symbology: str) -> bool:
    """EAN/UPC must pass the GTIN check digit; other symbologies carry their own checks."""
    if symbology in EAN_UPC:
        return canonical_gtin(text, symbology) is not None
    return bool(text)
