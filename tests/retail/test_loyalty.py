"""Loyalty rules: earning, levels, rolling spend, points as payment, expiry, stored value,
birthday coupons and points reversal on refunds."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from retail.errors import CurrencyMismatchError, LoyaltyError, RetailError
from retail.loyalty import (
    BalanceLimitError,
    BirthdayCouponRule,
    ExpiryKind,
    InsufficientBalanceError,
    InsufficientPointsError,
    InvalidPointsError,
    Level,
    LoyaltyConfigError,
    LoyaltyProgram,
    NegativeSpendError,
    PointsExpiry,
    PointsRedemption,
    RedemptionLimitError,
    RedemptionUnitError,
    RefundExceedsSaleError,
    StoredValueRules,
    TopUpBonus,
    TopUpTooSmallError,
    UnknownLevelError,
    birthday_coupon_due,
    birthday_coupon_year,
    birthday_in_year,
    eligible_spend,
    expired_points,
    level_by_code,
    level_for,
    max_redeemable_points,
    points_earned,
    points_expire_on,
    points_to_reverse,
    points_value,
    redeem_points,
    refund_stored_value,
    rolling_spend,
    spend_stored_value,
    top_up,
)
from retail.money import Money


def cny(text: str | int) -> Money:
    return Money.of(text, "CNY")


UTC = timezone.utc
STANDARD = Level("standard", "Member", "普通会员", cny(0), Fraction(1))
SILVER = Level("silver", "Silver", "银卡会员", cny(2000), 12000)  # basis points: 1.2×
GOLD = Level("gold", "Gold", "金卡会员", cny(10000), Fraction(3, 2))
PROGRAM = LoyaltyProgram("CNY", (GOLD, STANDARD, SILVER))  # given out of order on purpose


# -- program configuration ---------------------------------------------------------------------
class TestProgramConfig:
    def test_levels_are_kept_in_threshold_order(self) -> None:
        assert [lv.code for lv in PROGRAM.levels] == ["standard", "silver", "gold"]
        assert PROGRAM.base_level is STANDARD

    def test_defaults_are_one_point_per_yuan_and_100_points_per_yuan(self) -> None:
        assert PROGRAM.earn_unit == cny(1)
        assert PROGRAM.redeem_unit_points == 100
        assert PROGRAM.redeem_unit_value == cny(1)
        assert PROGRAM.rolling_window == timedelta(days=365)
        assert PROGRAM.max_redeem_share_bp == 5000

    def test_level_multiplier_accepts_fraction_or_basis_points(self) -> None:
        assert SILVER.multiplier == Fraction(6, 5)
        assert GOLD.multiplier == Fraction(3, 2)

    def test_level_name_follows_language(self) -> None:
        assert GOLD.name("zh_CN") == "金卡会员"
        assert GOLD.name("en") == "Gold"

    def test_program_needs_a_base_level_at_zero(self) -> None:
        with pytest.raises(LoyaltyConfigError, match="zero"):
            LoyaltyProgram("CNY", (SILVER, GOLD))

    def test_program_needs_levels(self) -> None:
        with pytest.raises(LoyaltyConfigError):
            LoyaltyProgram("CNY", ())

    def test_level_codes_must_be_unique(self) -> None:
        twin = Level("silver", "Silver 2", "银卡2", cny(5000))
        with pytest.raises(LoyaltyConfigError, match="unique"):
            LoyaltyProgram("CNY", (STANDARD, SILVER, twin))

    def test_level_thresholds_must_differ(self) -> None:
        other = Level("other", "Other", "其他", cny(2000))
        with pytest.raises(LoyaltyConfigError, match="same"):
            LoyaltyProgram("CNY", (STANDARD, SILVER, other))

    def test_level_in_another_currency_is_refused(self) -> None:
        with pytest.raises(CurrencyMismatchError):
            LoyaltyProgram("EUR", (STANDARD,))

    @pytest.mark.parametrize("multiplier", [1.5, True, -1, Fraction(-1, 2)])
    def test_bad_multiplier_is_refused(self, multiplier: object) -> None:
        with pytest.raises(LoyaltyConfigError):
            Level("x", "X", "X", cny(0), multiplier)  # type: ignore[arg-type]

    def test_level_needs_both_names(self) -> None:
        with pytest.raises(LoyaltyConfigError, match="Chinese"):
            Level("x", "X", "", cny(0))

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"max_redeem_share_bp": 10001},
            {"max_redeem_share_bp": -1},
            {"redeem_unit_points": 0},
            {"points_per_unit": -1},
            {"min_redeem_points": 500, "max_redeem_points": 100},
            {"rolling_window": timedelta(0)},
            {"earn_unit": Money(0, "CNY")},
            {"redeem_unit_value": Money(0, "CNY")},
            {"redeem_unit_value": Money(100, "EUR")},
            {"expiry": "1y"},
        ],
    )
    def test_bad_program_settings_are_refused(self, kwargs: dict) -> None:  # type: ignore[type-arg]
        with pytest.raises((LoyaltyConfigError, CurrencyMismatchError)):
            LoyaltyProgram("CNY", (STANDARD,), **kwargs)

    def test_errors_share_the_retail_root_and_value_error(self) -> None:
        with pytest.raises(RetailError):
            LoyaltyProgram("CNY", ())
        with pytest.raises(ValueError):
            LoyaltyProgram("CNY", ())

    def test_simple_program_is_usable(self) -> None:
        simple = LoyaltyProgram.simple("CNY")
        assert level_for(simple, cny(10000)).code == "gold"


# -- levels ------------------------------------------------------------------------------------
class TestLevels:
    @pytest.mark.parametrize(
        ("spend", "code"),
        [("0", "standard"), ("1999.99", "standard"), ("2000", "silver"), ("9999.99", "silver"), ("10000", "gold"), ("1000000", "gold")],
    )
    def test_level_for_picks_the_highest_level_reached(self, spend: str, code: str) -> None:
        assert level_for(PROGRAM, cny(spend)).code == code

    def test_level_for_refuses_negative_spend(self) -> None:
        with pytest.raises(NegativeSpendError):
            level_for(PROGRAM, cny("-0.01"))

    def test_level_for_refuses_other_currency(self) -> None:
        with pytest.raises(CurrencyMismatchError):
            level_for(PROGRAM, Money.of("5000", "EUR"))

    def test_level_by_code_finds_and_refuses(self) -> None:
        assert level_by_code(PROGRAM, "gold") is GOLD
        with pytest.raises(UnknownLevelError, match="platinum"):
            level_by_code(PROGRAM, "platinum")

    def test_unknown_level_error_is_a_lookup_error(self) -> None:
        with pytest.raises(LookupError):
            level_by_code(PROGRAM, "platinum")


class TestRollingSpend:
    AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def test_sums_purchases_inside_the_window(self) -> None:
        purchases = [
            (self.AT - timedelta(days=10), cny("100")),
            (self.AT - timedelta(days=364), cny("50")),
            (self.AT - timedelta(days=366), cny("1000")),  # outside
        ]
        assert rolling_spend(purchases, self.AT, PROGRAM) == cny("150")

    def test_window_start_is_exclusive_and_end_inclusive(self) -> None:
        purchases = [(self.AT - timedelta(days=365), cny("7")), (self.AT, cny("3"))]
        assert rolling_spend(purchases, self.AT, PROGRAM) == cny("3")

    def test_future_purchases_are_ignored(self) -> None:
        assert rolling_spend([(self.AT + timedelta(seconds=1), cny("5"))], self.AT, PROGRAM) == cny(0)

    def test_refunds_subtract_but_never_below_zero(self) -> None:
        purchases = [(self.AT - timedelta(days=1), cny("100")), (self.AT, cny("-30"))]
        assert rolling_spend(purchases, self.AT, PROGRAM) == cny("70")
        assert rolling_spend([(self.AT, cny("-30"))], self.AT, PROGRAM) == cny(0)

    def test_window_length_follows_the_program(self) -> None:
        short = LoyaltyProgram("CNY", (STANDARD,), rolling_window=timedelta(days=30))
        purchases = [(self.AT - timedelta(days=31), cny("100")), (self.AT - timedelta(days=29), cny("1"))]
        assert rolling_spend(purchases, self.AT, short) == cny("1")

    def test_times_must_be_timezone_aware(self) -> None:
        with pytest.raises(LoyaltyError, match="timezone"):
            rolling_spend([], datetime(2026, 3, 1), PROGRAM)
        with pytest.raises(LoyaltyError, match="timezone"):
            rolling_spend([(datetime(2026, 2, 1), cny("1"))], self.AT, PROGRAM)

    def test_other_currency_purchase_is_refused(self) -> None:
        with pytest.raises(CurrencyMismatchError):
            rolling_spend([(self.AT, Money.of("1", "EUR"))], self.AT, PROGRAM)

    def test_rolling_spend_feeds_level_for(self) -> None:
        purchases = [(self.AT - timedelta(days=d), cny("500")) for d in range(1, 5)]
        assert level_for(PROGRAM, rolling_spend(purchases, self.AT, PROGRAM)) is SILVER


# -- earning -----------------------------------------------------------------------------------
class TestEarning:
    def test_one_point_per_yuan_rounded_down(self) -> None:
        assert points_earned(PROGRAM, STANDARD, cny("12.99")) == 12
        assert points_earned(PROGRAM, STANDARD, cny("0.99")) == 0
        assert points_earned(PROGRAM, STANDARD, cny(0)) == 0

    def test_level_multiplier_is_applied_exactly(self) -> None:
        assert points_earned(PROGRAM, SILVER, cny("100")) == 120
        assert points_earned(PROGRAM, GOLD, cny("99.99")) == 149  # 149.985 → 149
        assert points_earned(PROGRAM, GOLD, cny("10")) == 15

    def test_multiplier_is_applied_to_the_spend_not_to_rounded_points(self) -> None:
        # 1.5 × ¥1.50 = 2.25 points → 2; rounding base points first would give floor(1 × 1.5) = 1
        assert points_earned(PROGRAM, GOLD, cny("1.50")) == 2

    def test_points_per_unit_and_earn_unit_are_configurable(self) -> None:
        program = LoyaltyProgram("CNY", (STANDARD,), points_per_unit=5, earn_unit=cny("10"))
        assert points_earned(program, STANDARD, cny("99.99")) == 49  # 5 per full ¥10, pro rata

    def test_negative_spend_is_refused(self) -> None:
        with pytest.raises(NegativeSpendError):
            points_earned(PROGRAM, STANDARD, cny("-1"))

    def test_unknown_level_is_refused(self) -> None:
        stranger = Level("vip", "VIP", "贵宾", cny(50000), Fraction(3))
        with pytest.raises(UnknownLevelError, match="vip"):
            points_earned(PROGRAM, stranger, cny("100"))

    def test_other_currency_spend_is_refused(self) -> None:
        with pytest.raises(CurrencyMismatchError):
            points_earned(PROGRAM, STANDARD, Money.of("10", "EUR"))

    def test_eligible_spend_excludes_points_and_stored_value_by_default(self) -> None:
        spend = eligible_spend(PROGRAM, cny("100"), paid_with_points=cny("20"), paid_with_stored_value=cny("30"))
        assert spend == cny("50")

    def test_eligible_spend_can_include_stored_value(self) -> None:
        program = LoyaltyProgram("CNY", (STANDARD,), earn_on_stored_value_payments=True)
        spend = eligible_spend(program, cny("100"), paid_with_points=cny("20"), paid_with_stored_value=cny("30"))
        assert spend == cny("80")

    def test_eligible_spend_can_include_points(self) -> None:
        program = LoyaltyProgram("CNY", (STANDARD,), earn_on_points_payments=True)
        assert eligible_spend(program, cny("100"), paid_with_points=cny("20")) == cny("100")

    def test_eligible_spend_refuses_tenders_above_the_total(self) -> None:
        with pytest.raises(LoyaltyError, match="exceed"):
            eligible_spend(PROGRAM, cny("10"), paid_with_points=cny("6"), paid_with_stored_value=cny("5"))

    def test_eligible_spend_refuses_negative_amounts(self) -> None:
        with pytest.raises(NegativeSpendError):
            eligible_spend(PROGRAM, cny("-10"))
        with pytest.raises(NegativeSpendError):
            eligible_spend(PROGRAM, cny("10"), paid_with_points=cny("-1"))


# -- points as payment -------------------------------------------------------------------------
class TestRedemption:
    def test_redeems_in_units_of_100_points_per_yuan(self) -> None:
        r = redeem_points(PROGRAM, balance=5000, requested=1200, due=cny("80"))
        assert r == PointsRedemption(1200, cny("12"))

    def test_refuses_more_than_the_balance(self) -> None:
        with pytest.raises(InsufficientPointsError, match="balance is 300"):
            redeem_points(PROGRAM, balance=300, requested=400, due=cny("100"))

    def test_refuses_points_that_are_not_a_whole_unit(self) -> None:
        with pytest.raises(RedemptionUnitError, match="multiples of 100"):
            redeem_points(PROGRAM, balance=5000, requested=150, due=cny("100"))

    def test_refuses_more_than_half_of_the_total(self) -> None:
        with pytest.raises(RedemptionLimitError, match="at most 2000 points"):
            redeem_points(PROGRAM, balance=99999, requested=2100, due=cny("40"))
        assert redeem_points(PROGRAM, balance=99999, requested=2000, due=cny("40")).value == cny("20")

    def test_cap_rounds_down_to_a_whole_unit(self) -> None:
        # half of ¥40.50 is ¥20.25 → at most ¥20 = 2000 points
        assert max_redeemable_points(PROGRAM, 99999, cny("40.50")) == 2000

    def test_cap_uses_the_sale_total_but_never_exceeds_what_is_due(self) -> None:
        # ¥100 sale, ¥70 already paid in cash; 50 % cap is ¥50 but only ¥30 is due
        assert max_redeemable_points(PROGRAM, 99999, cny("30"), sale_total=cny("100")) == 3000
        with pytest.raises(RedemptionLimitError):
            redeem_points(PROGRAM, 99999, 3100, cny("30"), sale_total=cny("100"))

    def test_minimum_and_fixed_maximum_per_sale(self) -> None:
        program = LoyaltyProgram("CNY", (STANDARD,), min_redeem_points=500, max_redeem_points=1000, max_redeem_share_bp=10000)
        with pytest.raises(RedemptionLimitError, match="at least 500"):
            redeem_points(program, 5000, 400, cny("100"))
        with pytest.raises(RedemptionLimitError, match="at most 1000"):
            redeem_points(program, 5000, 1100, cny("100"))
        assert redeem_points(program, 5000, 1000, cny("100")).value == cny("10")
        assert max_redeemable_points(program, 5000, cny("100")) == 1000
        assert max_redeemable_points(program, 499, cny("100")) == 0  # below the minimum

    def test_full_payment_in_points_when_the_cap_allows(self) -> None:
        program = LoyaltyProgram("CNY", (STANDARD,), max_redeem_share_bp=10000)
        assert redeem_points(program, 2000, 1500, cny("15")).value == cny("15")

    def test_max_redeemable_points_rounds_the_balance_down_to_units(self) -> None:
        assert max_redeemable_points(PROGRAM, 1299, cny("1000")) == 1200

    def test_zero_request_and_bad_numbers_are_refused(self) -> None:
        with pytest.raises(RedemptionLimitError):
            redeem_points(PROGRAM, 500, 0, cny("10"))
        with pytest.raises(InvalidPointsError):
            redeem_points(PROGRAM, 500, -100, cny("10"))
        with pytest.raises(InvalidPointsError):
            redeem_points(PROGRAM, 500, 100.0, cny("10"))  # type: ignore[arg-type]
        with pytest.raises(InvalidPointsError):
            redeem_points(PROGRAM, True, 100, cny("10"))  # type: ignore[arg-type]

    def test_invalid_points_error_is_a_type_error(self) -> None:
        with pytest.raises(TypeError):
            redeem_points(PROGRAM, 500, "100", cny("10"))  # type: ignore[arg-type]

    def test_negative_due_and_other_currency_are_refused(self) -> None:
        with pytest.raises(NegativeSpendError):
            redeem_points(PROGRAM, 500, 100, cny("-10"))
        with pytest.raises(CurrencyMismatchError):
            redeem_points(PROGRAM, 500, 100, Money.of("10", "EUR"))

    def test_points_value_needs_whole_units(self) -> None:
        assert points_value(PROGRAM, 2500) == cny("25")
        with pytest.raises(RedemptionUnitError):
            points_value(PROGRAM, 250)


# -- expiry ------------------------------------------------------------------------------------
class TestExpiry:
    YEAR_END = LoyaltyProgram("CNY", (STANDARD,), expiry=PointsExpiry(ExpiryKind.YEAR_END, 1))
    DAYS = LoyaltyProgram("CNY", (STANDARD,), expiry=PointsExpiry(ExpiryKind.AFTER_DAYS, 365))

    def test_year_end_expiry_lapses_after_31_december_of_the_next_year(self) -> None:
        assert points_expire_on(PointsExpiry(ExpiryKind.YEAR_END, 1), date(2025, 3, 5)) == date(2027, 1, 1)
        assert points_expire_on(PointsExpiry(ExpiryKind.YEAR_END, 0), date(2025, 12, 31)) == date(2026, 1, 1)

    def test_after_days_expiry(self) -> None:
        assert points_expire_on(PointsExpiry(ExpiryKind.AFTER_DAYS, 30), date(2025, 12, 15)) == date(2026, 1, 14)

    def test_expired_points_only_counts_lapsed_lots(self) -> None:
        lots = [(date(2024, 6, 1), 300), (date(2025, 6, 1), 200)]
        assert expired_points(self.YEAR_END, lots, consumed=0, today=date(2025, 12, 31)) == 0
        assert expired_points(self.YEAR_END, lots, consumed=0, today=date(2026, 1, 1)) == 300
        assert expired_points(self.YEAR_END, lots, consumed=0, today=date(2027, 1, 1)) == 500

    def test_spent_points_come_from_the_oldest_lot_first(self) -> None:
        lots = [(date(2025, 6, 1), 200), (date(2024, 6, 1), 300)]  # unordered on purpose
        assert expired_points(self.YEAR_END, lots, consumed=250, today=date(2026, 1, 1)) == 50
        assert expired_points(self.YEAR_END, lots, consumed=400, today=date(2027, 1, 1)) == 100

    def test_after_days_program(self) -> None:
        lots = [(date(2025, 1, 1), 100)]
        assert expired_points(self.DAYS, lots, 0, date(2025, 12, 31)) == 0
        assert expired_points(self.DAYS, lots, 0, date(2026, 1, 1)) == 100

    def test_no_expiry_rule_means_nothing_lapses(self) -> None:
        assert expired_points(PROGRAM, [(date(2000, 1, 1), 100)], 0, date(2026, 1, 1)) == 0

    def test_consuming_more_than_earned_is_refused(self) -> None:
        with pytest.raises(InsufficientPointsError):
            expired_points(self.YEAR_END, [(date(2024, 1, 1), 100)], 101, date(2026, 1, 1))

    def test_bad_expiry_settings_are_refused(self) -> None:
        with pytest.raises(LoyaltyConfigError):
            PointsExpiry(ExpiryKind.AFTER_DAYS, 0)
        with pytest.raises(LoyaltyConfigError):
            PointsExpiry("year_end", 1)  # type: ignore[arg-type]


# -- stored value ------------------------------------------------------------------------------
RULES = StoredValueRules(
    "CNY",
    bonus_tiers=(TopUpBonus(cny(1000), cny(150)), TopUpBonus(cny(500), cny(50))),
    min_top_up=cny(50),
    max_balance=cny(5000),
)


class TestStoredValue:
    def test_top_up_adds_the_highest_tier_bonus(self) -> None:
        m = top_up(RULES, cny(0), cny(500))
        assert (m.amount, m.bonus, m.balance_after) == (cny(500), cny(50), cny(550))
        assert top_up(RULES, cny(0), cny(999)).bonus == cny(50)
        assert top_up(RULES, cny(0), cny(1000)).bonus == cny(150)
        assert top_up(RULES, cny(0), cny(499)).bonus == cny(0)

    def test_movement_delta_is_amount_plus_bonus(self) -> None:
        m = top_up(RULES, cny(100), cny(1000))
        assert m.delta == cny(1150)
        assert m.balance_before == cny(100)
        assert m.kind.value == "top_up"

    def test_top_up_below_the_minimum_is_refused(self) -> None:
        with pytest.raises(TopUpTooSmallError, match="smallest top-up"):
            top_up(RULES, cny(0), cny("49.99"))

    def test_top_up_over_the_maximum_balance_is_refused_bonus_included(self) -> None:
        assert top_up(RULES, cny(3850), cny(1000)).balance_after == cny(5000)
        with pytest.raises(BalanceLimitError, match="room left"):
            top_up(RULES, cny(3851), cny(1000))

    def test_top_up_refuses_non_positive_and_other_currency(self) -> None:
        with pytest.raises(NegativeSpendError):
            top_up(RULES, cny(0), cny(0))
        with pytest.raises(CurrencyMismatchError):
            top_up(RULES, cny(0), Money.of(100, "EUR"))
        with pytest.raises(CurrencyMismatchError):
            top_up(RULES, Money.of(0, "EUR"), Money.of(100, "EUR"))

    def test_no_maximum_when_not_configured(self) -> None:
        open_rules = StoredValueRules("CNY")
        assert top_up(open_rules, cny(10**6), cny(10**6)).balance_after == cny(2 * 10**6)

    def test_spend_takes_from_the_balance(self) -> None:
        m = spend_stored_value(cny("100"), cny("37.50"))
        assert m.balance_after == cny("62.50")
        assert m.delta == cny("-37.50")

    def test_spend_can_empty_the_balance_but_never_overdraw(self) -> None:
        assert spend_stored_value(cny("10"), cny("10")).balance_after == cny(0)
        with pytest.raises(InsufficientBalanceError, match="does not cover"):
            spend_stored_value(cny("10"), cny("10.01"))

    def test_spend_refuses_non_positive_amounts_and_negative_balance(self) -> None:
        with pytest.raises(NegativeSpendError):
            spend_stored_value(cny("10"), cny("-1"))
        with pytest.raises(NegativeSpendError):
            spend_stored_value(cny("-10"), cny("1"))

    def test_refund_restores_what_the_sale_took(self) -> None:
        m = refund_stored_value(cny("5"), cny("20"), spent_on_sale=cny("30"))
        assert m.balance_after == cny("25")
        again = refund_stored_value(m.balance_after, cny("10"), spent_on_sale=cny("30"), previously_refunded=cny("20"))
        assert again.balance_after == cny("35")

    def test_refund_cannot_exceed_what_the_sale_took(self) -> None:
        with pytest.raises(RefundExceedsSaleError):
            refund_stored_value(cny("5"), cny("31"), spent_on_sale=cny("30"))
        with pytest.raises(RefundExceedsSaleError):
            refund_stored_value(cny("5"), cny("11"), spent_on_sale=cny("30"), previously_refunded=cny("20"))

    def test_spend_then_refund_restores_the_balance(self) -> None:
        spent = spend_stored_value(cny("100"), cny("42.10"))
        back = refund_stored_value(spent.balance_after, cny("42.10"), spent_on_sale=cny("42.10"))
        assert back.balance_after == cny("100")

    def test_bad_rules_are_refused(self) -> None:
        with pytest.raises(LoyaltyConfigError):
            StoredValueRules("CNY", min_top_up=cny(0))
        with pytest.raises(LoyaltyConfigError):
            StoredValueRules("CNY", min_top_up=cny(100), max_balance=cny(50))
        with pytest.raises(LoyaltyConfigError):
            StoredValueRules("CNY", bonus_tiers=(TopUpBonus(cny(100), cny(5)), TopUpBonus(cny(100), cny(9))))
        with pytest.raises(CurrencyMismatchError):
            StoredValueRules("CNY", bonus_tiers=(TopUpBonus(Money.of(100, "EUR"), Money.of(5, "EUR")),))
        with pytest.raises(LoyaltyConfigError):
            TopUpBonus(cny(0), cny(5))


# -- birthday coupon ---------------------------------------------------------------------------
WEEK = BirthdayCouponRule(days_before=7, days_after=7, value=cny(20))


class TestBirthdayCoupon:
    def test_due_inside_the_window_and_not_outside(self) -> None:
        bday = date(1990, 6, 15)
        assert birthday_coupon_due(WEEK, bday, date(2026, 6, 8), STANDARD, set())
        assert birthday_coupon_due(WEEK, bday, date(2026, 6, 22), STANDARD, set())
        assert not birthday_coupon_due(WEEK, bday, date(2026, 6, 7), STANDARD, set())
        assert not birthday_coupon_due(WEEK, bday, date(2026, 6, 23), STANDARD, set())

    def test_one_coupon_per_year(self) -> None:
        bday = date(1990, 6, 15)
        assert not birthday_coupon_due(WEEK, bday, date(2026, 6, 15), STANDARD, {2026})
        assert birthday_coupon_due(WEEK, bday, date(2027, 6, 15), STANDARD, {2026})

    def test_window_starting_in_december_counts_for_the_new_year(self) -> None:
        bday = date(1985, 1, 2)
        today = date(2025, 12, 28)
        assert birthday_coupon_year(WEEK, bday, today) == 2026
        assert birthday_coupon_due(WEEK, bday, today, STANDARD, {2025})
        assert not birthday_coupon_due(WEEK, bday, today, STANDARD, {2026})
        # and the same coupon is not offered again on the birthday itself
        assert not birthday_coupon_due(WEEK, bday, date(2026, 1, 2), STANDARD, {2026})

    def test_window_ending_in_january_counts_for_the_old_year(self) -> None:
        bday = date(1985, 12, 30)
        assert birthday_coupon_year(WEEK, bday, date(2026, 1, 5)) == 2025
        assert not birthday_coupon_due(WEEK, bday, date(2026, 1, 5), STANDARD, {2025})

    def test_29_february_is_28_february_in_common_years(self) -> None:
        leapling = date(2000, 2, 29)
        assert birthday_in_year(leapling, 2027) == date(2027, 2, 28)
        assert birthday_in_year(leapling, 2028) == date(2028, 2, 29)
        on_the_day = BirthdayCouponRule(value=cny(20))
        assert birthday_coupon_due(on_the_day, leapling, date(2027, 2, 28), STANDARD, set())
        assert not birthday_coupon_due(on_the_day, leapling, date(2027, 3, 1), STANDARD, set())
        assert birthday_coupon_due(on_the_day, leapling, date(2028, 2, 29), STANDARD, set())
        assert not birthday_coupon_due(on_the_day, leapling, date(2028, 2, 28), STANDARD, set())

    def test_min_level_restricts_the_coupon(self) -> None:
        rule = BirthdayCouponRule(days_before=3, days_after=3, percent=10, min_level=SILVER)
        bday, today = date(1990, 6, 15), date(2026, 6, 15)
        assert not birthday_coupon_due(rule, bday, today, STANDARD, set())
        assert birthday_coupon_due(rule, bday, today, SILVER, set())
        assert birthday_coupon_due(rule, bday, today, GOLD, set())

    def test_no_coupon_for_the_day_of_birth_or_a_future_birthday(self) -> None:
        assert birthday_coupon_year(WEEK, date(2026, 6, 15), date(2026, 6, 15)) is None
        with pytest.raises(LoyaltyError):
            birthday_coupon_due(WEEK, date(2026, 6, 16), date(2026, 6, 15), STANDARD, set())

    def test_coupon_discount_by_value_or_percent(self) -> None:
        assert WEEK.discount_on(cny("100")) == cny("20")
        assert WEEK.discount_on(cny("15")) == cny("15")  # never more than the total
        assert BirthdayCouponRule(percent=10).discount_on(cny("88.88")) == cny("8.89")

    @pytest.mark.parametrize(
        "kwargs",
        [
            {},  # neither value nor percent
            {"value": cny(5), "percent": 10},
            {"percent": 0},
            {"percent": 101},
            {"percent": 10.5},
            {"value": cny(0)},
            {"percent": 10, "days_before": -1},
            {"percent": 10, "days_after": 181},
        ],
    )
    def test_bad_coupon_rules_are_refused(self, kwargs: dict) -> None:  # type: ignore[type-arg]
        with pytest.raises(LoyaltyConfigError):
            BirthdayCouponRule(**kwargs)


# -- points reversal ---------------------------------------------------------------------------
class TestPointsReversal:
    def test_full_refund_reverses_every_point(self) -> None:
        assert points_to_reverse(150, cny("100"), cny("100")) == 150

    def test_partial_refund_is_proportional(self) -> None:
        assert points_to_reverse(150, cny("100"), cny("40")) == 60

    def test_member_keeps_the_rounded_down_share_of_what_was_kept(self) -> None:
        # 10 points on ¥10.99; refunding ¥10 keeps ¥0.99 → floor(10 × 0.99/10.99) = 0 points kept
        assert points_to_reverse(10, cny("10.99"), cny("10")) == 10
        # refunding ¥0.99 keeps ¥10 → floor(9.099) = 9 kept, 1 reversed
        assert points_to_reverse(10, cny("10.99"), cny("0.99")) == 1

    def test_partial_refunds_add_up_to_a_single_refund(self) -> None:
        sale, earned = cny("99.99"), 149
        first = points_to_reverse(earned, sale, cny("33.33"))
        second = points_to_reverse(earned, sale, cny("33.33"), previously_refunded=cny("33.33"))
        third = points_to_reverse(earned, sale, cny("33.33"), previously_refunded=cny("66.66"))
        assert first + second + third == earned
        assert first + second == points_to_reverse(earned, sale, cny("66.66"))

    def test_refund_beyond_the_sale_is_refused(self) -> None:
        with pytest.raises(RefundExceedsSaleError):
            points_to_reverse(100, cny("100"), cny("100.01"))
        with pytest.raises(RefundExceedsSaleError):
            points_to_reverse(100, cny("100"), cny("60"), previously_refunded=cny("50"))

    def test_bad_input_is_refused(self) -> None:
        with pytest.raises(NegativeSpendError):
            points_to_reverse(100, cny("100"), cny("-1"))
        with pytest.raises(InvalidPointsError):
            points_to_reverse(-1, cny("100"), cny("1"))
        with pytest.raises(CurrencyMismatchError):
            points_to_reverse(100, cny("100"), Money.of(1, "EUR"))

    def test_sale_with_no_eligible_spend_reverses_nothing(self) -> None:
        assert points_to_reverse(0, cny(0), cny(0)) == 0


# -- properties --------------------------------------------------------------------------------
spend_minor = st.integers(min_value=0, max_value=10**10)
levels = st.sampled_from(PROGRAM.levels)


@given(minor=spend_minor, level=levels)
def test_property_points_are_never_negative(minor: int, level: Level) -> None:
    assert points_earned(PROGRAM, level, Money(minor, "CNY")) >= 0


@given(a=spend_minor, b=spend_minor, level=levels)
def test_property_points_are_monotone_in_spend(a: int, b: int, level: Level) -> None:
    lo, hi = sorted((a, b))
    assert points_earned(PROGRAM, level, Money(lo, "CNY")) <= points_earned(PROGRAM, level, Money(hi, "CNY"))


@given(minor=spend_minor)
def test_property_higher_levels_never_earn_fewer_points(minor: int) -> None:
    earned = [points_earned(PROGRAM, lv, Money(minor, "CNY")) for lv in PROGRAM.levels]
    assert earned == sorted(earned)


@given(a=spend_minor, b=spend_minor)
def test_property_level_is_monotone_in_spend(a: int, b: int) -> None:
    lo, hi = sorted((a, b))
    rank = PROGRAM.levels.index
    assert rank(level_for(PROGRAM, Money(lo, "CNY"))) <= rank(level_for(PROGRAM, Money(hi, "CNY")))


@given(
    balance=st.integers(0, 10**7),
    due_minor=st.integers(0, 10**7),
    extra_total=st.integers(0, 10**7),
    share_bp=st.integers(0, 10000),
    data=st.data(),
)
def test_property_redemption_never_exceeds_due_or_balance(
    balance: int, due_minor: int, extra_total: int, share_bp: int, data: st.DataObject
) -> None:
    program = LoyaltyProgram("CNY", (STANDARD,), max_redeem_share_bp=share_bp)
    due = Money(due_minor, "CNY")
    total = Money(due_minor + extra_total, "CNY")
    best = max_redeemable_points(program, balance, due, sale_total=total)
    assert 0 <= best <= balance
    assume(best > 0)
    requested = data.draw(st.integers(1, best // 100)) * 100
    r = redeem_points(program, balance, requested, due, sale_total=total)
    assert r.points <= balance
    assert r.value <= due
    assert r.value.minor * 10000 <= total.minor * share_bp


@given(balance=st.integers(0, 10**6), due_minor=st.integers(0, 10**6), requested=st.integers(1, 10**6))
def test_property_redeem_accepts_exactly_what_max_redeemable_allows(balance: int, due_minor: int, requested: int) -> None:
    due = Money(due_minor, "CNY")
    best = max_redeemable_points(PROGRAM, balance, due)
    allowed = requested <= best and requested % 100 == 0
    try:
        redeem_points(PROGRAM, balance, requested, due)
    except LoyaltyError:
        assert not allowed
    else:
        assert allowed


@given(
    earned=st.integers(0, 10**6),
    sale_minor=st.integers(1, 10**7),
    cuts=st.lists(st.integers(0, 10**7), max_size=5),
)
def test_property_partial_reversals_never_exceed_earned_and_full_refund_takes_all(
    earned: int, sale_minor: int, cuts: list[int]
) -> None:
    sale = Money(sale_minor, "CNY")
    points = sorted({min(c, sale_minor) for c in cuts} | {0, sale_minor})
    reversed_total = 0
    for before, after in zip(points, points[1:]):
        step = points_to_reverse(earned, sale, Money(after - before, "CNY"), previously_refunded=Money(before, "CNY"))
        assert step >= 0
        reversed_total += step
        assert reversed_total <= earned
    assert reversed_total == earned


@given(bday=st.dates(date(1920, 1, 1), date(2010, 12, 31)), start=st.dates(date(2020, 1, 1), date(2030, 12, 31)))
def test_property_birthday_coupon_is_due_on_exactly_one_run_of_days_per_birthday_year(bday: date, start: date) -> None:
    issued: set[int] = set()
    issued_days = []
    day = start
    for _ in range(800):
        if birthday_coupon_due(WEEK, bday, day, STANDARD, issued):
            year = birthday_coupon_year(WEEK, bday, day)
            assert year is not None
            issued.add(year)
            issued_days.append(day)
        day += timedelta(days=1)
    # every coupon is issued within 7 days of that year's birthday, one per year
    years = [birthday_coupon_year(WEEK, bday, d) for d in issued_days]
    assert len(years) == len(set(years))
    for d, y in zip(issued_days, years):
        assert y is not None and abs((d - birthday_in_year(bday, y)).days) <= 7
    assert len(issued_days) >= 2  # 800 days always hold two full birthday windows
