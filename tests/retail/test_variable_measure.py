"""GS1 in-store variable-measure codes: verifier digits, layouts, rules, parse and make."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retail.barcodes import (
    DEFAULT_VARIABLE_MEASURE_RULES,
    InvalidLengthError,
    InvalidVerifierDigitError,
    Measure,
    NotVariableMeasureError,
    VariableMeasureCode,
    VariableMeasureLayout,
    VariableMeasureRules,
    gtin_check_digit,
    is_variable_measure,
    make_variable_measure,
    parse_scan,
    parse_variable_measure,
    price_verifier_digit,
)
from retail.errors import BarcodeError, InvalidCheckDigitError, UnknownPrefixLayoutError

PROPERTY = settings(derandomize=True, database=None, deadline=None, max_examples=150)
DIGITS = "0123456789"


# Weighted products written out from GS1 General Specifications 7.9.2 for an independent check.
def two_minus(d: int) -> int:
    p = 2 * d
    return (p % 10 - p // 10) % 10


def three(d: int) -> int:
    return (3 * d) % 10


def five_plus(d: int) -> int:
    p = 5 * d
    return (p % 10 + p // 10) % 10


def five_minus(d: int) -> int:
    p = 5 * d
    return (p % 10 - p // 10) % 10


def reference_verifier(value: str) -> int:
    d = [int(c) for c in value]
    if len(d) == 4:
        return (3 * (two_minus(d[0]) + two_minus(d[1]) + three(d[2]) + five_minus(d[3]))) % 10
    total = five_plus(d[0]) + two_minus(d[1]) + five_minus(d[2]) + five_plus(d[3]) + two_minus(d[4])
    target = (10 - total % 10) % 10
    return next(c for c in range(10) if five_minus(c) == target)


# -- verifier digits ------------------------------------------------------------------------------
def test_four_digit_price_verifier_matches_gs1_example() -> None:
    # GS1 GenSpecs 7.9.3 example: price 2875 -> products 4, 5, 1, 3; 13 x 3 = 39 -> 9.
    assert price_verifier_digit("2875") == 9


def test_five_digit_price_verifier_matches_gs1_example() -> None:
    # GS1 GenSpecs 7.9.4 example: price 14685 -> products 5, 8, 7, 4, 9 = 33; 40 - 33 = 7;
    # the digit whose 5- product is 7 is 6.
    assert price_verifier_digit("14685") == 6


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        (two_minus, [0, 2, 4, 6, 8, 9, 1, 3, 5, 7]),
        (three, [0, 3, 6, 9, 2, 5, 8, 1, 4, 7]),
        (five_plus, [0, 5, 1, 6, 2, 7, 3, 8, 4, 9]),
        (five_minus, [0, 5, 9, 4, 8, 3, 7, 2, 6, 1]),
    ],
)
def test_weighting_factor_tables_match_gs1(table, expected: list[int]) -> None:  # type: ignore[no-untyped-def]
    assert [table(d) for d in range(10)] == expected


@PROPERTY
@given(st.sampled_from([4, 5]).flatmap(lambda n: st.text(alphabet=DIGITS, min_size=n, max_size=n)))
def test_verifier_agrees_with_the_spec_written_out(value: str) -> None:
    assert price_verifier_digit(value) == reference_verifier(value)


@PROPERTY
@given(st.sampled_from([4, 5]).flatmap(lambda n: st.text(alphabet=DIGITS, min_size=n, max_size=n)), st.data())
def test_verifier_catches_every_single_digit_change(value: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(value) - 1))
    for digit in DIGITS:
        if digit != value[position]:
            changed = value[:position] + digit + value[position + 1 :]
            assert price_verifier_digit(changed) != price_verifier_digit(value)


def test_verifier_refuses_other_lengths() -> None:
    with pytest.raises(InvalidLengthError):
        price_verifier_digit("123")


# -- layouts and rules ----------------------------------------------------------------------------
def test_layout_must_add_up_to_thirteen_digits() -> None:
    with pytest.raises(BarcodeError, match="= 14 digits, not 13"):
        VariableMeasureLayout("20", Measure.PRICE, item_digits=5, value_digits=5, verifier=True)


def test_layout_verifier_needs_four_or_five_value_digits() -> None:
    with pytest.raises(BarcodeError, match="4 or 5 value digits"):
        VariableMeasureLayout("20", Measure.PRICE, item_digits=3, value_digits=6, verifier=True)


def test_layout_prefix_must_be_restricted_circulation() -> None:
    with pytest.raises(BarcodeError, match="20-29 or 02"):
        VariableMeasureLayout("40", Measure.PRICE)


def test_layout_pattern_spells_the_fields() -> None:
    assert DEFAULT_VARIABLE_MEASURE_RULES.layout_for("28").pattern == "28IIIIVPPPPPC"
    assert DEFAULT_VARIABLE_MEASURE_RULES.layout_for("22").pattern == "22IIIIIWWWWWC"


def test_rules_refuse_a_layout_under_the_wrong_prefix() -> None:
    with pytest.raises(BarcodeError, match="maps to a layout for prefix '21'"):
        VariableMeasureRules({"20": VariableMeasureLayout("21", Measure.PRICE)})


def test_default_rules_cover_the_usual_prefixes() -> None:
    rules = VariableMeasureRules.default()
    assert {p: rules.layout_for(p).measure for p in ("20", "21", "22", "23", "28", "29", "02")} == {
        "20": Measure.PRICE, "21": Measure.PRICE, "22": Measure.WEIGHT, "23": Measure.WEIGHT,
        "28": Measure.PRICE, "29": Measure.WEIGHT, "02": Measure.PRICE,
    }
    with pytest.raises(UnknownPrefixLayoutError, match="prefix 24"):
        rules.layout_for("24")


# -- parsing --------------------------------------------------------------------------------------
def test_price_embedded_code_is_read() -> None:
    # 20 12345 01299 + check digit: item 12345, price 12.99.
    code = "201234501299" + str(gtin_check_digit("201234501299"))
    result = parse_variable_measure(code, DEFAULT_VARIABLE_MEASURE_RULES)
    assert (result.item_reference, result.price_minor, result.weight_g) == ("12345", 1299, None)
    assert result.key14 == "0" + code


def test_weight_embedded_code_is_read_in_grams() -> None:
    code = "220004201250" + str(gtin_check_digit("220004201250"))
    result = parse_variable_measure(code)
    assert (result.item_reference, result.weight_g, result.price_minor) == ("00042", 1250, None)


def test_price_with_five_digit_verifier_is_read() -> None:
    body = "2812346" + "14685"  # item 1234, verifier 6 (GS1 example), price 146.85
    code = body + str(gtin_check_digit(body))
    result = parse_variable_measure(code)
    assert (result.item_reference, result.price_minor) == ("1234", 14685)


def test_upca_number_system_two_with_four_digit_verifier_is_read() -> None:
    body = "2" + "12345" + "9" + "2875"  # verifier 9 for price 28.75 (GS1 example)
    code = body + str(gtin_check_digit(body))
    result = parse_variable_measure(code)
    assert (result.prefix, result.item_reference, result.price_minor) == ("02", "12345", 2875)
    assert result.key14 == "00" + code


def test_wrong_verifier_digit_is_rejected_naming_both_digits() -> None:
    body = "2812343" + "14685"
    code = body + str(gtin_check_digit(body))  # the GTIN check digit is right, the verifier is not
    with pytest.raises(InvalidVerifierDigitError, match="verifier digit 3 does not match computed 6 for price 14685"):
        parse_variable_measure(code)


def test_wrong_check_digit_is_rejected() -> None:
    code = make_variable_measure("20", "12345", price_minor=1299)
    bad = code[:-1] + str((int(code[-1]) + 1) % 10)
    with pytest.raises(InvalidCheckDigitError, match=f"check digit {bad[-1]} does not match computed {code[-1]}"):
        parse_variable_measure(bad)


def test_unknown_prefix_layout_is_rejected() -> None:
    rules = VariableMeasureRules.of(VariableMeasureLayout("20", Measure.PRICE))
    code = make_variable_measure("22", "1", weight_g=500)
    with pytest.raises(UnknownPrefixLayoutError, match="prefix 22 .configured: 20"):
        parse_variable_measure(code, rules)


def test_ordinary_gtin_is_not_variable_measure() -> None:
    assert not is_variable_measure("4006381333931")
    with pytest.raises(NotVariableMeasureError, match="prefix 40"):
        parse_variable_measure("4006381333931")


@pytest.mark.parametrize("code", ["", "2012345012993x", "٢٠١٢٣٤٥٠١٢٩٩٣", "20123", "2" * 500])
def test_is_variable_measure_is_false_for_junk(code: str) -> None:
    assert is_variable_measure(code) is False
    with pytest.raises(BarcodeError):
        parse_variable_measure(code)


def test_item_key_is_the_code_with_value_zeroed() -> None:
    a = parse_variable_measure(make_variable_measure("28", "4321", price_minor=999))
    b = parse_variable_measure(make_variable_measure("28", "4321", price_minor=45678))
    assert a.item_key == b.item_key == "0284321" + "000000" + str(gtin_check_digit("284321000000"))


def test_store_rules_change_the_reading() -> None:
    grams_4_verified = VariableMeasureLayout("23", Measure.WEIGHT, item_digits=5, value_digits=4, verifier=True)
    rules = VariableMeasureRules.of(grams_4_verified, currency="EUR")
    code = make_variable_measure("23", "54321", weight_g=2875, rules=rules)
    assert code[7:12] == "92875"  # verifier 9 for 2875 sits before the weight
    result = parse_scan(code, "EAN13", rules)
    assert isinstance(result, VariableMeasureCode) and result.weight_g == 2875


# -- making ---------------------------------------------------------------------------------------
def test_make_refuses_the_wrong_measure_and_values_that_do_not_fit() -> None:
    with pytest.raises(BarcodeError, match="embeds a weight"):
        make_variable_measure("22", "1", price_minor=100)
    with pytest.raises(BarcodeError, match="does not fit 5 digits"):
        make_variable_measure("20", "1", price_minor=100_000)
    with pytest.raises(BarcodeError, match="non-negative"):
        make_variable_measure("20", "1", price_minor=-1)
    with pytest.raises(InvalidLengthError):
        make_variable_measure("20", "123456", price_minor=1)


def test_make_upca_layout_gives_twelve_digits() -> None:
    code = make_variable_measure("02", "12345", price_minor=2875)
    assert code == "21234592875" + str(gtin_check_digit("21234592875"))


EXTRA_LAYOUTS = [
    VariableMeasureLayout("24", Measure.WEIGHT, item_digits=5, value_digits=4, verifier=True),
    VariableMeasureLayout("25", Measure.PRICE, item_digits=5, value_digits=4, verifier=True),
    VariableMeasureLayout("26", Measure.WEIGHT, item_digits=4, value_digits=5, verifier=True),
    VariableMeasureLayout("27", Measure.PRICE, item_digits=4, value_digits=6),
]
ALL_RULES = VariableMeasureRules(
    {**dict(DEFAULT_VARIABLE_MEASURE_RULES.layouts), **{layout.prefix: layout for layout in EXTRA_LAYOUTS}}
)


@st.composite
def layout_item_value(draw: st.DrawFn) -> tuple[VariableMeasureLayout, str, int]:
    layout = draw(st.sampled_from(sorted(ALL_RULES.layouts.values(), key=lambda lay: lay.prefix)))
    item = draw(st.text(alphabet=DIGITS, min_size=layout.item_digits, max_size=layout.item_digits))
    value = draw(st.integers(0, 10**layout.value_digits - 1))
    return layout, item, value


def _make(layout: VariableMeasureLayout, item: str, value: int) -> str:
    if layout.measure is Measure.PRICE:
        return make_variable_measure(layout.prefix, item, price_minor=value, rules=ALL_RULES)
    return make_variable_measure(layout.prefix, item, weight_g=value, rules=ALL_RULES)


@PROPERTY
@given(layout_item_value())
def test_make_then_parse_round_trips_for_every_layout(case: tuple[VariableMeasureLayout, str, int]) -> None:
    layout, item, value = case
    code = _make(layout, item, value)
    assert len(code) == (12 if layout.prefix == "02" else 13)
    assert is_variable_measure(code)
    result = parse_variable_measure(code, ALL_RULES)
    measured = result.price_minor if layout.measure is Measure.PRICE else result.weight_g
    assert (result.prefix, result.item_reference, measured) == (layout.prefix, item, value)
    assert parse_scan(code, None, ALL_RULES) == result


@PROPERTY
@given(layout_item_value().filter(lambda c: c[0].verifier), st.data())
def test_corrupted_value_with_repaired_check_digit_fails_the_verifier(
    case: tuple[VariableMeasureLayout, str, int], data: st.DataObject
) -> None:
    layout, item, value = case
    code = _make(layout, item, value)
    form = code.zfill(13)
    position = data.draw(st.integers(layout.value_slice.start, layout.value_slice.stop - 1))
    digit = data.draw(st.sampled_from([d for d in DIGITS if d != form[position]]))
    body = (form[:position] + digit + form[position + 1 :])[:-1]
    forged = body + str(gtin_check_digit(body))
    with pytest.raises(InvalidVerifierDigitError):
        parse_variable_measure(forged, ALL_RULES)
