"""GS1 element strings: raw (GS-separated) and parenthesised forms, AIs 01 10 11 15 17 21 310n 392n 393n."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from retail.errors import BarcodeError, InvalidCheckDigitError
from retail.gs1 import (
    GS,
    Gs1ElementString,
    Gs1Error,
    UnknownApplicationIdentifierError,
    build_element_string,
    format_element_string,
    gs1_check_digit,
    parse_element_string,
)
from retail.money import Money

PROPERTY = settings(derandomize=True, database=None, deadline=None, max_examples=150)
CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"


# -- reading --------------------------------------------------------------------------------------
def test_published_example_in_parenthesised_form() -> None:
    es = parse_element_string("(01)09506000134352(17)201225(10)ABC123")
    assert es.gtin == "09506000134352"
    assert es.expiry == date(2020, 12, 25)
    assert es.batch == "ABC123"
    assert es.ai == {"01": "09506000134352", "17": "201225", "10": "ABC123"}


def test_raw_form_with_symbology_identifier_and_separators() -> None:
    text = "]C1" + "0109506000134352" + "10ABC123" + GS + "3103001250" + "21SN-9"
    es = parse_element_string(text)
    assert (es.gtin, es.batch, es.net_weight_g, es.serial) == ("09506000134352", "ABC123", 1250, "SN-9")


def test_raw_form_tolerates_leading_fnc1_and_separator_after_fixed_field() -> None:
    es = parse_element_string(GS + "0109506000134352" + GS + "17201225")
    assert (es.gtin, es.expiry) == ("09506000134352", date(2020, 12, 25))


def test_variable_field_runs_to_the_end_when_last() -> None:
    es = parse_element_string("0109506000134352" + "21" + "A" * 20)
    assert es.serial == "A" * 20


@pytest.mark.parametrize(
    ("ai", "value", "mg", "grams"),
    [
        ("3100", "000012", 12_000_000, 12_000),
        ("3102", "001250", 12_500_000, 12_500),
        ("3103", "001250", 1_250_000, 1_250),
        ("3105", "001250", 12_500, 13),  # 12.5 g: exact in mg, half up in grams
        ("3105", "001249", 12_490, 12),
    ],
)
def test_net_weight_is_integer_grams_for_each_decimal_position(ai: str, value: str, mg: int, grams: int) -> None:
    es = parse_element_string(f"({ai}){value}")
    assert (es.net_weight_mg, es.net_weight_g) == (mg, grams)
    assert isinstance(es.net_weight_g, int)


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("(3922)1299", "CNY", 1299),
        ("(3920)12", "CNY", 1200),
        ("(3923)12990", "CNY", 1299),
        ("(3920)500", "JPY", 500),
        ("(3922)000000000000001", "EUR", 1),
    ],
)
def test_price_with_decimals_becomes_minor_units(text: str, currency: str, minor: int) -> None:
    es = parse_element_string(text, currency=currency)
    assert (es.price_minor, es.price_currency) == (minor, currency)
    assert es.price == Money(minor, currency)


def test_price_finer_than_the_currency_is_rejected() -> None:
    with pytest.raises(Gs1Error, match="finer than CNY allows"):
        parse_element_string("(3923)12995", currency="CNY")


def test_price_without_a_store_currency_is_rejected() -> None:
    with pytest.raises(Gs1Error, match="needs the store currency"):
        parse_element_string("(3922)1299")


def test_price_with_iso_currency_code() -> None:
    es = parse_element_string("(3932)9781299", currency="CNY")
    assert (es.price_minor, es.price_currency) == (1299, "EUR")
    with pytest.raises(Gs1Error, match="ISO 4217 currency 999"):
        parse_element_string("(3932)9991299")


@pytest.mark.parametrize(
    ("ai", "field"),
    [("11", "production_date"), ("15", "best_before"), ("17", "expiry")],
)
def test_day_zero_means_end_of_month(ai: str, field: str) -> None:
    assert getattr(parse_element_string(f"({ai})240200"), field) == date(2024, 2, 29)
    assert getattr(parse_element_string(f"({ai})250200"), field) == date(2025, 2, 28)
    assert getattr(parse_element_string(f"({ai})251100"), field) == date(2025, 11, 30)


@pytest.mark.parametrize(
    ("value", "reference_year", "expected"),
    [
        ("300101", 2024, date(2030, 1, 1)),
        ("990101", 2024, date(1999, 1, 1)),  # more than 50 years ahead: last century
        ("050101", 2090, date(2105, 1, 1)),  # 50 or more years back: next century
        ("750101", 2024, date(1975, 1, 1)),  # exactly 51 ahead: last century
        ("740101", 2024, date(2074, 1, 1)),  # 50 ahead: this century
        ("400101", 2090, date(2140, 1, 1)),  # exactly 50 back: next century
        ("410101", 2090, date(2041, 1, 1)),  # 49 back: this century
        ("250101", None, date(2025, 1, 1)),
    ],
)
def test_century_follows_the_gs1_sliding_window(value: str, reference_year: int | None, expected: date) -> None:
    assert parse_element_string(f"(17){value}", reference_year=reference_year).expiry == expected


@pytest.mark.parametrize(
    ("text", "error", "fragment"),
    [
        ("", Gs1Error, "empty"),
        ("(17)251301", Gs1Error, "month 13"),
        ("(17)250431", Gs1Error, "day 31 does not exist"),
        ("(01)09506000134353", InvalidCheckDigitError, "check digit 3 does not match computed 2"),
        ("(01)0950600013435", Gs1Error, "needs 14 characters"),
        ("010950600013435", Gs1Error, "needs 14 characters"),
        ("(01)0950600013435٢", Gs1Error, "U+0662"),
        ("(10)" + "A" * 21, Gs1Error, "21 characters long; at most 20"),
        ("10" + "A" * 21 + GS + "17201225", Gs1Error, "at most 20"),
        ("(10)LOT#1", Gs1Error, "'#'"),
        ("(10)", Gs1Error, "is empty"),
        ("(17)201225(17)201226", Gs1Error, "repeats"),
        ("(3102)001250(3103)001250", Gs1Error, "repeats"),
        ("(10)A" + GS + GS + "21B", Gs1Error, "'\\x1d'"),
        ("10A" + GS + GS + "21B", Gs1Error, "two separators"),
        ("ABC", Gs1Error, "expected an Application Identifier"),
        ("x(01)09506000134352", Gs1Error, "expected an Application Identifier"),
        ("(01)09506000134352'; DROP TABLE sales;--", Gs1Error, "needs 14 characters"),
        ("]Q1(01)09506000134352", Gs1Error, "does not carry GS1 data"),
        ("(01)" + "9" * 10_000, Gs1Error, "characters long"),
    ],
)
def test_malformed_element_strings_are_rejected_with_the_reason(
    text: str, error: type[BarcodeError], fragment: str
) -> None:
    with pytest.raises(error) as info:
        parse_element_string(text)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("text", "ai"),
    [
        ("(00)106141411234567896", "00"),
        ("00106141411234567896", "00"),
        ("0109506000134352240ABC", "240"),
        ("01095060001343523106001250", "3106"),
        ("(7003)2501011200", "7003"),
        ("99INTERNAL", "99"),
    ],
)
def test_unknown_ai_is_named(text: str, ai: str) -> None:
    with pytest.raises(UnknownApplicationIdentifierError) as info:
        parse_element_string(text)
    assert info.value.ai == ai
    assert f"({ai})" in str(info.value)


def test_errors_are_barcode_and_value_errors() -> None:
    with pytest.raises(BarcodeError):
        parse_element_string("(99)X")
    with pytest.raises(ValueError):
        parse_element_string("(17)251301")


# -- writing --------------------------------------------------------------------------------------
def test_raw_form_separates_only_variable_fields_that_are_not_last() -> None:
    pairs = [("01", "09506000134352"), ("10", "ABC"), ("17", "201225"), ("3922", "1299"), ("21", "S1")]
    assert format_element_string(pairs) == "0109506000134352" + "10ABC" + GS + "17201225" + "39221299" + GS + "21S1"
    assert format_element_string(pairs, parenthesised=True) == "(01)09506000134352(10)ABC(17)201225(3922)1299(21)S1"


def test_format_accepts_a_mapping_and_validates_values() -> None:
    assert format_element_string({"01": "09506000134352", "17": "201225"}) == "010950600013435217201225"
    with pytest.raises(InvalidCheckDigitError):
        parse_element_string(format_element_string({"01": "09506000134353"}))
    with pytest.raises(Gs1Error, match="needs 6 characters"):
        format_element_string({"17": "2012"})
    with pytest.raises(UnknownApplicationIdentifierError):
        format_element_string({"240": "X"})


def test_parenthesised_form_refuses_values_that_look_like_an_ai() -> None:
    with pytest.raises(Gs1Error, match="cannot be parenthesised"):
        format_element_string({"10": "A(21)B"}, parenthesised=True)
    assert parse_element_string(format_element_string({"10": "A(21)B"})).batch == "A(21)B"


def test_build_from_typed_values() -> None:
    es = build_element_string(
        gtin="09506000134352",
        net_weight_g=1250,
        price=Money(1299, "CNY"),
        expiry=date(2026, 3, 31),
        batch="L42",
    )
    assert es.ai == {"01": "09506000134352", "17": "260331", "3103": "001250", "3922": "1299", "10": "L42"}
    assert (es.net_weight_g, es.price_minor, es.price_currency, es.expiry) == (1250, 1299, "CNY", date(2026, 3, 31))
    iso = build_element_string(price=Money(500, "JPY"), price_with_currency=True)
    assert iso.ai == {"3930": "392500"}


def test_check_digit_helper_refuses_non_digits() -> None:
    assert gs1_check_digit("950600013435") == 2
    with pytest.raises(Gs1Error):
        gs1_check_digit("95060001343٥")


# -- round trips ----------------------------------------------------------------------------------
gtins = st.text(alphabet="0123456789", min_size=13, max_size=13).map(lambda b: b + str(gs1_check_digit(b)))
dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
texts = st.text(alphabet=CSET82, min_size=1, max_size=20)
prices = st.builds(
    Money,
    st.integers(0, 10**12),
    st.sampled_from(["CNY", "EUR", "USD", "JPY", "GBP"]),
)


@st.composite
def element_strings(draw: st.DrawFn) -> Gs1ElementString:
    gtin = draw(st.none() | gtins)
    fields = dict(
        net_weight_g=draw(st.none() | st.integers(0, 999_999)),
        price=draw(st.none() | prices),
        expiry=draw(st.none() | dates),
        best_before=draw(st.none() | dates),
        production_date=draw(st.none() | dates),
        batch=draw(st.none() | texts),
        serial=draw(st.none() | texts),
    )
    if gtin is None and all(v is None for v in fields.values()):
        gtin = draw(gtins)  # an element string has at least one field
    return build_element_string(gtin=gtin, price_with_currency=draw(st.booleans()), **fields)  # type: ignore[arg-type]


@PROPERTY
@given(element_strings(), st.booleans())
def test_format_then_parse_round_trips(es: Gs1ElementString, parenthesised: bool) -> None:
    if parenthesised:
        assume(not any(re.search(r"\(\d{2,4}\)", v) for _, v in es.elements))
    text = format_element_string(es, parenthesised=parenthesised)
    back = parse_element_string(text, currency=es.price_currency)
    assert back == es
    assert format_element_string(back, parenthesised=parenthesised) == text


@PROPERTY
@given(st.lists(st.sampled_from(["01", "10", "11", "15", "17", "21", "3103", "3922"]), min_size=1, max_size=8, unique=True), st.data())
def test_any_order_of_fields_round_trips_in_raw_form(ais: list[str], data: st.DataObject) -> None:
    values = {
        "01": gtins, "10": texts, "21": texts, "3103": st.integers(0, 999_999).map(lambda g: f"{g:06d}"),
        "3922": st.integers(0, 10**13).map(str),
        "11": dates.map(lambda d: d.strftime("%y%m%d")), "15": dates.map(lambda d: d.strftime("%y%m%d")),
        "17": dates.map(lambda d: d.strftime("%y%m%d")),
    }
    pairs = [(ai, data.draw(values[ai])) for ai in ais]
    text = format_element_string(pairs)
    back = parse_element_string(text, currency="CNY")
    assert list(back.elements) == pairs
