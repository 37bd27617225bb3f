"""Money: integer minor units with a currency. Never a float.

>>> Money.of("12.50", "CNY").format("zh_CN")
'¥12.50'
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from enum import Enum
from fractions import Fraction
from typing import Iterable, Sequence

from retail.errors import (
    CurrencyMismatchError,
    InsufficientTenderError,
    MoneyError,
    UnknownCurrencyError,
)

__all__ = [
    "CURRENCIES",
    "CashRounding",
    "Currency",
    "Money",
    "change_breakdown",
    "change_due",
    "sum_money",
]


@dataclass(frozen=True, slots=True)
class Currency:
    code: str
    exponent: int
    symbol: str


CURRENCIES: dict[str, Currency] = {
    c.code: c
    for c in (
        Currency("CNY", 2, "¥"),
        Currency("EUR", 2, "€"),
        Currency("USD", 2, "$"),
        Currency("GBP", 2, "£"),
        Currency("HKD", 2, "HK$"),
        Currency("JPY", 0, "¥"),
        Currency("CHF", 2, "CHF"),
        Currency("SEK", 2, "kr"),
    )
}

# Locale conventions: decimal mark, group mark, symbol before the number?, space between.
_LOCALES: dict[str, tuple[str, str, bool, bool]] = {
    "en": (".", ",", True, False),
    "en_US": (".", ",", True, False),
    "en_GB": (".", ",", True, False),
    "en_IE": (".", ",", True, False),
    "zh": (".", ",", True, False),
    "zh_CN": (".", ",", True, False),
    "nl_NL": (",", ".", True, True),
    "de_DE": (",", ".", False, True),
    "fr_FR": (",", "\u202f", False, True),
    "it_IT": (",", ".", False, True),
    "es_ES": (",", ".", False, True),
    "sv_SE": (",", "\u00a0", False, True),
}

Factor = int | Fraction | Decimal


def _currency(code: str) -> Currency:
    try:
        return CURRENCIES[code]
    except KeyError:
        raise UnknownCurrencyError(f"unknown currency {code!r}") from None


def _check_factor(factor: object) -> Factor:
    if isinstance(factor, bool) or not isinstance(factor, (int, Fraction, Decimal)):
        raise MoneyError(
            f"money can only be multiplied by int, Fraction or Decimal, not {type(factor).__name__}"
        )
    if isinstance(factor, Decimal) and not factor.is_finite():
        raise MoneyError(f"money cannot be multiplied by {factor}")
    return factor


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """An amount in integer minor units (cents, fen) of one currency."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise MoneyError(
                f"money is integer minor units, not {type(self.minor).__name__}: {self.minor!r}"
            )
        _currency(self.currency)

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def of(cls, amount: str | int | Decimal, currency: str) -> Money:
        """From major units given exactly: ``Money.of("12.50", "CNY")``. Floats are refused."""
        if isinstance(amount, float):
            raise MoneyError("money is never built from a float; pass a str or Decimal")
        if isinstance(amount, bool):
            raise MoneyError("money is never built from a bool")
        try:
            value = Decimal(amount)
        except (InvalidOperation, ValueError, TypeError):
            raise MoneyError(f"not an amount: {amount!r}") from None
        if not value.is_finite():
            raise MoneyError(f"not a finite amount: {amount!r}")
        exp = _currency(currency).exponent
        sign, digits, dexp = value.as_tuple()
        shift = dexp + exp  # exact decimal shift, no context rounding
        if shift < 0:
            dropped = digits[shift:] if -shift <= len(digits) else digits
            if any(dropped):
                raise MoneyError(f"{amount!r} has more decimals than {currency} allows ({exp})")
            digits = digits[:shift] if -shift < len(digits) else (0,)
            shift = 0
        minor = int("".join(map(str, digits)) or "0") * 10**shift
        return cls(-minor if sign else minor, currency)

    # -- properties ---------------------------------------------------------------------------
    @property
    def exponent(self) -> int:
        return _currency(self.currency).exponent

    @property
    def amount(self) -> Decimal:
        """The amount in major units, exactly."""
        sign, digits, _ = Decimal(self.minor).as_tuple()
        return Decimal((sign, digits, -self.exponent))

    def is_zero(self) -> bool:
        return self.minor == 0

    # -- arithmetic ---------------------------------------------------------------------------
    def _same(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise MoneyError(f"cannot combine money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatchError(f"cannot mix {self.currency} and {other.currency}")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.minor + self._same(other).minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.minor - self._same(other).minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.minor), self.currency)

    def __mul__(self, factor: int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int):
            raise MoneyError("use Money.multiply() for non-integer factors")
        return Money(self.minor * factor, self.currency)

    __rmul__ = __mul__

    def multiply(self, factor: Factor, rounding: str = ROUND_HALF_UP) -> Money:
        """Multiply by an exact factor (weight, percentage) and round to a minor unit.

        ``rounding`` is ``decimal.ROUND_HALF_UP`` (halves away from zero, the default) or
        ``decimal.ROUND_HALF_EVEN``; the product is computed exactly before rounding.
        """
        exact = Fraction(self.minor) * _to_fraction(_check_factor(factor))
        return Money(_round_fraction(exact, rounding), self.currency)

    def percent(self, pct: Factor, rounding: str = ROUND_HALF_UP) -> Money:
        """``pct`` per cent of this amount, rounded to a minor unit."""
        return self.multiply(Fraction(_to_fraction(_check_factor(pct)), 100), rounding)

    def allocate(self, weights: Sequence[int]) -> list[Money]:
        """Split into parts proportional to ``weights`` that add up exactly (largest remainder).

        Ties go to the earlier part, so the split is deterministic.
        """
        if not weights:
            raise MoneyError("allocate needs at least one weight")
        if any(isinstance(w, bool) or not isinstance(w, int) or w < 0 for w in weights):
            raise MoneyError("allocation weights are non-negative integers")
        total = sum(weights)
        if total == 0:
            raise MoneyError("allocation weights add up to zero")
        sign = -1 if self.minor < 0 else 1
        amount = abs(self.minor)
        shares = [amount * w // total for w in weights]
        remainders = [(amount * w % total, -i) for i, w in enumerate(weights)]
        left = amount - sum(shares)
        for _, neg_i in sorted(remainders, reverse=True)[:left]:
            shares[-neg_i] += 1
        return [Money(sign * s, self.currency) for s in shares]

    # -- comparison ---------------------------------------------------------------------------
    def __lt__(self, other: Money) -> bool:
        return self.minor < self._same(other).minor

    def __le__(self, other: Money) -> bool:
        return self.minor <= self._same(other).minor

    def __gt__(self, other: Money) -> bool:
        return self.minor > self._same(other).minor

    def __ge__(self, other: Money) -> bool:
        return self.minor >= self._same(other).minor

    # -- cash ---------------------------------------------------------------------------------
    def round_cash(self, rounding: CashRounding) -> Money:
        """Round to the smallest coin the store takes (half up, away from zero at halves)."""
        step = rounding.step
        if step <= 1:
            return self
        sign = -1 if self.minor < 0 else 1
        q, r = divmod(abs(self.minor), step)
        if r * 2 >= step:
            q += 1
        return Money(sign * q * step, self.currency)

    # -- text ---------------------------------------------------------------------------------
    def format(self, locale: str = "en", *, symbol: bool = True) -> str:
        """Format for people: ``¥12.50`` (en, zh_CN), ``12,50 €`` (de_DE), ``€ 12,50`` (nl_NL)."""
        try:
            decimal_mark, group_mark, before, space = _LOCALES[locale]
        except KeyError:
            base = locale.split("_")[0]
            if base not in _LOCALES:
                raise MoneyError(f"unknown locale {locale!r}") from None
            decimal_mark, group_mark, before, space = _LOCALES[base]
        cur = _currency(self.currency)
        digits = f"{abs(self.minor):0{cur.exponent + 1}d}"
        whole, frac = (digits[: -cur.exponent], digits[-cur.exponent :]) if cur.exponent else (digits, "")
        groups = []
        while len(whole) > 3:
            groups.insert(0, whole[-3:])
            whole = whole[:-3]
        groups.insert(0, whole)
        number = group_mark.join(groups) + (decimal_mark + frac if frac else "")
        sign = "-" if self.minor < 0 else ""
        if not symbol:
            return sign + number
        gap = "\u00a0" if space else ""
        if before and space:  # CLDR: "€ -1.234,50" where the symbol stands apart
            return f"{cur.symbol}{gap}{sign}{number}"
        if before:
            return f"{sign}{cur.symbol}{gap}{number}"
        return f"{sign}{number}{gap}{cur.symbol}"

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def _to_fraction(value: Factor) -> Fraction:
    return Fraction(value) if not isinstance(value, Fraction) else value


def _round_fraction(value: Fraction, rounding: str) -> int:
    sign = -1 if value < 0 else 1
    mag = abs(value)
    whole = mag.numerator // mag.denominator
    rem = mag - whole
    if rounding == ROUND_HALF_UP:
        up = rem >= Fraction(1, 2)
    elif rounding == ROUND_HALF_EVEN:
        up = rem > Fraction(1, 2) or (rem == Fraction(1, 2) and whole % 2 == 1)
    else:
        raise MoneyError(f"unsupported rounding {rounding!r}")
    return sign * (whole + (1 if up else 0))


class CashRounding(Enum):
    """How a store rounds cash payments: to the cent, to 0.05 or to 0.10."""

    NONE = 1
    NEAREST_0_05 = 5
    NEAREST_0_10 = 10

    @property
    def step(self) -> int:
        return self.value

    @classmethod
    def parse(cls, text: str) -> CashRounding:
        table = {"none": cls.NONE, "0.01": cls.NONE, "0.05": cls.NEAREST_0_05, "0.10": cls.NEAREST_0_10, "0.1": cls.NEAREST_0_10}
        try:
            return table[text.strip().lower()]
        except KeyError:
            raise MoneyError(f"unknown cash rounding {text!r}; use none, 0.05 or 0.10") from None


def sum_money(amounts: Iterable[Money], currency: str) -> Money:
    """Add amounts of one currency; an empty sum is zero in ``currency``."""
    total = Money.zero(currency)
    for m in amounts:
        total = total + m
    return total


def change_due(due: Money, tendered: Money, rounding: CashRounding = CashRounding.NONE) -> Money:
    """Change for cash ``tendered`` against ``due``, after the store's cash rounding of ``due``."""
    payable = due.round_cash(rounding)
    if tendered < payable:
        raise InsufficientTenderError(
            f"tendered {tendered.format()} does not cover {payable.format()}"
        )
    return tendered - payable


def change_breakdown(change: Money, denominations: Sequence[int]) -> dict[int, int]:
    """Notes and coins (minor units) to hand back, fewest pieces for canonical coin systems."""
    if change.minor < 0:
        raise MoneyError("change is never negative")
    left = change.minor
    out: dict[int, int] = {}
    for d in sorted(set(denominations), reverse=True):
        if d <= 0:
            raise MoneyError("denominations are positive minor units")
        n, left = divmod(left, d)
        if n:
            out[d] = n
    if left:
        raise MoneyError(f"{change.format()} cannot be paid out in the given denominations")
    return out
