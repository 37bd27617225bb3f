"""Loyalty rules: points, levels, points as payment, stored value and birthday coupons.

Pure rules only; the edge keeps the ledgers (points lots, stored-value movements, issued
coupons) and calls these functions to decide what a movement is.

Points are whole non-negative integers. Money is :class:`retail.money.Money`; every amount
handed to a rule must be in the program's currency (a mismatch raises
:class:`retail.errors.CurrencyMismatchError`).

>>> from retail.money import Money
>>> program = LoyaltyProgram.simple("CNY")
>>> points_earned(program, program.base_level, Money.of("12.80", "CNY"))
12
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from fractions import Fraction
from typing import Iterable

from retail.errors import CurrencyMismatchError, LoyaltyError
from retail.money import Money

__all__ = [
    "BalanceLimitError",
    "BirthdayCouponRule",
    "ExpiryKind",
    "InsufficientBalanceError",
    "InsufficientPointsError",
    "InvalidPointsError",
    "Level",
    "LoyaltyConfigError",
    "LoyaltyProgram",
    "MovementKind",
    "NegativeSpendError",
    "PointsExpiry",
    "PointsRedemption",
    "RedemptionLimitError",
    "RedemptionUnitError",
    "RefundExceedsSaleError",
    "StoredValueMovement",
    "StoredValueRules",
    "TopUpBonus",
    "TopUpTooSmallError",
    "UnknownLevelError",
    "birthday_coupon_due",
    "birthday_coupon_year",
    "birthday_in_year",
    "eligible_spend",
    "expired_points",
    "level_by_code",
    "level_for",
    "max_redeemable_points",
    "points_earned",
    "points_expire_on",
    "points_to_reverse",
    "points_value",
    "redeem_points",
    "refund_stored_value",
    "rolling_spend",
    "spend_stored_value",
    "top_up",
]

BP = 10_000  # basis points in a whole


# -- errors ------------------------------------------------------------------------------------
class LoyaltyConfigError(LoyaltyError):
    """A loyalty program, level, stored-value or coupon rule is not valid."""


class InvalidPointsError(LoyaltyError, TypeError):
    """A points figure that is not a non-negative whole number (float, bool, negative)."""


class UnknownLevelError(LoyaltyError, LookupError):
    """A level that the loyalty program does not define."""


class NegativeSpendError(LoyaltyError):
    """A spend figure below zero where only zero or more makes sense."""


class InsufficientPointsError(LoyaltyError):
    """More points requested than the member holds."""


class RedemptionUnitError(LoyaltyError):
    """Points are redeemed only in whole redemption units (e.g. multiples of 100)."""


class RedemptionLimitError(LoyaltyError):
    """A redemption below the program's minimum or above its per-sale cap."""


class InsufficientBalanceError(LoyaltyError):
    """A stored-value spend larger than the balance (no overdraft)."""


class BalanceLimitError(LoyaltyError):
    """A top-up that would take the stored-value balance above its maximum."""


class TopUpTooSmallError(LoyaltyError):
    """A top-up below the minimum the store accepts."""


class RefundExceedsSaleError(LoyaltyError):
    """A refund larger than what is left of the sale to refund."""


# -- helpers -----------------------------------------------------------------------------------
def _check_money(value: object, currency: str, what: str) -> Money:
    if not isinstance(value, Money):
        raise LoyaltyConfigError(f"{what} must be Money, not {type(value).__name__}")
    if value.currency != currency:
        raise CurrencyMismatchError(f"{what} is in {value.currency}, the program uses {currency}")
    return value


def _check_points(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidPointsError(f"{what} is a whole number of points, not {type(value).__name__}: {value!r}")
    if value < 0:
        raise InvalidPointsError(f"{what} cannot be negative: {value}")
    return value


def _check_int(value: object, what: str, *, low: int = 0, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise LoyaltyConfigError(f"{what} must be an int, not {type(value).__name__}: {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"{low}..{high}" if high is not None else f">= {low}"
        raise LoyaltyConfigError(f"{what} must be {bound}, not {value}")
    return value


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


# -- program -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Level:
    """A membership level reached by rolling spend.

    ``points_multiplier`` is either a :class:`~fractions.Fraction` (``Fraction(3, 2)`` = 1.5×)
    or an ``int`` in basis points (``15000`` = 1.5×, ``10000`` = 1×). Floats are refused.
    """

    code: str
    name_en: str
    name_zh: str
    min_rolling_spend: Money
    points_multiplier: Fraction | int = Fraction(1)

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not self.code.strip():
            raise LoyaltyConfigError("a level needs a code")
        if not self.name_en or not self.name_zh:
            raise LoyaltyConfigError(f"level {self.code}: names in English and Chinese are both required")
        if not isinstance(self.min_rolling_spend, Money):
            raise LoyaltyConfigError(f"level {self.code}: min_rolling_spend must be Money")
        if self.min_rolling_spend.minor < 0:
            raise LoyaltyConfigError(f"level {self.code}: negative min_rolling_spend")
        m = self.points_multiplier
        if isinstance(m, bool) or not isinstance(m, (int, Fraction)):
            raise LoyaltyConfigError(
                f"level {self.code}: points_multiplier is a Fraction or int basis points, not {type(m).__name__}"
            )
        if m < 0:
            raise LoyaltyConfigError(f"level {self.code}: negative points_multiplier")

    @property
    def multiplier(self) -> Fraction:
        """The points multiplier as an exact fraction (1 = no bonus)."""
        m = self.points_multiplier
        return m if isinstance(m, Fraction) else Fraction(m, BP)

    def name(self, language: str) -> str:
        return self.name_zh if language.startswith("zh") else self.name_en


class ExpiryKind(str, Enum):
    AFTER_DAYS = "after_days"  # points earned on day d lapse on d + count days
    YEAR_END = "year_end"      # points earned in year Y lapse after 31 Dec of Y + count


@dataclass(frozen=True, slots=True)
class PointsExpiry:
    """When earned points lapse: ``PointsExpiry(ExpiryKind.YEAR_END, 1)`` = end of next year."""

    kind: ExpiryKind
    count: int

    def __post_init__(self) -> None:
        if not isinstance(self.kind, ExpiryKind):
            raise LoyaltyConfigError(f"unknown expiry kind {self.kind!r}")
        low = 1 if self.kind is ExpiryKind.AFTER_DAYS else 0
        _check_int(self.count, "expiry count", low=low, high=36_500)


@dataclass(frozen=True, slots=True)
class LoyaltyProgram:
    """A store's or chain's loyalty settings.

    Earning: ``points_per_unit`` points per ``earn_unit`` of eligible spend (the paid total after
    savings, less what was paid with points or stored value unless the ``earn_on_*`` flags say
    otherwise), times the level's multiplier, rounded down.

    Levels: the highest level whose ``min_rolling_spend`` the member's spend over
    ``rolling_window`` reaches. ``levels`` must include a base level at zero.

    Redemption: ``redeem_unit_points`` points are worth ``redeem_unit_value`` and are redeemed
    only in whole units; per sale at least ``min_redeem_points`` (when any), at most
    ``max_redeem_points`` (``None`` = no fixed cap) and at most ``max_redeem_share_bp`` basis
    points of the sale total (5000 = 50 %).
    """

    currency: str
    levels: tuple[Level, ...]
    points_per_unit: int = 1
    earn_unit: Money | None = None  # default: one major unit (¥1)
    earn_on_points_payments: bool = False
    earn_on_stored_value_payments: bool = False
    rolling_window: timedelta = timedelta(days=365)
    redeem_unit_points: int = 100
    redeem_unit_value: Money | None = None  # default: one major unit (100 points = ¥1)
    min_redeem_points: int = 0
    max_redeem_points: int | None = None
    max_redeem_share_bp: int = 5000
    expiry: PointsExpiry | None = None

    def __post_init__(self) -> None:
        one = Money.of(1, self.currency)  # also validates the currency
        if self.earn_unit is None:
            object.__setattr__(self, "earn_unit", one)
        if self.redeem_unit_value is None:
            object.__setattr__(self, "redeem_unit_value", one)
        if isinstance(self.levels, list):
            object.__setattr__(self, "levels", tuple(self.levels))
        if not isinstance(self.levels, tuple) or not self.levels:
            raise LoyaltyConfigError("a loyalty program needs at least one level")
        for lv in self.levels:
            if not isinstance(lv, Level):
                raise LoyaltyConfigError(f"levels must be Level, not {type(lv).__name__}")
            _check_money(lv.min_rolling_spend, self.currency, f"level {lv.code} min_rolling_spend")
        codes = [lv.code for lv in self.levels]
        if len(set(codes)) != len(codes):
            raise LoyaltyConfigError(f"level codes must be unique: {codes}")
        ordered = tuple(sorted(self.levels, key=lambda lv: lv.min_rolling_spend.minor))
        thresholds = [lv.min_rolling_spend.minor for lv in ordered]
        if len(set(thresholds)) != len(thresholds):
            raise LoyaltyConfigError("two levels share the same min_rolling_spend")
        if thresholds[0] != 0:
            raise LoyaltyConfigError("the lowest level must start at zero rolling spend")
        object.__setattr__(self, "levels", ordered)
        _check_int(self.points_per_unit, "points_per_unit")
        earn_unit = _check_money(self.earn_unit, self.currency, "earn_unit")
        if earn_unit.minor <= 0:
            raise LoyaltyConfigError("earn_unit must be positive")
        if not isinstance(self.rolling_window, timedelta) or self.rolling_window <= timedelta(0):
            raise LoyaltyConfigError("rolling_window must be a positive timedelta")
        _check_int(self.redeem_unit_points, "redeem_unit_points", low=1)
        unit_value = _check_money(self.redeem_unit_value, self.currency, "redeem_unit_value")
        if unit_value.minor <= 0:
            raise LoyaltyConfigError("redeem_unit_value must be positive")
        _check_int(self.min_redeem_points, "min_redeem_points")
        if self.max_redeem_points is not None:
            _check_int(self.max_redeem_points, "max_redeem_points")
            if self.max_redeem_points < self.min_redeem_points:
                raise LoyaltyConfigError("max_redeem_points is below min_redeem_points")
        _check_int(self.max_redeem_share_bp, "max_redeem_share_bp", high=BP)
        if self.expiry is not None and not isinstance(self.expiry, PointsExpiry):
            raise LoyaltyConfigError("expiry must be a PointsExpiry or None")

    @classmethod
    def simple(cls, currency: str = "CNY") -> LoyaltyProgram:
        """A typical program: 1 point per ¥1; 100 points = ¥1; at most 50 % of a sale in points;
        levels standard (0), silver (¥2,000, 1.2×), gold (¥10,000, 1.5×) over 365 days."""
        return cls(
            currency=currency,
            levels=(
                Level("standard", "Member", "普通会员", Money.zero(currency), Fraction(1)),
                Level("silver", "Silver", "银卡会员", Money.of(2000, currency), Fraction(6, 5)),
                Level("gold", "Gold", "金卡会员", Money.of(10000, currency), Fraction(3, 2)),
            ),
        )

    @property
    def earn_unit_amount(self) -> Money:
        """``earn_unit`` resolved (one major unit when not given)."""
        return self.earn_unit if self.earn_unit is not None else Money.of(1, self.currency)

    @property
    def redeem_unit_amount(self) -> Money:
        """``redeem_unit_value`` resolved (one major unit when not given)."""
        return self.redeem_unit_value if self.redeem_unit_value is not None else Money.of(1, self.currency)

    @property
    def base_level(self) -> Level:
        return self.levels[0]

    def zero(self) -> Money:
        return Money.zero(self.currency)


# -- levels and spend --------------------------------------------------------------------------
def level_by_code(program: LoyaltyProgram, code: str) -> Level:
    """The program's level with ``code``; :class:`UnknownLevelError` when there is none."""
    for lv in program.levels:
        if lv.code == code:
            return lv
    raise UnknownLevelError(f"unknown level {code!r}; the program has {[lv.code for lv in program.levels]}")


def _known_level(program: LoyaltyProgram, level: Level) -> Level:
    if not isinstance(level, Level) or level not in program.levels:
        code = getattr(level, "code", level)
        raise UnknownLevelError(f"level {code!r} is not one of this program's levels")
    return level


def level_for(program: LoyaltyProgram, rolling_spend: Money) -> Level:
    """The highest level whose threshold ``rolling_spend`` reaches."""
    spend = _check_money(rolling_spend, program.currency, "rolling spend")
    if spend.minor < 0:
        raise NegativeSpendError(f"rolling spend cannot be negative: {spend.format()}")
    chosen = program.levels[0]
    for lv in program.levels:
        if spend.minor >= lv.min_rolling_spend.minor:
            chosen = lv
    return chosen


def rolling_spend(purchases: Iterable[tuple[datetime, Money]], at: datetime, program: LoyaltyProgram) -> Money:
    """Spend in the window ``(at - rolling_window, at]``.

    Refunds count as negative amounts at the time of the refund; the total never goes below
    zero. Purchases after ``at`` are ignored. Times must be timezone-aware.
    """
    if not isinstance(at, datetime) or at.tzinfo is None:
        raise LoyaltyError("rolling_spend needs a timezone-aware 'at'")
    start = at - program.rolling_window
    total = 0
    for when, amount in purchases:
        if not isinstance(when, datetime) or when.tzinfo is None:
            raise LoyaltyError(f"purchase time must be timezone-aware, not {when!r}")
        minor = _check_money(amount, program.currency, "purchase amount").minor
        if start < when <= at:
            total += minor
    return Money(max(total, 0), program.currency)


# -- earning -----------------------------------------------------------------------------------
def eligible_spend(
    program: LoyaltyProgram,
    paid_total: Money,
    *,
    paid_with_points: Money | None = None,
    paid_with_stored_value: Money | None = None,
) -> Money:
    """The part of a sale's paid total (after savings) that earns points."""
    total = _check_money(paid_total, program.currency, "paid total")
    by_points = _check_money(paid_with_points or program.zero(), program.currency, "paid with points")
    by_sv = _check_money(paid_with_stored_value or program.zero(), program.currency, "paid with stored value")
    if total.minor < 0 or by_points.minor < 0 or by_sv.minor < 0:
        raise NegativeSpendError("paid amounts cannot be negative")
    if by_points.minor + by_sv.minor > total.minor:
        raise LoyaltyError(
            f"points and stored value ({(by_points + by_sv).format()}) exceed the paid total {total.format()}"
        )
    eligible = total
    if not program.earn_on_points_payments:
        eligible = eligible - by_points
    if not program.earn_on_stored_value_payments:
        eligible = eligible - by_sv
    return eligible


def points_earned(program: LoyaltyProgram, level: Level, eligible_spend: Money) -> int:
    """Points for ``eligible_spend`` at ``level``: exact multiplier, rounded down."""
    _known_level(program, level)
    spend = _check_money(eligible_spend, program.currency, "eligible spend")
    if spend.minor < 0:
        raise NegativeSpendError(f"eligible spend cannot be negative: {spend.format()}")
    exact = Fraction(spend.minor * program.points_per_unit, program.earn_unit_amount.minor) * level.multiplier
    return exact.numerator // exact.denominator


def points_to_reverse(
    points_earned: int,
    eligible_spend: Money,
    refunded: Money,
    previously_refunded: Money | None = None,
) -> int:
    """Points to take back when ``refunded`` of a sale's ``eligible_spend`` is refunded.

    Proportional to the refunded share, computed cumulatively so that several partial refunds
    take back exactly what one refund of the same total would, and a full refund takes back
    every point. The member keeps ``floor(points × kept share)``, the same rounding as earning.
    """
    earned = _check_points(points_earned, "points earned")
    sale = eligible_spend
    if not isinstance(sale, Money) or not isinstance(refunded, Money):
        raise LoyaltyError("eligible_spend and refunded are Money")
    before = previously_refunded if previously_refunded is not None else Money.zero(sale.currency)
    if not (sale.currency == refunded.currency == before.currency):
        raise CurrencyMismatchError("sale, refund and earlier refunds must share one currency")
    after = before + refunded
    if sale.minor < 0 or refunded.minor < 0 or before.minor < 0:
        raise NegativeSpendError("sale and refund amounts cannot be negative")
    if after.minor > sale.minor:
        raise RefundExceedsSaleError(
            f"refunding {refunded.format()} after {before.format()} exceeds the sale's {sale.format()}"
        )
    if sale.minor == 0:
        return 0

    def taken(refund_minor: int) -> int:
        return _ceil_div(earned * refund_minor, sale.minor)

    return taken(after.minor) - taken(before.minor)


# -- expiry ------------------------------------------------------------------------------------
def points_expire_on(expiry: PointsExpiry, earned_on: date) -> date:
    """The first day on which points earned on ``earned_on`` are no longer valid."""
    if expiry.kind is ExpiryKind.AFTER_DAYS:
        return earned_on + timedelta(days=expiry.count)
    return date(earned_on.year + expiry.count + 1, 1, 1)


def expired_points(
    program: LoyaltyProgram,
    lots: Iterable[tuple[date, int]],
    consumed: int,
    today: date,
) -> int:
    """Points that have lapsed by ``today`` and are still unspent.

    ``lots`` are (day earned, points) entries; ``consumed`` is every point that has already
    left the balance (redeemed, reversed, expired earlier). Consumption uses the oldest points
    first, so the result is what an expiry movement should remove now. Without an expiry rule
    nothing lapses.
    """
    left_to_consume = _check_points(consumed, "consumed points")
    if program.expiry is None:
        return 0
    total_earned = 0
    lapsed = 0
    for earned_on, points in sorted(lots, key=lambda lot: lot[0]):
        pts = _check_points(points, "lot points")
        total_earned += pts
        used = min(pts, left_to_consume)
        left_to_consume -= used
        if points_expire_on(program.expiry, earned_on) <= today:
            lapsed += pts - used
    if consumed > total_earned:
        raise InsufficientPointsError(f"{consumed} points consumed but only {total_earned} earned")
    return lapsed


# -- points as payment -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PointsRedemption:
    """Points used as a tender and what they are worth."""

    points: int
    value: Money


def points_value(program: LoyaltyProgram, points: int) -> Money:
    """What ``points`` (a whole number of redemption units) are worth."""
    pts = _check_points(points, "points")
    if pts % program.redeem_unit_points:
        raise RedemptionUnitError(
            f"points are redeemed in multiples of {program.redeem_unit_points}, not {pts}"
        )
    return program.redeem_unit_amount * (pts // program.redeem_unit_points)


def _cap_points(program: LoyaltyProgram, due: Money, sale_total: Money) -> int:
    """Most points the caps allow, before the balance: share of the total, due, fixed cap."""
    cap_minor = min(sale_total.minor * program.max_redeem_share_bp // BP, due.minor)
    units = cap_minor // program.redeem_unit_amount.minor
    cap = units * program.redeem_unit_points
    if program.max_redeem_points is not None:
        fixed = program.max_redeem_points - program.max_redeem_points % program.redeem_unit_points
        cap = min(cap, fixed)
    return cap


def _due_and_total(program: LoyaltyProgram, due: Money, sale_total: Money | None) -> tuple[Money, Money]:
    due = _check_money(due, program.currency, "amount due")
    total = _check_money(sale_total if sale_total is not None else due, program.currency, "sale total")
    if due.minor < 0 or total.minor < 0:
        raise NegativeSpendError("amount due and sale total cannot be negative")
    return due, total


def max_redeemable_points(
    program: LoyaltyProgram, balance: int, due: Money, *, sale_total: Money | None = None
) -> int:
    """The most points this member may use now (0 when below the program's minimum).

    ``due`` is what is still to pay; ``sale_total`` (default ``due``) is the total the
    percentage cap applies to.
    """
    bal = _check_points(balance, "points balance")
    due, total = _due_and_total(program, due, sale_total)
    best = min(bal - bal % program.redeem_unit_points, _cap_points(program, due, total))
    if best <= 0 or best < program.min_redeem_points:
        return 0
    return best


def redeem_points(
    program: LoyaltyProgram,
    balance: int,
    requested: int,
    due: Money,
    *,
    sale_total: Money | None = None,
) -> PointsRedemption:
    """Use ``requested`` points against ``due``; refuses what the rules do not allow."""
    bal = _check_points(balance, "points balance")
    req = _check_points(requested, "requested points")
    due, total = _due_and_total(program, due, sale_total)
    if req == 0:
        raise RedemptionLimitError("no points requested")
    if req > bal:
        raise InsufficientPointsError(f"{req} points requested but the balance is {bal}")
    if req % program.redeem_unit_points:
        raise RedemptionUnitError(
            f"points are redeemed in multiples of {program.redeem_unit_points}; {req} is not one"
        )
    if req < program.min_redeem_points:
        raise RedemptionLimitError(f"at least {program.min_redeem_points} points per redemption; {req} requested")
    cap = _cap_points(program, due, total)
    if req > cap:
        raise RedemptionLimitError(
            f"at most {cap} points ({points_value(program, cap).format()}) may be used on this sale; {req} requested"
        )
    return PointsRedemption(req, points_value(program, req))


# -- stored value ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TopUpBonus:
    """Top up at least ``min_top_up`` and get ``bonus`` added (the highest tier reached applies)."""

    min_top_up: Money
    bonus: Money

    def __post_init__(self) -> None:
        if not isinstance(self.min_top_up, Money) or not isinstance(self.bonus, Money):
            raise LoyaltyConfigError("top-up bonus tiers are Money")
        if self.min_top_up.currency != self.bonus.currency:
            raise CurrencyMismatchError("a top-up tier mixes currencies")
        if self.min_top_up.minor <= 0 or self.bonus.minor < 0:
            raise LoyaltyConfigError("a top-up tier needs a positive threshold and a non-negative bonus")


@dataclass(frozen=True, slots=True)
class StoredValueRules:
    """Stored value (prepaid balance): bonus tiers, minimum top-up and maximum balance."""

    currency: str
    bonus_tiers: tuple[TopUpBonus, ...] = ()
    min_top_up: Money | None = None  # default: one minor unit
    max_balance: Money | None = None  # None = no maximum

    def __post_init__(self) -> None:
        Money.zero(self.currency)  # validates the currency
        if isinstance(self.bonus_tiers, list):
            object.__setattr__(self, "bonus_tiers", tuple(self.bonus_tiers))
        for tier in self.bonus_tiers:
            if not isinstance(tier, TopUpBonus):
                raise LoyaltyConfigError("bonus tiers must be TopUpBonus")
            _check_money(tier.min_top_up, self.currency, "bonus tier threshold")
        thresholds = [t.min_top_up.minor for t in self.bonus_tiers]
        if len(set(thresholds)) != len(thresholds):
            raise LoyaltyConfigError("two bonus tiers share a threshold")
        object.__setattr__(
            self, "bonus_tiers", tuple(sorted(self.bonus_tiers, key=lambda t: t.min_top_up.minor))
        )
        if self.min_top_up is None:
            object.__setattr__(self, "min_top_up", Money(1, self.currency))
        minimum = _check_money(self.min_top_up, self.currency, "min_top_up")
        if minimum.minor <= 0:
            raise LoyaltyConfigError("min_top_up must be positive")
        if self.max_balance is not None:
            cap = _check_money(self.max_balance, self.currency, "max_balance")
            if cap.minor < minimum.minor:
                raise LoyaltyConfigError("max_balance is below min_top_up")

    def bonus_for(self, amount: Money) -> Money:
        """The bonus of the highest tier ``amount`` reaches (zero below every tier)."""
        amount = _check_money(amount, self.currency, "top-up amount")
        bonus = Money.zero(self.currency)
        for tier in self.bonus_tiers:
            if amount.minor >= tier.min_top_up.minor:
                bonus = tier.bonus
        return bonus


class MovementKind(str, Enum):
    TOP_UP = "top_up"
    SPEND = "spend"
    REFUND = "refund"


@dataclass(frozen=True, slots=True)
class StoredValueMovement:
    """One change to a stored-value balance; ``amount`` is paid, spent or refunded (positive)."""

    kind: MovementKind
    amount: Money
    bonus: Money
    balance_before: Money
    balance_after: Money

    @property
    def delta(self) -> Money:
        """The signed change to the balance."""
        return self.balance_after - self.balance_before


def _check_balance(balance: Money, currency: str | None = None) -> Money:
    if not isinstance(balance, Money):
        raise LoyaltyError(f"a stored-value balance is Money, not {type(balance).__name__}")
    if currency is not None and balance.currency != currency:
        raise CurrencyMismatchError(f"balance is in {balance.currency}, the rules use {currency}")
    if balance.minor < 0:
        raise NegativeSpendError(f"a stored-value balance is never negative: {balance.format()}")
    return balance


def _positive(amount: Money, balance: Money, what: str) -> Money:
    if not isinstance(amount, Money):
        raise LoyaltyError(f"{what} is Money, not {type(amount).__name__}")
    if amount.currency != balance.currency:
        raise CurrencyMismatchError(f"{what} is in {amount.currency}, the balance in {balance.currency}")
    if amount.minor <= 0:
        raise NegativeSpendError(f"{what} must be positive, not {amount.format()}")
    return amount


def top_up(rules: StoredValueRules, balance: Money, amount: Money) -> StoredValueMovement:
    """Credit ``amount`` plus its tier bonus; refuses below the minimum or above the maximum."""
    bal = _check_balance(balance, rules.currency)
    paid = _positive(amount, bal, "top-up amount")
    minimum = rules.min_top_up if rules.min_top_up is not None else Money(1, rules.currency)
    if paid < minimum:
        raise TopUpTooSmallError(f"the smallest top-up is {minimum.format()}; got {paid.format()}")
    bonus = rules.bonus_for(paid)
    after = bal + paid + bonus
    if rules.max_balance is not None and after > rules.max_balance:
        room = rules.max_balance - bal
        raise BalanceLimitError(
            f"a top-up of {paid.format()} (+{bonus.format()} bonus) would take the balance to "
            f"{after.format()}, above the maximum {rules.max_balance.format()}; room left {room.format()}"
        )
    return StoredValueMovement(MovementKind.TOP_UP, paid, bonus, bal, after)


def spend_stored_value(balance: Money, amount: Money) -> StoredValueMovement:
    """Pay ``amount`` from the balance; refuses an overdraft."""
    bal = _check_balance(balance)
    spent = _positive(amount, bal, "stored-value spend")
    if spent > bal:
        raise InsufficientBalanceError(f"stored-value balance {bal.format()} does not cover {spent.format()}")
    return StoredValueMovement(MovementKind.SPEND, spent, Money.zero(bal.currency), bal, bal - spent)


def refund_stored_value(
    balance: Money, amount: Money, spent_on_sale: Money, previously_refunded: Money | None = None
) -> StoredValueMovement:
    """Restore ``amount`` of what a sale took from stored value.

    Refuses more than the sale took (less earlier refunds). The maximum balance does not apply:
    a refund gives back money that was already the member's.
    """
    bal = _check_balance(balance)
    back = _positive(amount, bal, "stored-value refund")
    spent = _check_balance(spent_on_sale, bal.currency)
    before = _check_balance(previously_refunded or Money.zero(bal.currency), bal.currency)
    if before + back > spent:
        raise RefundExceedsSaleError(
            f"refunding {back.format()} after {before.format()} exceeds the {spent.format()} the sale took"
        )
    return StoredValueMovement(MovementKind.REFUND, back, Money.zero(bal.currency), bal, bal + back)


# -- birthday coupon ---------------------------------------------------------------------------
MAX_BIRTHDAY_WINDOW_SIDE = 180  # days; keeps a window shorter than a year, so one birthday at a time


@dataclass(frozen=True, slots=True)
class BirthdayCouponRule:
    """A coupon offered from ``days_before`` to ``days_after`` a member's birthday, once a year.

    Worth ``value`` off or ``percent`` off (exactly one). ``min_level``, when set, is the lowest
    level that gets it (levels compare by their rolling-spend threshold).
    """

    days_before: int = 0
    days_after: int = 0
    value: Money | None = None
    percent: Fraction | int | None = None
    min_level: Level | None = None

    def __post_init__(self) -> None:
        _check_int(self.days_before, "days_before", high=MAX_BIRTHDAY_WINDOW_SIDE)
        _check_int(self.days_after, "days_after", high=MAX_BIRTHDAY_WINDOW_SIDE)
        if (self.value is None) == (self.percent is None):
            raise LoyaltyConfigError("a birthday coupon has either a value or a percent, exactly one")
        if self.value is not None:
            if not isinstance(self.value, Money) or self.value.minor <= 0:
                raise LoyaltyConfigError("a birthday coupon value is positive Money")
        if self.percent is not None:
            p = self.percent
            if isinstance(p, bool) or not isinstance(p, (int, Fraction)) or not 0 < p <= 100:
                raise LoyaltyConfigError(f"a birthday coupon percent is an int or Fraction in (0, 100], not {p!r}")
        if self.min_level is not None and not isinstance(self.min_level, Level):
            raise LoyaltyConfigError("min_level is a Level or None")

    def discount_on(self, total: Money) -> Money:
        """What the coupon takes off ``total`` (never more than the total)."""
        if not isinstance(total, Money) or total.minor < 0:
            raise NegativeSpendError("a coupon applies to a non-negative total")
        if self.value is not None:
            off = self.value
            if off.currency != total.currency:
                raise CurrencyMismatchError(f"coupon in {off.currency}, total in {total.currency}")
            return off if off < total else total
        return total.percent(self.percent if self.percent is not None else 0)


def birthday_in_year(birthday: date, year: int) -> date:
    """The day ``birthday`` is celebrated in ``year``.

    A 29 February birthday falls on **28 February** in a common year: the member keeps a
    birthday in their own month, and a window of ``days_after == 0`` never misses it.
    """
    if birthday.month == 2 and birthday.day == 29:
        try:
            return date(year, 2, 29)
        except ValueError:
            return date(year, 2, 28)
    return date(year, birthday.month, birthday.day)


def birthday_coupon_year(rule: BirthdayCouponRule, birthday: date, today: date) -> int | None:
    """The year of the birthday whose coupon window contains ``today``, or ``None``.

    A window can cross the new year: a 2 January birthday with ``days_before=7`` opens on
    26 December of the year before, and that coupon counts as the new year's.
    """
    if birthday > today:
        raise LoyaltyError(f"a birthday ({birthday}) after today ({today}) is not a valid birthday")
    for year in (today.year - 1, today.year, today.year + 1):
        if year <= birthday.year:
            continue  # the day of birth itself is not a birthday
        day = birthday_in_year(birthday, year)
        if day - timedelta(days=rule.days_before) <= today <= day + timedelta(days=rule.days_after):
            return year
    return None


def birthday_coupon_due(
    rule: BirthdayCouponRule,
    birthday: date,
    today: date,
    level: Level,
    already_issued_years: set[int],
) -> bool:
    """Whether the member should get a birthday coupon today (one per birthday year)."""
    if not isinstance(level, Level):
        raise UnknownLevelError(f"level must be a Level, not {type(level).__name__}")
    if rule.min_level is not None:
        if level.min_rolling_spend.currency != rule.min_level.min_rolling_spend.currency:
            raise CurrencyMismatchError("the member's level and the rule's min_level use different currencies")
        if level.min_rolling_spend < rule.min_level.min_rolling_spend:
            return False
    year = birthday_coupon_year(rule, birthday, today)
    return year is not None and year not in already_issued_years
