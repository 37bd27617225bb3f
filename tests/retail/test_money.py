"""Behaviour of retail.money as it stands: construction, arithmetic, formatting, cash, allocation.

"""

from __future__ import annotations

import re
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retail.errors import (
    CurrencyMismatchError,
    InsufficientTenderError,
    MoneyError,
    RetailError,
    UnknownCurrencyError,
)
from retail.money import (
    CURRENCIES,
    CashRounding,
    Money,
    change_breakdown,
    change_due,
    sum_money,
)

NBSP = "\u00a0"


def cny(text: str) -> Money:
    return Money.of(text, "CNY")


def eur(text: str) -> Money:
    return Money.of(text, "EUR")


# -- construction ------------------------------------------------------------------------------
class TestConstruction:
    def test_of_reads_major_units_exactly(self) -> None:
        assert cny("12.50") == Money(1250, "CNY")
        assert Money.of(Decimal("0.01"), "EUR").minor == 1
        assert Money.of(7, "CNY").minor == 700
        assert Money.of("-3.2", "CNY").minor == -320

    def test_of_refuses_float(self) -> None:
        with pytest.raises(MoneyError, match="float"):
            Money.of(12.5, "CNY")  # type: ignore[arg-type]

    def test_constructor_refuses_float_minor_units(self) -> None:
        with pytest.raises(MoneyError):
            Money(12.0, "CNY")  # type: ignore[arg-type]

    def test_constructor_refuses_bool(self) -> None:
        with pytest.raises(MoneyError):
            Money(True, "CNY")  # type: ignore[arg-type]

    def test_of_refuses_bool(self) -> None:
        with pytest.raises(MoneyError):
            Money.of(True, "CNY")  # type: ignore[arg-type]

    def test_of_refuses_more_decimals_than_the_currency_has(self) -> None:
        with pytest.raises(MoneyError, match="decimals"):
            cny("12.505")
        with pytest.raises(MoneyError, match="decimals"):
            Money.of("100.5", "JPY")

    def test_of_accepts_trailing_zero_decimals(self) -> None:
        assert cny("12.500").minor == 1250
        assert Money.of("100.00", "JPY").minor == 100

    @pytest.mark.parametrize("text", ["abc", "", "1,50", "NaN", "Infinity", "-Infinity"])
    def test_of_refuses_what_is_not_a_finite_amount(self, text: str) -> None:
        with pytest.raises(MoneyError):
            cny(text)

    def test_of_refuses_other_types(self) -> None:
        with pytest.raises(MoneyError):
            Money.of(None, "CNY")  # type: ignore[arg-type]
        with pytest.raises(MoneyError):
            Money.of(Fraction(1, 2), "CNY")  # type: ignore[arg-type]

    def test_of_never_silently_changes_a_long_amount(self) -> None:
        text = "1234567890123456789012345678901"
        assert Money.of(text, "JPY").minor == int(text)

    @pytest.mark.parametrize("code", ["XXX", "cny", "", "RMB"])
    def test_unknown_currency_is_refused(self, code: str) -> None:
        with pytest.raises(UnknownCurrencyError):
            Money(100, code)
        with pytest.raises(UnknownCurrencyError):
            Money.of("1", code)

    def test_errors_are_retail_errors_and_value_errors(self) -> None:
        with pytest.raises(RetailError):
            Money(1, "XXX")
        with pytest.raises(ValueError):
            Money(1, "XXX")

    def test_zero_and_is_zero(self) -> None:
        assert Money.zero("EUR").is_zero()
        assert not Money(1, "EUR").is_zero()

    def test_amount_is_exact_decimal_in_major_units(self) -> None:
        assert cny("12.50").amount == Decimal("12.50")
        assert Money(123, "JPY").amount == Decimal("123")
        assert str(cny("0.05")) == "0.05 CNY"

    def test_money_is_immutable_and_hashable(self) -> None:
        m = cny("1.00")
        with pytest.raises(AttributeError):
            m.minor = 5  # type: ignore[misc]
        assert len({cny("1.00"), Money(100, "CNY"), Money(100, "EUR")}) == 2


# -- arithmetic --------------------------------------------------------------------------------
class TestArithmetic:
    def test_add_sub_neg_abs(self) -> None:
        assert cny("1.20") + cny("0.85") == cny("2.05")
        assert cny("1.20") - cny("2.00") == cny("-0.80")
        assert -cny("3.00") == cny("-3.00")
        assert abs(cny("-3.00")) == cny("3.00")

    def test_integer_multiplication_both_sides(self) -> None:
        assert cny("1.25") * 3 == cny("3.75")
        assert 3 * cny("1.25") == cny("3.75")

    def test_operator_multiplication_refuses_non_integers(self) -> None:
        with pytest.raises(MoneyError):
            cny("1.00") * Fraction(1, 2)  # type: ignore[operator]
        with pytest.raises(MoneyError):
            cny("1.00") * True
        with pytest.raises(MoneyError):
            cny("1.00") * 1.5  # type: ignore[operator]

    @pytest.mark.parametrize(
        "op",
        [
            lambda a, b: a + b,
            lambda a, b: a - b,
            lambda a, b: a < b,
            lambda a, b: a <= b,
            lambda a, b: a > b,
            lambda a, b: a >= b,
        ],
        ids=["add", "sub", "lt", "le", "gt", "ge"],
    )
    def test_mixed_currencies_are_refused(self, op) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(CurrencyMismatchError):
            op(cny("1.00"), eur("1.00"))

    def test_currency_mismatch_is_also_a_type_error(self) -> None:
        with pytest.raises(TypeError):
            cny("1.00") + eur("1.00")

    def test_money_does_not_combine_with_plain_numbers(self) -> None:
        with pytest.raises(MoneyError):
            cny("1.00") + 1  # type: ignore[operator]

    def test_equality_includes_currency(self) -> None:
        assert Money(100, "CNY") != Money(100, "EUR")
        assert Money(100, "CNY") == cny("1")

    def test_comparisons(self) -> None:
        assert cny("1.00") < cny("1.01")
        assert cny("1.01") >= cny("1.01")
        assert max([cny("2"), cny("10"), cny("3")]) == cny("10")

    def test_sum_money_adds_and_empty_is_zero(self) -> None:
        assert sum_money([cny("1.10"), cny("2.20")], "CNY") == cny("3.30")
        assert sum_money([], "EUR") == Money.zero("EUR")
        with pytest.raises(CurrencyMismatchError):
            sum_money([cny("1"), eur("1")], "CNY")


# -- multiply / percent ------------------------------------------------------------------------
class TestMultiply:
    def test_multiply_by_fraction_weight(self) -> None:
        # ¥12.99/kg × 0.347 kg = ¥4.50753 → ¥4.51
        assert cny("12.99").multiply(Fraction(347, 1000)) == cny("4.51")

    def test_multiply_by_decimal(self) -> None:
        assert cny("10.00").multiply(Decimal("0.333")) == cny("3.33")

    def test_half_up_rounds_halves_away_from_zero(self) -> None:
        assert Money(5, "CNY").multiply(Fraction(1, 2)) == Money(3, "CNY")
        assert Money(-5, "CNY").multiply(Fraction(1, 2)) == Money(-3, "CNY")
        assert Money(5, "CNY").multiply(Fraction(1, 2), ROUND_HALF_UP) == Money(3, "CNY")

    def test_half_even_rounds_halves_to_even(self) -> None:
        assert Money(5, "CNY").multiply(Fraction(1, 2), ROUND_HALF_EVEN) == Money(2, "CNY")
        assert Money(7, "CNY").multiply(Fraction(1, 2), ROUND_HALF_EVEN) == Money(4, "CNY")
        assert Money(-5, "CNY").multiply(Fraction(1, 2), ROUND_HALF_EVEN) == Money(-2, "CNY")

    def test_non_halves_round_to_nearest_in_both_modes(self) -> None:
        for mode in (ROUND_HALF_UP, ROUND_HALF_EVEN):
            assert Money(10, "CNY").multiply(Fraction(1, 3), mode) == Money(3, "CNY")
            assert Money(20, "CNY").multiply(Fraction(1, 3), mode) == Money(7, "CNY")

    def test_product_is_exact_before_rounding(self) -> None:
        # 0.1 as a Decimal is exact; as a float it would not be
        assert Money(25, "CNY").multiply(Decimal("0.1")) == Money(3, "CNY")  # 2.5 → 3
        assert Money(25, "CNY").multiply(Decimal("0.1"), ROUND_HALF_EVEN) == Money(2, "CNY")

    def test_multiply_refuses_float_and_bool(self) -> None:
        with pytest.raises(MoneyError, match="float"):
            cny("1").multiply(0.5)  # type: ignore[arg-type]
        with pytest.raises(MoneyError):
            cny("1").multiply(True)

    def test_unsupported_rounding_mode_is_refused(self) -> None:
        with pytest.raises(MoneyError, match="rounding"):
            cny("1").multiply(Fraction(1, 3), ROUND_DOWN)

    @pytest.mark.parametrize("factor", [Decimal("NaN"), Decimal("Infinity")])
    def test_multiply_refuses_non_finite_decimal_with_a_money_error(self, factor: Decimal) -> None:
        with pytest.raises(MoneyError):
            cny("1").multiply(factor)

    def test_percent(self) -> None:
        assert cny("200.00").percent(15) == cny("30.00")
        assert cny("19.99").percent(Decimal("12.5")) == cny("2.50")  # 2.49875 → 2.50
        assert cny("0.25").percent(10) == cny("0.03")  # 2.5 fen → 3
        assert cny("0.25").percent(10, ROUND_HALF_EVEN) == cny("0.02")
        assert cny("9.99").percent(Fraction(100, 3)) == cny("3.33")


# -- formatting --------------------------------------------------------------------------------
class TestFormat:
    @pytest.mark.parametrize("locale", ["zh_CN", "en", "zh", "en_US"])
    def test_cny_is_yuan_sign_before_with_point(self, locale: str) -> None:
        assert cny("12.50").format(locale) == "¥12.50"

    def test_default_locale_is_english(self) -> None:
        assert cny("12.50").format() == "¥12.50"

    def test_german_puts_euro_after_with_comma_and_dot_grouping(self) -> None:
        assert eur("1234.50").format("de_DE") == f"1.234,50{NBSP}€"

    def test_dutch_puts_euro_before_with_a_space(self) -> None:
        assert eur("12.50").format("nl_NL") == f"€{NBSP}12,50"
        assert eur("1234567.89").format("nl_NL") == f"€{NBSP}1.234.567,89"

    def test_negative_amounts_carry_a_leading_minus(self) -> None:
        assert cny("-12.50").format("zh_CN") == "-¥12.50"
        assert eur("-1234.50").format("de_DE") == f"-1.234,50{NBSP}€"

    def test_dutch_negative_puts_minus_after_the_symbol(self) -> None:
        assert eur("-1234.50").format("nl_NL") == f"€{NBSP}-1.234,50"

    def test_jpy_has_no_decimals(self) -> None:
        assert Money(1234, "JPY").format("en") == "¥1,234"
        assert Money(0, "JPY").format("en") == "¥0"
        assert Money(7, "JPY").format("en") == "¥7"

    def test_grouping_in_threes(self) -> None:
        assert cny("1234567.89").format("en") == "¥1,234,567.89"
        assert cny("999.99").format("en") == "¥999.99"
        assert cny("1000").format("en") == "¥1,000.00"
        assert cny("100000").format("en") == "¥100,000.00"

    def test_small_amounts_keep_leading_zeros(self) -> None:
        assert cny("0.05").format() == "¥0.05"
        assert cny("-0.05").format() == "-¥0.05"
        assert Money.zero("CNY").format() == "¥0.00"

    def test_without_symbol(self) -> None:
        assert eur("1234.50").format("de_DE", symbol=False) == "1.234,50"
        assert cny("-3.20").format("zh_CN", symbol=False) == "-3.20"

    def test_french_groups_with_a_narrow_space(self) -> None:
        assert eur("1234.50").format("fr_FR") == f"1\u202f234,50{NBSP}€"

    def test_locale_falls_back_to_its_language(self) -> None:
        assert cny("12.50").format("zh_TW") == "¥12.50"
        assert Money.of("1234.5", "USD").format("en_AU") == "$1,234.50"

    def test_unknown_locale_is_refused(self) -> None:
        with pytest.raises(MoneyError, match="locale"):
            cny("1").format("xx_YY")

    def test_multi_letter_symbols(self) -> None:
        assert Money.of("10", "HKD").format("en") == "HK$10.00"


# -- cash rounding, change -----------------------------------------------------------------------
class TestCash:
    def test_no_rounding_leaves_the_amount(self) -> None:
        assert cny("12.33").round_cash(CashRounding.NONE) == cny("12.33")

    @pytest.mark.parametrize(
        ("amount", "expected"),
        [("12.32", "12.30"), ("12.33", "12.35"), ("12.37", "12.35"), ("12.38", "12.40"), ("12.30", "12.30")],
    )
    def test_nearest_five_cents(self, amount: str, expected: str) -> None:
        assert cny(amount).round_cash(CashRounding.NEAREST_0_05) == cny(expected)

    def test_nearest_five_cents_from_the_smallest_amounts(self) -> None:
        # a 5-fen step has no exact half in whole fen: 3 fen is past it, 2 fen short of it
        assert Money(3, "CNY").round_cash(CashRounding.NEAREST_0_05) == Money(5, "CNY")
        assert Money(2, "CNY").round_cash(CashRounding.NEAREST_0_05) == Money(0, "CNY")

    def test_nearest_ten_cents_halves_go_up(self) -> None:
        assert cny("12.35").round_cash(CashRounding.NEAREST_0_10) == cny("12.40")
        assert cny("12.34").round_cash(CashRounding.NEAREST_0_10) == cny("12.30")
        assert cny("12.36").round_cash(CashRounding.NEAREST_0_10) == cny("12.40")

    def test_negative_amounts_round_symmetrically_away_from_zero_at_halves(self) -> None:
        assert cny("-12.35").round_cash(CashRounding.NEAREST_0_10) == cny("-12.40")
        assert cny("-12.34").round_cash(CashRounding.NEAREST_0_10) == cny("-12.30")
        assert cny("-12.33").round_cash(CashRounding.NEAREST_0_05) == cny("-12.35")

    def test_parse_cash_rounding(self) -> None:
        assert CashRounding.parse("none") is CashRounding.NONE
        assert CashRounding.parse(" 0.05 ") is CashRounding.NEAREST_0_05
        assert CashRounding.parse("0.1") is CashRounding.NEAREST_0_10
        assert CashRounding.parse("0.10") is CashRounding.NEAREST_0_10
        with pytest.raises(MoneyError):
            CashRounding.parse("0.20")

    def test_change_due_exact_and_over(self) -> None:
        assert change_due(cny("37.40"), cny("50.00")) == cny("12.60")
        assert change_due(cny("37.40"), cny("37.40")) == Money.zero("CNY")

    def test_change_due_uses_the_cash_rounded_amount(self) -> None:
        assert change_due(eur("9.97"), eur("10.00"), CashRounding.NEAREST_0_05) == eur("0.05")
        assert change_due(eur("9.98"), eur("10.00"), CashRounding.NEAREST_0_05) == eur("0.00")

    def test_rounded_down_due_accepts_less_than_the_exact_total(self) -> None:
        assert change_due(eur("10.02"), eur("10.00"), CashRounding.NEAREST_0_05) == eur("0.00")

    def test_insufficient_tender_is_refused(self) -> None:
        with pytest.raises(InsufficientTenderError, match="does not cover"):
            change_due(cny("37.40"), cny("37.39"))
        with pytest.raises(MoneyError):
            change_due(eur("10.03"), eur("10.00"), CashRounding.NEAREST_0_05)

    def test_change_due_refuses_mixed_currencies(self) -> None:
        with pytest.raises(CurrencyMismatchError):
            change_due(cny("1"), eur("5"))

    def test_change_breakdown_fewest_pieces(self) -> None:
        notes = [10000, 5000, 2000, 1000, 500, 100, 50, 10]
        assert change_breakdown(cny("187.60"), notes) == {10000: 1, 5000: 1, 2000: 1, 1000: 1, 500: 1, 100: 2, 50: 1, 10: 1}
        assert change_breakdown(Money.zero("CNY"), notes) == {}

    def test_change_breakdown_ignores_duplicate_and_unsorted_denominations(self) -> None:
        assert change_breakdown(cny("0.70"), [10, 50, 10]) == {50: 1, 10: 2}

    def test_change_breakdown_refuses_what_cannot_be_paid(self) -> None:
        with pytest.raises(MoneyError, match="cannot be paid"):
            change_breakdown(cny("0.03"), [10, 50])

    def test_change_breakdown_refuses_negative_change_and_bad_denominations(self) -> None:
        with pytest.raises(MoneyError):
            change_breakdown(cny("-1"), [100])
        with pytest.raises(MoneyError):
            change_breakdown(cny("1"), [100, 0])


# -- allocate ----------------------------------------------------------------------------------
class TestAllocate:
    def test_equal_split_gives_remainder_to_the_earliest_parts(self) -> None:
        assert cny("0.10").allocate([1, 1, 1]) == [Money(4, "CNY"), Money(3, "CNY"), Money(3, "CNY")]

    def test_weighted_split_adds_up(self) -> None:
        parts = cny("100.00").allocate([1, 2, 3])
        assert parts == [Money(1667, "CNY"), Money(3333, "CNY"), Money(5000, "CNY")]
        assert sum_money(parts, "CNY") == cny("100.00")

    def test_largest_remainder_wins(self) -> None:
        # 10 × (1/6, 5/6) = 1.67, 8.33 → 2, 8
        assert Money(10, "CNY").allocate([1, 5]) == [Money(2, "CNY"), Money(8, "CNY")]

    def test_zero_weight_part_gets_nothing(self) -> None:
        assert Money(7, "CNY").allocate([0, 1, 1]) == [Money(0, "CNY"), Money(4, "CNY"), Money(3, "CNY")]

    def test_negative_amounts_mirror_positive(self) -> None:
        assert Money(-10, "CNY").allocate([1, 1, 1]) == [Money(-4, "CNY"), Money(-3, "CNY"), Money(-3, "CNY")]

    def test_allocation_is_deterministic(self) -> None:
        weights = [3, 7, 7, 3, 1]
        first = cny("99.99").allocate(weights)
        assert all(cny("99.99").allocate(weights) == first for _ in range(5))

    @pytest.mark.parametrize("weights", [[], [0, 0], [1, -1], [1, True], [1.5]])
    def test_bad_weights_are_refused(self, weights: list) -> None:  # type: ignore[type-arg]
        with pytest.raises(MoneyError):
            cny("1").allocate(weights)


# -- properties --------------------------------------------------------------------------------
currencies = st.sampled_from(sorted(CURRENCIES))
minor_units = st.integers(min_value=-(10**12), max_value=10**12)


@st.composite
def money(draw: st.DrawFn, currency: str | None = None) -> Money:
    return Money(draw(minor_units), currency or draw(currencies))


@given(amount=minor_units, weights=st.lists(st.integers(0, 1000), min_size=1, max_size=12).filter(any))
def test_property_allocate_always_sums_to_the_whole(amount: int, weights: list[int]) -> None:
    parts = Money(amount, "CNY").allocate(weights)
    assert len(parts) == len(weights)
    assert sum(p.minor for p in parts) == amount


@given(amount=minor_units, n=st.integers(1, 50))
def test_property_equal_weights_differ_by_at_most_one_unit(amount: int, n: int) -> None:
    minors = [p.minor for p in Money(amount, "EUR").allocate([1] * n)]
    assert max(minors) - min(minors) <= 1
    assert sum(minors) == amount


@given(amount=minor_units, weights=st.lists(st.integers(0, 50), min_size=1, max_size=8).filter(any))
def test_property_each_part_is_within_one_unit_of_its_exact_share(amount: int, weights: list[int]) -> None:
    total = sum(weights)
    for part, w in zip(Money(amount, "CNY").allocate(weights), weights):
        assert abs(Fraction(part.minor) - Fraction(amount * w, total)) < 1


@given(data=st.data(), currency=currencies)
def test_property_add_then_subtract_is_identity(data: st.DataObject, currency: str) -> None:
    a = data.draw(money(currency))
    b = data.draw(money(currency))
    assert a + b - b == a
    assert a - b + b == a
    assert a + b == b + a


@given(m=money("CNY"), rounding=st.sampled_from(list(CashRounding)))
def test_property_cash_rounding_is_idempotent_and_within_half_a_step(m: Money, rounding: CashRounding) -> None:
    once = m.round_cash(rounding)
    assert once.round_cash(rounding) == once
    assert once.minor % rounding.step == 0
    assert 2 * abs(once.minor - m.minor) <= rounding.step


@given(m=money("CNY"), rounding=st.sampled_from(list(CashRounding)))
def test_property_cash_rounding_is_symmetric_about_zero(m: Money, rounding: CashRounding) -> None:
    assert (-m).round_cash(rounding) == -(m.round_cash(rounding))


@given(
    m=money(),
    locale=st.sampled_from(["en", "zh_CN", "de_DE", "nl_NL", "fr_FR", "sv_SE", "it_IT", "en_GB"]),
    symbol=st.booleans(),
)
def test_property_format_never_loses_digits(m: Money, locale: str, symbol: bool) -> None:
    text = m.format(locale, symbol=symbol)
    digits = re.sub(r"\D", "", text)
    assert int(digits) == abs(m.minor)
    assert ("-" in text) == (m.minor < 0)
    if m.exponent:
        # exactly `exponent` digits after the locale's decimal mark
        decimal_mark = "," if locale not in ("en", "zh_CN", "en_GB") else "."
        number = text.replace(CURRENCIES[m.currency].symbol, "").strip("-" + NBSP)
        assert re.fullmatch(rf".*\{decimal_mark}\d{{{m.exponent}}}", number)


@given(m=money("EUR"))
def test_property_of_round_trips_the_exact_amount(m: Money) -> None:
    assert Money.of(m.amount, "EUR") == m
    assert Money.of(str(m.amount), "EUR") == m


@given(m=money("CNY"), pct=st.integers(0, 100))
def test_property_percent_is_within_half_a_unit_of_exact(m: Money, pct: int) -> None:
    exact = Fraction(m.minor * pct, 100)
    for mode in (ROUND_HALF_UP, ROUND_HALF_EVEN):
        assert 2 * abs(m.percent(pct, mode).minor - exact) <= 1
