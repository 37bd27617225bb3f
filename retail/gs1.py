"""GS1 element strings: the data carried by GS1-128, GS1 DataBar and GS1 2D symbols.

Two spellings of the same data are understood and produced:

* the *raw* form a scanner transmits, AIs and values run together, a variable-length field
  ended by the group separator ``GS`` (``\\x1d``, the transmitted FNC1) unless it is last:
  ``"0104012345678901" "3103001250" "10" "LOT7" "\\x1d" "21" "S1"``
* the *parenthesised* human-readable form printed under the bars:
  ``"(01)04012345678901(3103)001250(10)LOT7(21)S1"``

Either may start with a symbology identifier (``]C1`` GS1-128, ``]e0`` DataBar, ``]d2`` GS1
DataMatrix, ``]Q3`` GS1 QR, ``]J1`` GS1 DotCode), which is dropped.

Supported Application Identifiers (GS1 General Specifications, section 3):

====== ============================== ================ ==========================
AI     meaning                        format           typed field
====== ============================== ================ ==========================
01     GTIN                           N14 (checked)    ``gtin``
10     batch or lot number            X..20            ``batch``
11     production date                N6 YYMMDD        ``production_date``
15     best before date               N6 YYMMDD        ``best_before``
17     expiration date                N6 YYMMDD        ``expiry``
21     serial number                  X..20            ``serial``
310n   net weight, kg, n decimals     N6               ``net_weight_mg`` / ``_g``
392n   amount payable, n decimals     N..15            ``price_minor``
393n   amount payable with ISO 4217   N3+N..15         ``price_minor`` + currency
====== ============================== ================ ==========================

Anything else is refused with :class:`UnknownApplicationIdentifierError` naming the AI.
Pure logic: no I/O, no floats, nothing runs at import.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import Iterable, Mapping

from retail.errors import BarcodeError, InvalidCheckDigitError, UnknownCurrencyError
from retail.money import CURRENCIES, Money

__all__ = [
    "GS",
    "GS1_SYMBOLOGY_IDS",
    "Gs1ElementString",
    "Gs1Error",
    "UnknownApplicationIdentifierError",
    "build_element_string",
    "format_element_string",
    "gs1_check_digit",
    "looks_like_element_string",
    "parse_element_string",
    "strip_symbology_id",
]

GS = "\x1d"
"""The group separator that stands for FNC1 between fields in transmitted data."""

GS1_SYMBOLOGY_IDS: frozenset[str] = frozenset({"]C1", "]e0", "]e1", "]d2", "]Q3", "]J1"})
"""AIM symbology identifiers whose data is a GS1 element string."""

_MAX_ELEMENT_STRING = 512
_DIGITS = frozenset("0123456789")
# GS1 AI encodable character set 82 (General Specifications, figure 7.11-1).
_CSET82 = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)
# AIs whose first two digits appear in the GS1 table of predefined lengths (figure 7.8.5-2)
# need no separator after them; every other field needs GS unless it is the last one.
_PREDEFINED_LENGTH_STARTS = frozenset(
    {"00", "01", "02", "03", "04", "11", "12", "13", "14", "15", "16", "17", "18", "19",
     "20", "31", "32", "33", "34", "35", "36", "41"}
)
_AI_MARKER = re.compile(r"\((\d{2,4})\)")

# ISO 4217 numeric codes of the currencies retail.money knows.
_ISO_NUMERIC: dict[str, str] = {
    "156": "CNY", "978": "EUR", "840": "USD", "826": "GBP",
    "344": "HKD", "392": "JPY", "756": "CHF", "752": "SEK",
}
_ISO_ALPHA_TO_NUMERIC = {alpha: num for num, alpha in _ISO_NUMERIC.items()}


class Gs1Error(BarcodeError):
    """A GS1 element string is malformed or carries a value that is not valid."""


class UnknownApplicationIdentifierError(Gs1Error):
    """An Application Identifier that this module does not support."""

    def __init__(self, ai: str, message: str) -> None:
        super().__init__(message)
        self.ai = ai


@dataclass(frozen=True, slots=True)
class _AiSpec:
    ai: str
    title: str
    fixed: int | None  # fixed value length, or None for variable
    min_len: int
    max_len: int
    numeric: bool

    @property
    def needs_separator(self) -> bool:
        return self.ai[:2] not in _PREDEFINED_LENGTH_STARTS


def _build_table() -> dict[str, _AiSpec]:
    specs = [
        _AiSpec("01", "GTIN", 14, 14, 14, True),
        _AiSpec("10", "batch/lot", None, 1, 20, False),
        _AiSpec("11", "production date", 6, 6, 6, True),
        _AiSpec("15", "best before date", 6, 6, 6, True),
        _AiSpec("17", "expiration date", 6, 6, 6, True),
        _AiSpec("21", "serial number", None, 1, 20, False),
    ]
    specs += [_AiSpec(f"310{n}", "net weight (kg)", 6, 6, 6, True) for n in range(6)]
    specs += [_AiSpec(f"392{n}", "amount payable", None, 1, 15, True) for n in range(10)]
    specs += [_AiSpec(f"393{n}", "amount payable with ISO currency", None, 4, 18, True) for n in range(10)]
    return {s.ai: s for s in specs}


_TABLE: dict[str, _AiSpec] = _build_table()


# -- check digit ----------------------------------------------------------------------------------
def gs1_check_digit(body: str) -> int:
    """GS1 mod-10 check digit of an ASCII digit string: weights 3, 1, 3, ... from the right."""
    if not body or any(ch not in _DIGITS for ch in body):
        raise Gs1Error(f"a check digit is computed over ASCII digits, not {_preview(body)!r}")
    total = 0
    for i, ch in enumerate(reversed(body)):
        total += (ord(ch) - 48) * (3 if i % 2 == 0 else 1)
    return (10 - total % 10) % 10


# -- the result -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Gs1ElementString:
    """A parsed GS1 element string: typed fields plus the AIs exactly as encoded.

    ``elements`` keeps the (AI, value) pairs in their order, so formatting gives the same
    string back. ``net_weight_mg`` is exact (AI 310n has up to 5 decimals of a kilogram);
    ``net_weight_g`` rounds it half up to whole grams. ``price_minor`` is in minor units of
    ``price_currency``.
    """

    elements: tuple[tuple[str, str], ...]
    gtin: str | None = None
    batch: str | None = None
    serial: str | None = None
    expiry: date | None = None
    best_before: date | None = None
    production_date: date | None = None
    net_weight_mg: int | None = None
    price_minor: int | None = None
    price_currency: str | None = None

    @property
    def ai(self) -> dict[str, str]:
        """The raw AI map: AI → value string as encoded."""
        return dict(self.elements)

    @property
    def net_weight_g(self) -> int | None:
        if self.net_weight_mg is None:
            return None
        grams, rest = divmod(self.net_weight_mg, 1000)
        return grams + (1 if rest >= 500 else 0)

    @property
    def price(self) -> Money | None:
        if self.price_minor is None or self.price_currency is None:
            return None
        return Money(self.price_minor, self.price_currency)


# -- parsing --------------------------------------------------------------------------------------
def strip_symbology_id(text: str) -> tuple[str | None, str]:
    """Split a leading AIM symbology identifier (``]C1``) off ``text``: ``(id or None, rest)``."""
    if len(text) >= 3 and text[0] == "]" and text[1].isascii() and text[1].isalpha() and text[2].isascii() and text[2].isalnum():
        return text[:3], text[3:]
    return None, text


def looks_like_element_string(text: str) -> bool:
    """True when ``text`` is spelled like an element string (GS1 identifier, GS, or ``(AI)``)."""
    sym_id, rest = strip_symbology_id(text)
    if sym_id in GS1_SYMBOLOGY_IDS:
        return True
    return GS in rest or _AI_MARKER.match(rest) is not None


def parse_element_string(
    text: str,
    *,
    currency: str | None = None,
    reference_year: int | None = None,
) -> Gs1ElementString:
    """Parse a raw (GS-separated) or parenthesised GS1 element string.

    ``currency`` is the store currency that AI 392n prices are in (393n carries its own).
    Dates are YYMMDD; the century is 20YY unless ``reference_year`` (the current year) is
    given, in which case the GS1 sliding window of section 7.12 applies. ``DD`` = ``00`` means
    the last day of the month.
    """
    if not isinstance(text, str):
        raise Gs1Error(f"an element string is text, not {type(text).__name__}")
    if len(text) > _MAX_ELEMENT_STRING:
        raise Gs1Error(
            f"element string is {len(text)} characters long; the longest accepted is {_MAX_ELEMENT_STRING}"
        )
    sym_id, body = strip_symbology_id(text)
    if sym_id is not None and sym_id not in GS1_SYMBOLOGY_IDS:
        raise Gs1Error(f"symbology identifier {sym_id} does not carry GS1 data")
    if body.startswith("("):
        pairs = _split_parenthesised(body)
    else:
        pairs = _split_raw(body)
    return _interpret(pairs, currency=currency, reference_year=reference_year)


def _split_raw(body: str) -> list[tuple[str, str]]:
    pos = 0
    while pos < len(body) and body[pos] == GS:  # FNC1 in first position, transmitted as GS
        pos += 1
    if pos >= len(body):
        raise Gs1Error("element string is empty")
    pairs: list[tuple[str, str]] = []
    while pos < len(body):
        spec = _read_ai(body, pos)
        pos += len(spec.ai)
        if spec.fixed is not None:
            value = body[pos : pos + spec.fixed]
            if len(value) < spec.fixed or GS in value:
                raise Gs1Error(
                    f"AI ({spec.ai}) {spec.title} needs {spec.fixed} characters, found {_preview(value.split(GS)[0])!r}"
                )
            pos += spec.fixed
        else:
            end = body.find(GS, pos)
            end = len(body) if end < 0 else end
            value = body[pos:end]
            pos = end
        pairs.append((spec.ai, value))
        if pos < len(body) and body[pos] == GS:
            pos += 1
            if pos >= len(body):
                break
            if body[pos] == GS:
                raise Gs1Error(f"empty field: two separators in a row after AI ({spec.ai})")
    return pairs


def _read_ai(body: str, pos: int) -> _AiSpec:
    for length in (2, 4):
        candidate = body[pos : pos + length]
        if candidate in _TABLE:
            return _TABLE[candidate]
    head = body[pos : pos + 2]
    if len(head) < 2 or any(ch not in _DIGITS for ch in head):
        raise Gs1Error(f"expected an Application Identifier at position {pos + 1}, found {_preview(body[pos:pos + 4])!r}")
    ai = body[pos : pos + _ai_length(head)]
    raise UnknownApplicationIdentifierError(ai, f"unknown or unsupported Application Identifier ({ai})")


def _ai_length(head: str) -> int:
    """How many digits an AI starting with ``head`` has (GS1 General Specifications, 3.2)."""
    n = int(head)
    if n <= 22 or n in (30, 37) or n >= 90:
        return 2
    if 23 <= n <= 29 or 40 <= n <= 42 or n == 71:
        return 3
    return 4


def _split_parenthesised(body: str) -> list[tuple[str, str]]:
    markers = list(_AI_MARKER.finditer(body))
    if not markers or markers[0].start() != 0:
        raise Gs1Error(f"a parenthesised element string starts with '(AI)', not {_preview(body)!r}")
    pairs: list[tuple[str, str]] = []
    for i, m in enumerate(markers):
        end = markers[i + 1].start() if i + 1 < len(markers) else len(body)
        ai = m.group(1)
        if ai not in _TABLE:
            raise UnknownApplicationIdentifierError(ai, f"unknown or unsupported Application Identifier ({ai})")
        pairs.append((ai, body[m.end() : end]))
    return pairs


def _check_value(spec: _AiSpec, value: str) -> None:
    if spec.fixed is not None and len(value) != spec.fixed:
        raise Gs1Error(f"AI ({spec.ai}) {spec.title} needs {spec.fixed} characters, found {len(value)}: {_preview(value)!r}")
    if len(value) < spec.min_len:
        raise Gs1Error(f"AI ({spec.ai}) {spec.title} is empty" if not value else
                       f"AI ({spec.ai}) {spec.title} needs at least {spec.min_len} characters, found {len(value)}")
    if len(value) > spec.max_len:
        raise Gs1Error(f"AI ({spec.ai}) {spec.title} is {len(value)} characters long; at most {spec.max_len} allowed")
    allowed = _DIGITS if spec.numeric else _CSET82
    for i, ch in enumerate(value):
        if ch not in allowed:
            kind = "digit" if spec.numeric else "GS1 character-set-82 character"
            raise Gs1Error(
                f"AI ({spec.ai}) {spec.title}: {ch!r} (U+{ord(ch):04X}) at position {i + 1} is not a {kind}"
            )


def _interpret(
    pairs: Iterable[tuple[str, str]],
    *,
    currency: str | None,
    reference_year: int | None,
) -> Gs1ElementString:
    elements: list[tuple[str, str]] = []
    fields: dict[str, object] = {}
    seen: set[str] = set()
    for ai, value in pairs:
        spec = _TABLE.get(ai)
        if spec is None:
            raise UnknownApplicationIdentifierError(ai, f"unknown or unsupported Application Identifier ({ai})")
        _check_value(spec, value)
        group = ai[:3] if ai[:3] in {"310", "392", "393"} else ai
        group = "392" if group == "393" else group  # one price, whichever form
        if group in seen:
            raise Gs1Error(f"AI ({ai}) repeats a field already given in this element string")
        seen.add(group)
        elements.append((ai, value))
        if ai == "01":
            computed = gs1_check_digit(value[:13])
            if int(value[13]) != computed:
                raise InvalidCheckDigitError(
                    f"AI (01) GTIN: check digit {value[13]} does not match computed {computed} for {value}"
                )
            fields["gtin"] = value
        elif ai == "10":
            fields["batch"] = value
        elif ai == "21":
            fields["serial"] = value
        elif ai in {"11", "15", "17"}:
            name = {"11": "production_date", "15": "best_before", "17": "expiry"}[ai]
            fields[name] = _parse_date(ai, value, reference_year)
        elif ai.startswith("310"):
            decimals = int(ai[3])
            fields["net_weight_mg"] = int(value) * 10 ** (6 - decimals)
        elif ai.startswith("392"):
            if currency is None:
                raise Gs1Error(f"AI ({ai}) price needs the store currency to be known")
            fields["price_minor"] = _price_minor(ai, value, int(ai[3]), currency)
            fields["price_currency"] = currency
        elif ai.startswith("393"):
            iso = value[:3]
            alpha = _ISO_NUMERIC.get(iso)
            if alpha is None:
                raise Gs1Error(f"AI ({ai}) price: ISO 4217 currency {iso} is not one this system knows")
            fields["price_minor"] = _price_minor(ai, value[3:], int(ai[3]), alpha)
            fields["price_currency"] = alpha
    if not elements:
        raise Gs1Error("element string is empty")
    return Gs1ElementString(elements=tuple(elements), **fields)  # type: ignore[arg-type]


def _price_minor(ai: str, digits: str, decimals: int, currency: str) -> int:
    try:
        exponent = CURRENCIES[currency].exponent
    except KeyError:
        raise UnknownCurrencyError(f"AI ({ai}) price: unknown currency {currency!r}") from None
    value = int(digits)
    if decimals <= exponent:
        return value * 10 ** (exponent - decimals)
    minor, rest = divmod(value, 10 ** (decimals - exponent))
    if rest:
        raise Gs1Error(
            f"AI ({ai}) price {digits} with {decimals} decimals is finer than {currency} allows ({exponent})"
        )
    return minor


def _parse_date(ai: str, value: str, reference_year: int | None) -> date:
    yy, mm, dd = int(value[:2]), int(value[2:4]), int(value[4:6])
    if reference_year is None:
        year = 2000 + yy
    else:
        century, current = divmod(reference_year, 100)
        diff = yy - current
        if 51 <= diff <= 99:
            century -= 1
        elif -99 <= diff <= -50:
            century += 1
        year = century * 100 + yy
    if not 1 <= mm <= 12:
        raise Gs1Error(f"AI ({ai}) date {value}: month {mm:02d} is not 01-12")
    last = calendar.monthrange(year, mm)[1]
    if dd == 0:
        dd = last
    elif dd > last:
        raise Gs1Error(f"AI ({ai}) date {value}: day {dd:02d} does not exist in {year}-{mm:02d}")
    return date(year, mm, dd)


# -- formatting -----------------------------------------------------------------------------------
ElementData = Gs1ElementString | Mapping[str, str] | Iterable[tuple[str, str]]


def format_element_string(data: ElementData, *, parenthesised: bool = False) -> str:
    """Spell element data as the raw transmitted form (default) or the parenthesised form.

    The raw form has no leading FNC1 and puts ``GS`` only after variable-length fields that are
    not last. A parenthesised form is refused when a value itself contains ``(NN)``, because it
    could not be read back unambiguously.
    """
    if isinstance(data, Gs1ElementString):
        pairs = list(data.elements)
    elif isinstance(data, Mapping):
        pairs = list(data.items())
    else:
        pairs = list(data)
    if not pairs:
        raise Gs1Error("nothing to format: no elements")
    out: list[str] = []
    for i, (ai, value) in enumerate(pairs):
        spec = _TABLE.get(ai)
        if spec is None:
            raise UnknownApplicationIdentifierError(ai, f"unknown or unsupported Application Identifier ({ai})")
        _check_value(spec, value)
        if parenthesised:
            if _AI_MARKER.search(value):
                raise Gs1Error(f"AI ({ai}) value {value!r} contains '(NN)' and cannot be parenthesised unambiguously")
            out.append(f"({ai}){value}")
        else:
            out.append(ai + value)
            if spec.needs_separator and i + 1 < len(pairs):
                out.append(GS)
    return "".join(out)


def build_element_string(
    *,
    gtin: str | None = None,
    net_weight_g: int | None = None,
    price: Money | None = None,
    price_with_currency: bool = False,
    expiry: date | None = None,
    best_before: date | None = None,
    production_date: date | None = None,
    batch: str | None = None,
    serial: str | None = None,
) -> Gs1ElementString:
    """Build element data from typed values (simulators and tests use this).

    Fixed-length fields come first and variable-length ones last, so the raw form needs as few
    separators as possible. Weight is encoded as AI 3103 (kilograms with 3 decimals = grams);
    a price as AI 392n with n = the currency exponent, or 393n with its ISO code when
    ``price_with_currency``. Dates must fall in 2000-2099 to read back the same.
    """
    pairs: list[tuple[str, str]] = []
    if gtin is not None:
        pairs.append(("01", gtin))
    for ai, when in (("11", production_date), ("15", best_before), ("17", expiry)):
        if when is not None:
            if not 2000 <= when.year <= 2099:
                raise Gs1Error(f"AI ({ai}) date {when.isoformat()} is outside 2000-2099")
            pairs.append((ai, when.strftime("%y%m%d")))
    if net_weight_g is not None:
        if isinstance(net_weight_g, bool) or not isinstance(net_weight_g, int) or not 0 <= net_weight_g <= 999_999:
            raise Gs1Error(f"net weight {net_weight_g!r} g does not fit AI (3103) (0-999999 g)")
        pairs.append(("3103", f"{net_weight_g:06d}"))
    if price is not None:
        if price.minor < 0:
            raise Gs1Error(f"a price in a barcode is never negative: {price}")
        if price_with_currency:
            iso = _ISO_ALPHA_TO_NUMERIC.get(price.currency)
            if iso is None:
                raise Gs1Error(f"currency {price.currency} has no ISO 4217 numeric code here")
            pairs.append((f"393{price.exponent}", f"{iso}{price.minor}"))
        else:
            pairs.append((f"392{price.exponent}", str(price.minor)))
    if batch is not None:
        pairs.append(("10", batch))
    if serial is not None:
        pairs.append(("21", serial))
    currency = price.currency if price is not None else None
    return _interpret(pairs, currency=currency, reference_year=None)


def _preview(text: object, limit: int = 32) -> str:
    s = str(text)
    return s if len(s) <= limit else f"{s[:limit]}… ({len(s)} characters)"
