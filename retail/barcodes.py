"""Barcodes the till reads: GTINs, UPC-E, GS1 in-store variable-measure codes, scan parsing.

* :func:`validate_gtin`, :func:`normalize_gtin`, :func:`format_gtin` — GTIN-8/12/13/14 and
  the 14-digit catalogue key (see :class:`retail.catalogue.CatalogueItem.gtins`).
* :func:`expand_upce` — UPC-E to UPC-A.
* :class:`VariableMeasureLayout`, :class:`VariableMeasureRules`,
  :func:`parse_variable_measure`, :func:`make_variable_measure` — price- or weight-embedded
  codes with restricted-circulation prefixes 20-29 (EAN-13) and number system 2 (UPC-A),
  including the GS1 4- and 5-digit price/weight verifier digits.
* :func:`parse_scan` — the one entry point the kiosk scanner calls.

Only ASCII digits are digits here: ``str.isdigit()`` also accepts ``'٣'`` or ``'３'``, which
no barcode carries. Every rejection is a :class:`retail.errors.BarcodeError` that says what is
wrong. Pure logic: no I/O, nothing runs at import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Final, Literal, Mapping, Union

from retail.errors import BarcodeError, InvalidCheckDigitError, UnknownPrefixLayoutError
from retail.gs1 import (
    GS,
    GS1_SYMBOLOGY_IDS,
    Gs1ElementString,
    gs1_check_digit,
    looks_like_element_string,
    parse_element_string,
    strip_symbology_id,
)
from retail.money import CURRENCIES

__all__ = [
    "DEFAULT_VARIABLE_MEASURE_RULES",
    "GTIN_LENGTHS",
    "MAX_SCAN_LENGTH",
    "VARIABLE_MEASURE_PREFIXES",
    "BarcodeTypeError",
    "GtinCode",
    "Gs1Code",
    "InvalidCharacterError",
    "InvalidLengthError",
    "InvalidNumberSystemError",
    "InvalidVerifierDigitError",
    "Measure",
    "NotVariableMeasureError",
    "OtherCode",
    "ScannedCode",
    "VariableMeasureCode",
    "VariableMeasureLayout",
    "VariableMeasureRules",
    "expand_upce",
    "format_gtin",
    "gtin_check_digit",
    "is_variable_measure",
    "make_variable_measure",
    "normalize_gtin",
    "parse_scan",
    "parse_variable_measure",
    "price_verifier_digit",
    "validate_gtin",
]

GTIN_LENGTHS: Final = (8, 12, 13, 14)
MAX_SCAN_LENGTH: Final = 7089
"""The longest payload a kiosk accepts: the numeric capacity of the largest QR code."""

VARIABLE_MEASURE_PREFIXES: Final = frozenset({"02", *(f"2{d}" for d in range(10))})
"""Restricted-circulation prefixes of the 13-digit form: ``02`` is UPC-A number system 2."""

_DIGITS = frozenset("0123456789")
_MAX_GTIN_INPUT = 64


# -- errors ---------------------------------------------------------------------------------------
class BarcodeTypeError(BarcodeError, TypeError):
    """A barcode was given as something other than text."""


class InvalidCharacterError(BarcodeError):
    """A character that has no place in this kind of code (letter, non-ASCII digit, control)."""


class InvalidLengthError(BarcodeError):
    """Empty, too long, or a digit count that no code of this kind has."""


class InvalidNumberSystemError(BarcodeError):
    """A UPC-E whose number system is not 0 or 1."""


class InvalidVerifierDigitError(InvalidCheckDigitError):
    """The price or weight verifier digit of a variable-measure code does not match."""


class NotVariableMeasureError(BarcodeError):
    """A valid GTIN that is not in a variable-measure (restricted circulation) range."""


# -- helpers --------------------------------------------------------------------------------------
def _preview(text: str, limit: int = 32) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def _describe(ch: str) -> str:
    return f"{ch!r} (U+{ord(ch):04X})"


def _require_digits(code: object, what: str, max_len: int = _MAX_GTIN_INPUT) -> str:
    if not isinstance(code, str):
        raise BarcodeTypeError(f"{what} must be text, not {type(code).__name__}")
    if not code:
        raise InvalidLengthError(f"{what} is empty")
    if len(code) > max_len:
        raise InvalidLengthError(f"{what} is {len(code)} characters long; far too long for a barcode")
    for i, ch in enumerate(code):
        if ch not in _DIGITS:
            note = " (only ASCII digits 0-9 are barcode digits)" if ch.isdigit() else ""
            raise InvalidCharacterError(
                f"{what} {_preview(code)!r} has {_describe(ch)} at position {i + 1}, not a digit{note}"
            )
    return code


# -- GTIN -----------------------------------------------------------------------------------------
def gtin_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit of ``body`` (weights 3, 1, 3, ... from the right).

    >>> gtin_check_digit("400638133393")
    1
    """
    _require_digits(body, "GTIN body", max_len=17)
    return gs1_check_digit(body)


def _verify_check(code: str, what: str) -> None:
    computed = gs1_check_digit(code[:-1])
    if int(code[-1]) != computed:
        raise InvalidCheckDigitError(
            f"check digit {code[-1]} does not match computed {computed} for {what} {code[:-1]}"
        )


def validate_gtin(code: str) -> str:
    """Return ``code`` if it is a GTIN-8, -12, -13 or -14 with a correct check digit."""
    _require_digits(code, "GTIN")
    if len(code) not in GTIN_LENGTHS:
        raise InvalidLengthError(
            f"GTIN {_preview(code)!r} has {len(code)} digits; a GTIN has 8, 12, 13 or 14"
        )
    _verify_check(code, f"GTIN-{len(code)}")
    return code


def expand_upce(upce: str) -> str:
    """Expand a UPC-E code to its 12-digit UPC-A, verifying the check digit when present.

    Accepts 8 digits (number system, six data digits, check digit), 7 digits (number system and
    six data digits) or 6 digits (data digits; number system 0).

    >>> expand_upce("04252614")
    '042100005264'
    """
    _require_digits(upce, "UPC-E")
    if len(upce) == 6:
        ns, data, given = "0", upce, None
    elif len(upce) == 7:
        ns, data, given = upce[0], upce[1:], None
    elif len(upce) == 8:
        ns, data, given = upce[0], upce[1:7], upce[7]
    else:
        raise InvalidLengthError(f"UPC-E {_preview(upce)!r} has {len(upce)} digits; a UPC-E has 6, 7 or 8")
    if ns not in "01":
        raise InvalidNumberSystemError(f"UPC-E {upce} has number system {ns}; only 0 and 1 exist")
    d1, d2, d3, d4, d5, d6 = data
    if d6 in "012":
        body = f"{ns}{d1}{d2}{d6}0000{d3}{d4}{d5}"
    elif d6 == "3":
        body = f"{ns}{d1}{d2}{d3}00000{d4}{d5}"
    elif d6 == "4":
        body = f"{ns}{d1}{d2}{d3}{d4}00000{d5}"
    else:
        body = f"{ns}{d1}{d2}{d3}{d4}{d5}0000{d6}"
    computed = gs1_check_digit(body)
    if given is not None and int(given) != computed:
        raise InvalidCheckDigitError(
            f"check digit {given} does not match computed {computed} for UPC-E {upce[:7]} (UPC-A {body})"
        )
    return f"{body}{computed}"


def _symbology_name(symbology: str | None) -> str | None:
    if symbology is None:
        return None
    name = symbology.strip().upper()
    if name.startswith("BARCODEFORMAT."):
        name = name[len("BARCODEFORMAT.") :]
    return name.replace("-", "").replace("_", "").replace(" ", "")


def normalize_gtin(code: str, symbology: str | None = None) -> str:
    """Any valid GTIN-8/12/13/14 (or UPC-E) → the 14-digit catalogue key.

    Eight digits are an EAN-8 unless ``symbology`` says ``"UPC-E"`` (6 and 7 digits are taken
    as UPC-E in any case, since no GTIN has that length). A UPC-E that a decoder already
    expanded (12 or 13 digits, as zxing-cpp reports it) is taken as the GTIN it is.
    """
    if isinstance(code, str) and _is_upce_form(code, _symbology_name(symbology)):
        return expand_upce(code).zfill(14)
    return validate_gtin(code).zfill(14)


def _is_upce_form(code: str, name: str | None, aim: str | None = None) -> bool:
    if len(code) in (6, 7):
        return True
    return len(code) == 8 and (name == "UPCE" or aim == "]E0")


def format_gtin(key14: str) -> str:
    """The shortest natural form of a 14-digit key: GTIN-8, -12, -13, or the GTIN-14 itself.

    Six leading zeros mean a GTIN-8 (GS1 keeps that range of GTIN-12/13 free for GTIN-8s),
    two a GTIN-12 (UPC-A), one a GTIN-13. ``normalize_gtin(format_gtin(k)) == k`` always.
    """
    _require_digits(key14, "GTIN-14 key")
    if len(key14) != 14:
        raise InvalidLengthError(f"GTIN-14 key {_preview(key14)!r} has {len(key14)} digits, not 14")
    _verify_check(key14, "GTIN-14")
    if key14.startswith("000000"):
        return key14[6:]
    if key14.startswith("00"):
        return key14[2:]
    if key14.startswith("0"):
        return key14[1:]
    return key14


# -- GS1 price/weight verifier digits (General Specifications 7.9.2-7.9.4) -------------------------
# Weighted products by weighting factor, indexed by the digit.
_W2_MINUS = (0, 2, 4, 6, 8, 9, 1, 3, 5, 7)  # 2-: units digit of 2d minus its tens digit
_W3 = (0, 3, 6, 9, 2, 5, 8, 1, 4, 7)  # 3: units digit of 3d
_W5_PLUS = (0, 5, 1, 6, 2, 7, 3, 8, 4, 9)  # 5+: units digit of 5d plus its tens digit
_W5_MINUS = (0, 5, 9, 4, 8, 3, 7, 2, 6, 1)  # 5-: units digit of 5d minus its tens digit
_W5_MINUS_INVERSE = tuple(_W5_MINUS.index(r) for r in range(10))


def price_verifier_digit(value: str) -> int:
    """The GS1 price/weight verifier digit of a 4- or 5-digit value field.

    4 digits: weights 2-, 2-, 3, 5-; the verifier is the units digit of 3 × the sum.
    5 digits: weights 5+, 2-, 5-, 5+, 2-; the sum is taken from the next multiple of ten and
    the verifier is the digit whose 5- weighted product equals that difference.

    >>> price_verifier_digit("2875"), price_verifier_digit("14685")
    (9, 6)
    """
    _require_digits(value, "price/weight field", max_len=5)
    d = [ord(ch) - 48 for ch in value]
    if len(value) == 4:
        total = _W2_MINUS[d[0]] + _W2_MINUS[d[1]] + _W3[d[2]] + _W5_MINUS[d[3]]
        return (total * 3) % 10
    if len(value) == 5:
        total = _W5_PLUS[d[0]] + _W2_MINUS[d[1]] + _W5_MINUS[d[2]] + _W5_PLUS[d[3]] + _W2_MINUS[d[4]]
        return _W5_MINUS_INVERSE[(10 - total % 10) % 10]
    raise InvalidLengthError(f"a price/weight verifier covers 4 or 5 digits, not {len(value)}")


# -- variable-measure layouts ----------------------------------------------------------------------
class Measure(str, Enum):
    """What the value field of a variable-measure code holds."""

    PRICE = "price"  # minor units of the store currency
    WEIGHT = "weight"  # grams


@dataclass(frozen=True, slots=True)
class VariableMeasureLayout:
    """Where the fields of one variable-measure prefix sit, in the 13-digit form.

    ``prefix`` (2 digits: ``20``-``29``, or ``02`` for UPC-A number system 2), then
    ``item_digits`` of item reference, an optional verifier digit, ``value_digits`` of price
    (minor units) or weight (grams), and the check digit: 13 digits in all.
    ``pattern`` spells it, e.g. ``"28IIIIVPPPPPC"``.
    """

    prefix: str
    measure: Measure
    item_digits: int = 5
    value_digits: int = 5
    verifier: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.prefix, str) or self.prefix not in VARIABLE_MEASURE_PREFIXES:
            raise BarcodeError(
                f"variable-measure prefix must be 20-29 or 02 (UPC-A number system 2), not {self.prefix!r}"
            )
        if not isinstance(self.measure, Measure):
            object.__setattr__(self, "measure", Measure(self.measure))
        for name in ("item_digits", "value_digits"):
            n = getattr(self, name)
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise BarcodeError(f"layout {self.prefix}: {name} must be a positive int, not {n!r}")
        if self.verifier and self.value_digits not in (4, 5):
            raise BarcodeError(
                f"layout {self.prefix}: a verifier digit covers 4 or 5 value digits, not {self.value_digits}"
            )
        total = 2 + self.item_digits + (1 if self.verifier else 0) + self.value_digits + 1
        if total != 13:
            raise BarcodeError(
                f"layout {self.prefix}: prefix 2 + item {self.item_digits} + verifier "
                f"{1 if self.verifier else 0} + value {self.value_digits} + check 1 = {total} digits, not 13"
            )

    @property
    def item_slice(self) -> slice:
        return slice(2, 2 + self.item_digits)

    @property
    def verifier_index(self) -> int | None:
        return 2 + self.item_digits if self.verifier else None

    @property
    def value_slice(self) -> slice:
        start = 2 + self.item_digits + (1 if self.verifier else 0)
        return slice(start, start + self.value_digits)

    @property
    def upc_a(self) -> bool:
        """True for the UPC-A layout (number system 2), whose codes have 12 digits."""
        return self.prefix == "02"

    @property
    def pattern(self) -> str:
        v = "P" if self.measure is Measure.PRICE else "W"
        return f"{self.prefix}{'I' * self.item_digits}{'V' if self.verifier else ''}{v * self.value_digits}C"


def _default_layouts() -> dict[str, VariableMeasureLayout]:
    layouts = [
        VariableMeasureLayout("02", Measure.PRICE, item_digits=5, value_digits=4, verifier=True),
        VariableMeasureLayout("20", Measure.PRICE),
        VariableMeasureLayout("21", Measure.PRICE),
        VariableMeasureLayout("22", Measure.WEIGHT),
        VariableMeasureLayout("23", Measure.WEIGHT),
        VariableMeasureLayout("28", Measure.PRICE, item_digits=4, value_digits=5, verifier=True),
        VariableMeasureLayout("29", Measure.WEIGHT),
    ]
    return {layout.prefix: layout for layout in layouts}


@dataclass(frozen=True)
class VariableMeasureRules:
    """A store's variable-measure layouts (prefix → layout) and the currency its prices are in.

    Prefixes without a layout are refused with :class:`UnknownPrefixLayoutError`.
    """

    layouts: Mapping[str, VariableMeasureLayout]
    currency: str = "CNY"

    def __post_init__(self) -> None:
        copied = dict(self.layouts)
        for prefix, layout in copied.items():
            if not isinstance(layout, VariableMeasureLayout):
                raise BarcodeError(f"rules for prefix {prefix!r}: not a VariableMeasureLayout: {layout!r}")
            if layout.prefix != prefix:
                raise BarcodeError(f"rules: prefix {prefix!r} maps to a layout for prefix {layout.prefix!r}")
        if self.currency not in CURRENCIES:
            raise BarcodeError(f"rules: unknown currency {self.currency!r}")
        object.__setattr__(self, "layouts", MappingProxyType(copied))

    __hash__ = None  # type: ignore[assignment]  # holds a mapping

    @classmethod
    def default(cls, currency: str = "CNY") -> VariableMeasureRules:
        """20-21 price (5 digits), 22-23 and 29 weight in grams (5 digits), 28 price with a
        verifier (4 item + V + 5 price), UPC-A 2 price with a verifier (5 item + V + 4 price)."""
        return cls(_default_layouts(), currency)

    @classmethod
    def of(cls, *layouts: VariableMeasureLayout, currency: str = "CNY") -> VariableMeasureRules:
        return cls({layout.prefix: layout for layout in layouts}, currency)

    def layout_for(self, prefix: str) -> VariableMeasureLayout:
        try:
            return self.layouts[prefix]
        except KeyError:
            configured = ", ".join(sorted(self.layouts)) or "none"
            raise UnknownPrefixLayoutError(
                f"no variable-measure layout for prefix {prefix} (configured: {configured})"
            ) from None


DEFAULT_VARIABLE_MEASURE_RULES: Final = VariableMeasureRules.default()


# -- tagged scan results --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class GtinCode:
    """A plain GTIN; ``key14`` is the catalogue key."""

    key14: str
    text: str = ""
    symbology: str | None = None

    @property
    def kind(self) -> Literal["gtin"]:
        return "gtin"

    @property
    def gtin(self) -> str:
        return format_gtin(self.key14)


@dataclass(frozen=True, slots=True)
class VariableMeasureCode:
    """A price- or weight-embedded in-store code.

    ``item_reference`` is the item digits as printed (what a PLU holds); ``item_key`` is the
    14-digit key of the same code with value and verifier zeroed and the check digit
    recomputed, so a catalogue can list the item among its GTINs.
    """

    code: str
    key14: str
    prefix: str
    item_reference: str
    item_key: str
    price_minor: int | None
    weight_g: int | None
    layout: VariableMeasureLayout = field(repr=False)

    @property
    def kind(self) -> Literal["variable_measure"]:
        return "variable_measure"

    @property
    def plu(self) -> str:
        return self.item_reference


@dataclass(frozen=True, slots=True)
class Gs1Code:
    """A GS1 element string (DataBar, GS1-128, GS1 2D)."""

    element_string: Gs1ElementString
    text: str = ""
    symbology: str | None = None

    @property
    def kind(self) -> Literal["gs1"]:
        return "gs1"

    @property
    def gtin(self) -> str | None:
        return self.element_string.gtin


@dataclass(frozen=True, slots=True)
class OtherCode:
    """A payload that is not a retail code (member QR, coupon, ...), passed on untouched."""

    text: str
    symbology: str | None = None

    @property
    def kind(self) -> Literal["other"]:
        return "other"


ScannedCode = Union[GtinCode, VariableMeasureCode, Gs1Code, OtherCode]


# -- variable-measure parsing and building -----------------------------------------------------------
def _form13(code: str) -> str | None:
    """The 13-digit form of a 12/13/14-digit code, or None when it has no such form."""
    if len(code) not in (12, 13, 14):
        return None
    key = code.zfill(14)
    return key[1:] if key[0] == "0" else None


def is_variable_measure(code: str) -> bool:
    """True for a valid EAN-13 with prefix 20-29 or UPC-A with number system 2 (also zero-padded)."""
    if not isinstance(code, str) or not code or any(ch not in _DIGITS for ch in code):
        return False
    form = _form13(code)
    if form is None or form[:2] not in VARIABLE_MEASURE_PREFIXES:
        return False
    return gs1_check_digit(form[:-1]) == int(form[-1])


def parse_variable_measure(
    code: str, rules: VariableMeasureRules = DEFAULT_VARIABLE_MEASURE_RULES
) -> VariableMeasureCode:
    """Read item reference and price or weight from a variable-measure code."""
    _require_digits(code, "variable-measure code")
    form = _form13(code)
    if form is None:
        raise InvalidLengthError(
            f"variable-measure code {_preview(code)!r} has {len(code)} digits; it has 12 (UPC-A) or 13 (EAN-13)"
        )
    _verify_check(code, f"GTIN-{len(code)}")
    prefix = form[:2]
    if prefix not in VARIABLE_MEASURE_PREFIXES:
        raise NotVariableMeasureError(
            f"{code} is not a variable-measure code: prefix {prefix} is not 20-29 or UPC-A number system 2"
        )
    layout = rules.layout_for(prefix)
    value = form[layout.value_slice]
    if layout.verifier_index is not None:
        given = int(form[layout.verifier_index])
        computed = price_verifier_digit(value)
        if given != computed:
            raise InvalidVerifierDigitError(
                f"{layout.measure.value} verifier digit {given} does not match computed {computed} "
                f"for {layout.measure.value} {value} in {code}"
            )
    zeroed = list(form)
    for i in range(layout.value_slice.start, layout.value_slice.stop):
        zeroed[i] = "0"
    if layout.verifier_index is not None:
        zeroed[layout.verifier_index] = "0"
    body = "".join(zeroed[:-1])
    item_key = f"{body}{gs1_check_digit(body)}".zfill(14)
    amount = int(value)
    return VariableMeasureCode(
        code=code,
        key14=form.zfill(14),
        prefix=prefix,
        item_reference=form[layout.item_slice],
        item_key=item_key,
        price_minor=amount if layout.measure is Measure.PRICE else None,
        weight_g=amount if layout.measure is Measure.WEIGHT else None,
        layout=layout,
    )


def make_variable_measure(
    prefix: str,
    item_reference: str,
    *,
    price_minor: int | None = None,
    weight_g: int | None = None,
    rules: VariableMeasureRules = DEFAULT_VARIABLE_MEASURE_RULES,
) -> str:
    """Build a valid variable-measure code (13 digits, or 12 for the UPC-A prefix ``02``).

    ``item_reference`` is ASCII digits, left-padded with zeros to the layout's width; pass
    ``price_minor`` for a price layout or ``weight_g`` for a weight layout.
    """
    layout = rules.layout_for(prefix)
    _require_digits(item_reference, "item reference", max_len=layout.item_digits)
    if layout.measure is Measure.PRICE:
        value, other, name = price_minor, weight_g, "price_minor"
    else:
        value, other, name = weight_g, price_minor, "weight_g"
    if other is not None or value is None:
        raise BarcodeError(f"prefix {prefix} embeds a {layout.measure.value}: pass {name} and only that")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BarcodeError(f"{name} must be a non-negative int, not {value!r}")
    if value >= 10**layout.value_digits:
        raise BarcodeError(f"{name} {value} does not fit {layout.value_digits} digits of prefix {prefix}")
    digits = f"{value:0{layout.value_digits}d}"
    verifier = str(price_verifier_digit(digits)) if layout.verifier else ""
    body = f"{prefix}{item_reference.zfill(layout.item_digits)}{verifier}{digits}"
    code = f"{body}{gs1_check_digit(body)}"
    return code[1:] if layout.upc_a else code


# -- the scanner's entry point -----------------------------------------------------------------------
_RETAIL_SYMBOLOGIES = frozenset({"EAN13", "EAN8", "UPCA", "UPCE", "ISBN13", "JAN", "EAN", "ITF14", "I25", "ITF"})
_GS1_SYMBOLOGIES = frozenset({
    "DATABAR", "DATABAREXPANDED", "DATABAREXP", "DATABARLIMITED", "DATABARLTD", "DATABAROMNI",
    "DATABARSTACKED", "GS1DATABAR", "GS1DATABAREXPANDED", "RSS14", "RSSEXPANDED", "RSSLIMITED",
    "GS1128", "EAN128", "GS1DATAMATRIX", "GS1QRCODE",
})
# Symbologies whose text may be a parenthesised GS1 element string ("(01)...").
_MAYBE_GS1_SYMBOLOGIES = frozenset({None, "CODE128", "DATAMATRIX"})
_ALLOWED_CONTROLS_IN_OTHER = frozenset("\t\n\r")


def parse_scan(
    text: str,
    symbology: str | None = None,
    rules: VariableMeasureRules = DEFAULT_VARIABLE_MEASURE_RULES,
) -> ScannedCode:
    """Turn what a scanner read into a tagged result, or raise a :class:`BarcodeError`.

    ``symbology`` is the decoder's name for the symbol (``"EAN13"``, ``"UPC-E"``,
    ``"DataBarExpanded"``, ``"QRCODE"`` ...), if known; an AIM identifier at the start of
    ``text`` (``]E0``, ``]C1``, ``]e0`` ...) is also understood. The result is

    * :class:`Gs1Code` for a GS1 element string (GS1 identifier, a GS separator, a
      ``(AI)`` opening, or a DataBar/GS1-128 symbology);
    * :class:`VariableMeasureCode` for a valid 20-29 EAN-13 or number-system-2 UPC-A;
    * :class:`GtinCode` for any other valid GTIN (UPC-E is expanded);
    * :class:`OtherCode` for text that is not a retail code at all (a member QR, a coupon).

    Surrounding spaces and the scanner's line ending are dropped. Digits-only text from an
    EAN/UPC symbology (or with no symbology) must be a valid code; text made only of digits
    that are not ASCII (``'٣'``, ``'３'``) is refused. Control characters are refused, except
    the GS1 separator in element strings and tabs and line breaks inside an :class:`OtherCode`.
    """
    if not isinstance(text, str):
        raise BarcodeTypeError(f"a scan is text, not {type(text).__name__}")
    if symbology is not None and not isinstance(symbology, str):
        raise BarcodeTypeError(f"symbology is text or None, not {type(symbology).__name__}")
    stripped = text.strip(" \t\r\n")
    if not stripped:
        raise InvalidLengthError("the scan is empty")
    if len(stripped) > MAX_SCAN_LENGTH:
        raise InvalidLengthError(
            f"the scan is {len(stripped)} characters long; the longest accepted is {MAX_SCAN_LENGTH}"
        )
    name = _symbology_name(symbology)
    aim, payload = strip_symbology_id(stripped)
    if not payload:
        raise InvalidLengthError(f"the scan holds only the symbology identifier {aim}")

    gs1 = (
        aim in GS1_SYMBOLOGY_IDS
        or name in _GS1_SYMBOLOGIES
        or GS in payload
        or (name in _MAYBE_GS1_SYMBOLOGIES and looks_like_element_string(payload))
    )
    if gs1:
        _refuse_controls(payload, allow=frozenset({GS}))
        element_string = parse_element_string(payload, currency=rules.currency)
        return Gs1Code(element_string=element_string, text=stripped, symbology=symbology)

    retail = name in _RETAIL_SYMBOLOGIES or (aim is not None and aim[1] == "E")
    ascii_digits = all(ch in _DIGITS for ch in payload)
    if not retail and not ascii_digits:
        if name is None and aim is None and all(ch.isdigit() for ch in payload):
            _require_digits(payload, "scanned code", max_len=MAX_SCAN_LENGTH)  # names the odd digit
        _refuse_controls(payload, allow=_ALLOWED_CONTROLS_IN_OTHER)
        return OtherCode(text=payload, symbology=symbology)
    if not retail and (name is not None or aim is not None):
        # Digits from a non-retail symbology (a QR, a Code 128): not ours to interpret.
        return OtherCode(text=payload, symbology=symbology)

    _require_digits(payload, "scanned code", max_len=MAX_SCAN_LENGTH)
    upce = _is_upce_form(payload, name, aim)
    key14 = expand_upce(payload).zfill(14) if upce else validate_gtin(payload).zfill(14)
    if is_variable_measure(key14):
        return parse_variable_measure(payload, rules)
    return GtinCode(key14=key14, text=stripped, symbology=symbology)


def _refuse_controls(payload: str, *, allow: frozenset[str]) -> None:
    for i, ch in enumerate(payload):
        if (ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0) and ch not in allow:
            raise InvalidCharacterError(f"the scan has control character {_describe(ch)} at position {i + 1}")
