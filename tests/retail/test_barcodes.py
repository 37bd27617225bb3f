"""GTIN check digits, validation, UPC-E, normalise/format and the scanner's parse_scan."""

from __future__ import annotations

import numpy as np
import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st

from retail.barcodes import (
    BarcodeTypeError,
    GtinCode,
    Gs1Code,
    InvalidCharacterError,
    InvalidLengthError,
    InvalidNumberSystemError,
    MAX_SCAN_LENGTH,
    OtherCode,
    VariableMeasureCode,
    expand_upce,
    format_gtin,
    gtin_check_digit,
    make_variable_measure,
    normalize_gtin,
    parse_scan,
    validate_gtin,
)
from retail.errors import BarcodeError, InvalidCheckDigitError, RetailError, UnknownPrefixLayoutError
from retail.gs1 import Gs1Error, UnknownApplicationIdentifierError

PROPERTY = settings(derandomize=True, database=None, deadline=None, max_examples=150)
DIGITS = "0123456789"


def with_check(body: str) -> str:
    return body + str(gtin_check_digit(body))


# -- check digit --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "check"),
    [
        ("400638133393", 1),  # EAN-13 4006381333931
        ("03600029145", 2),  # UPC-A 036000291452
        ("9638507", 4),  # EAN-8 96385074
        ("0001234560001", 2),  # GTIN-14 00012345600012
        ("1061414100041", 5),  # GTIN-14 10614141000415
        ("04210000526", 4),  # UPC-A 042100005264
    ],
)
def test_check_digit_of_published_codes(body: str, check: int) -> None:
    assert gtin_check_digit(body) == check


def test_check_digit_refuses_letters_and_odd_digits() -> None:
    with pytest.raises(InvalidCharacterError, match="position 3"):
        gtin_check_digit("40A638133393")
    with pytest.raises(InvalidCharacterError, match="U\\+0663"):
        gtin_check_digit("40٣638133393")


# -- validate_gtin -------------------------------------------------------------------------------
@pytest.mark.parametrize("code", ["4006381333931", "036000291452", "96385074", "00012345600012", "10614141000415"])
def test_valid_published_gtins_are_accepted(code: str) -> None:
    assert validate_gtin(code) == code


def test_bad_check_digit_names_given_and_computed_digits() -> None:
    with pytest.raises(InvalidCheckDigitError, match="check digit 7 does not match computed 1 for GTIN-13 400638133393"):
        validate_gtin("4006381333937")


@pytest.mark.parametrize(
    ("code", "error", "fragment"),
    [
        ("", InvalidLengthError, "empty"),
        ("12345", InvalidLengthError, "5 digits"),
        ("1234567890", InvalidLengthError, "10 digits"),
        ("400638133393١", InvalidCharacterError, "U+0661"),
        ("٤٠٠٦٣٨١٣٣٣٩٣١", InvalidCharacterError, "only ASCII digits"),
        ("４００６３８１３３３９３１", InvalidCharacterError, "U+FF14"),
        ("4006381333931'; DROP TABLE items;--", InvalidCharacterError, "position 14"),
        ("ABCDEFGHIJKLM", InvalidCharacterError, "'A'"),
        (" 4006381333931", InvalidCharacterError, "' '"),
        ("40063813\x0033931", InvalidCharacterError, "U+0000"),
        ("4" * 10_000, InvalidLengthError, "10000 characters"),
    ],
)
def test_bad_input_is_rejected_with_the_reason(code: str, error: type[BarcodeError], fragment: str) -> None:
    with pytest.raises(error) as info:
        validate_gtin(code)
    assert fragment in str(info.value)


def test_rejections_are_retail_errors_and_value_errors() -> None:
    with pytest.raises(RetailError):
        validate_gtin("x")
    with pytest.raises(ValueError):
        validate_gtin("4006381333937")


def test_non_text_is_a_type_error() -> None:
    with pytest.raises(BarcodeTypeError):
        validate_gtin(4006381333931)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        parse_scan(b"4006381333931")  # type: ignore[arg-type]


@st.composite
def valid_gtins(draw: st.DrawFn) -> str:
    length = draw(st.sampled_from([8, 12, 13, 14]))
    body = draw(st.text(alphabet=DIGITS, min_size=length - 1, max_size=length - 1))
    return with_check(body)


@PROPERTY
@given(valid_gtins())
def test_every_gtin_with_computed_check_digit_is_accepted(code: str) -> None:
    assert validate_gtin(code) == code


@PROPERTY
@given(valid_gtins(), st.data())
def test_every_single_digit_corruption_is_rejected(code: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(code) - 1))
    for digit in DIGITS:
        if digit == code[position]:
            continue
        corrupted = code[:position] + digit + code[position + 1 :]
        with pytest.raises(InvalidCheckDigitError):
            validate_gtin(corrupted)


# -- UPC-E ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("upce", "upca"),
    [
        ("04252614", "042100005264"),  # last digit 0-2 rule (published example)
        ("01234505", "012000003455"),  # last digit 0
        ("01234531", "012300000451"),  # last digit 3
        ("01234543", "012340000053"),  # last digit 4
        ("01234565", "012345000065"),  # last digit 5-9
        ("11234562", "112345000062"),  # number system 1
    ],
)
def test_upce_expands_by_each_rule(upce: str, upca: str) -> None:
    assert expand_upce(upce) == upca
    assert validate_gtin(upca) == upca


def test_upce_six_and_seven_digit_forms_get_their_check_digit() -> None:
    assert expand_upce("425261") == "042100005264"
    assert expand_upce("0425261") == "042100005264"
    assert expand_upce("1123456") == "112345000062"


def test_upce_with_wrong_check_digit_is_rejected() -> None:
    with pytest.raises(InvalidCheckDigitError, match="check digit 9 does not match computed 4"):
        expand_upce("04252619")


def test_upce_number_system_must_be_zero_or_one() -> None:
    with pytest.raises(InvalidNumberSystemError, match="number system 2"):
        expand_upce("24252614")


def test_upce_wrong_length_is_rejected() -> None:
    with pytest.raises(InvalidLengthError, match="9 digits"):
        expand_upce("042526140")


# -- normalise / format --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "symbology", "key"),
    [
        ("4006381333931", None, "04006381333931"),
        ("036000291452", None, "00036000291452"),
        ("96385074", None, "00000096385074"),
        ("96385074", "EAN-8", "00000096385074"),
        ("04252614", "UPC-E", "00042100005264"),
        ("04252614", "upce", "00042100005264"),
        ("425261", None, "00042100005264"),  # 6 and 7 digits can only be UPC-E
        ("0425261", None, "00042100005264"),
        ("10614141000415", None, "10614141000415"),
    ],
)
def test_normalize_gives_the_14_digit_key(code: str, symbology: str | None, key: str) -> None:
    assert normalize_gtin(code, symbology) == key


def test_eight_digits_are_ean8_unless_told_upce() -> None:
    # 04252614 is not a valid EAN-8 (its EAN-8 check digit would be 0), but is a valid UPC-E.
    with pytest.raises(InvalidCheckDigitError):
        normalize_gtin("04252614")
    assert normalize_gtin("04252614", "UPC-E") == "00042100005264"


@pytest.mark.parametrize(
    ("key", "natural"),
    [
        ("04006381333931", "4006381333931"),
        ("00036000291452", "036000291452"),
        ("00000096385074", "96385074"),
        ("10614141000415", "10614141000415"),
    ],
)
def test_format_gives_the_shortest_natural_form(key: str, natural: str) -> None:
    assert format_gtin(key) == natural


def test_format_refuses_keys_that_are_not_14_valid_digits() -> None:
    with pytest.raises(InvalidLengthError):
        format_gtin("4006381333931")
    with pytest.raises(InvalidCheckDigitError):
        format_gtin("04006381333932")


@PROPERTY
@given(st.text(alphabet=DIGITS, min_size=13, max_size=13))
def test_format_then_normalize_returns_the_key(body: str) -> None:
    key = with_check(body)
    assert normalize_gtin(format_gtin(key)) == key


@st.composite
def natural_gtins(draw: st.DrawFn) -> str:
    length = draw(st.sampled_from([8, 12, 13, 14]))
    first = {8: DIGITS, 12: DIGITS, 13: "123456789", 14: "123456789"}[length]
    head = draw(st.sampled_from(first))
    rest = draw(st.text(alphabet=DIGITS, min_size=length - 2, max_size=length - 2))
    body = head + rest
    if length == 12 and body.startswith("0000"):
        body = "1" + body[1:]  # 0000xxxxxxxx is the GTIN-8 range
    return with_check(body)


@PROPERTY
@given(natural_gtins())
def test_normalize_then_format_returns_the_code(code: str) -> None:
    assert format_gtin(normalize_gtin(code)) == code


# -- parse_scan ------------------------------------------------------------------------------------
def test_scan_of_ean13_is_a_gtin_with_its_key() -> None:
    result = parse_scan("4006381333931", "EAN13")
    assert isinstance(result, GtinCode)
    assert (result.kind, result.key14, result.gtin) == ("gtin", "04006381333931", "4006381333931")


def test_scan_strips_the_scanner_line_ending() -> None:
    assert parse_scan("036000291452\r\n").key14 == "00036000291452"  # type: ignore[union-attr]


def test_scan_with_aim_identifier_is_understood() -> None:
    assert parse_scan("]E04006381333931").key14 == "04006381333931"  # type: ignore[union-attr]
    assert parse_scan("]E496385074").key14 == "00000096385074"  # type: ignore[union-attr]


def test_scan_of_upce_is_expanded() -> None:
    result = parse_scan("04252614", "UPC-E")
    assert isinstance(result, GtinCode) and result.key14 == "00042100005264"
    assert parse_scan("04252614", "BarcodeFormat.UPCE").key14 == "00042100005264"  # type: ignore[union-attr]


def test_scan_of_price_embedded_code_is_variable_measure() -> None:
    code = make_variable_measure("20", "12345", price_minor=1299)
    result = parse_scan(code, "EAN13")
    assert isinstance(result, VariableMeasureCode)
    assert (result.kind, result.item_reference, result.price_minor) == ("variable_measure", "12345", 1299)


def test_scan_of_variable_measure_prefix_without_layout_is_rejected() -> None:
    code = with_check("250001201000")
    with pytest.raises(UnknownPrefixLayoutError, match="prefix 25"):
        parse_scan(code)


@pytest.mark.parametrize(
    ("text", "symbology"),
    [
        ("]e00104012345678901310300125010LOT7", None),
        ("0104012345678901310300125010LOT7", "DataBarExpanded"),
        ("0104012345678901310300125010LOT7", "DATABAR_EXP"),
        ("]C10104012345678901310300125010LOT7", "CODE128"),
        ("10LOT7\x1d0104012345678901", None),
        ("0104012345678901\x1d310300125010LOT7", None),
        ("(01)04012345678901(3103)001250(10)LOT7", None),
    ],
)
def test_scan_of_gs1_element_string_is_gs1(text: str, symbology: str | None) -> None:
    result = parse_scan(text, symbology)
    assert isinstance(result, Gs1Code)
    assert result.kind == "gs1"
    assert result.gtin == "04012345678901"
    assert result.element_string.batch == "LOT7"


def test_scan_of_gs1_with_unknown_ai_names_it() -> None:
    with pytest.raises(UnknownApplicationIdentifierError, match=r"\(240\)"):
        parse_scan("]C10104012345678901240ABC")


@pytest.mark.parametrize(
    ("text", "symbology"),
    [
        ("TILLPI-MEMBER:000123", "QRCODE"),
        ("TILLPI-COUPON:SPRING-10", None),
        ("]Q1TILLPI-MEMBER:000123", None),
        ("4006381333931", "QRCODE"),  # digits in a QR are not ours to guess at
        ("]Q14006381333931", None),
        ("https://example.com/p?id=1", "QRCode"),
        ("会员:张三", "QRCODE"),
    ],
)
def test_non_retail_payloads_are_other_codes_untouched(text: str, symbology: str | None) -> None:
    result = parse_scan(text, symbology)
    assert isinstance(result, OtherCode)
    assert result.kind == "other"
    assert result.text == text.removeprefix("]Q1")


@pytest.mark.parametrize(
    ("text", "symbology", "error"),
    [
        ("", None, InvalidLengthError),
        ("   \r\n", None, InvalidLengthError),
        ("]E0", None, InvalidLengthError),
        ("1234567890", None, InvalidLengthError),
        ("4006381333937", None, InvalidCheckDigitError),
        ("4006381333931'; DROP TABLE items;--", "EAN13", InvalidCharacterError),
        ("40063813A3931", "EAN-13", InvalidCharacterError),
        ("٤٠٠٦٣٨١٣٣٣٩٣١", None, InvalidCharacterError),
        ("٤٠٠٦٣٨١٣٣٣٩٣١", "EAN13", InvalidCharacterError),
        ("４００６３８１３３３９３１", None, InvalidCharacterError),
        ("9" * (MAX_SCAN_LENGTH + 1), None, InvalidLengthError),
        ("TILLPI-MEMBER:\x00123", "QRCODE", InvalidCharacterError),
        ("(01)04012345678901(3103)00125", None, Gs1Error),
    ],
)
def test_scan_rejects_bad_input_with_a_typed_error(text: str, symbology: str | None, error: type[BarcodeError]) -> None:
    with pytest.raises(error):
        parse_scan(text, symbology)


def test_scan_results_are_frozen() -> None:
    result = parse_scan("4006381333931")
    with pytest.raises(AttributeError):
        result.key14 = "x"  # type: ignore[misc,union-attr]


def test_upce_already_expanded_by_the_decoder_is_taken_as_is() -> None:
    # zxing-cpp reports a UPC-E symbol as "UPC-E" with the 13-digit expanded text.
    assert parse_scan("0042100005264", "UPC-E").key14 == "00042100005264"  # type: ignore[union-attr]
    assert normalize_gtin("042100005264", "UPC-E") == "00042100005264"


def _decode_printed(text: str, fmt: object) -> tuple[str, str, str]:
    barcode = zxingcpp.create_barcode(text, fmt)
    image = np.array(zxingcpp.write_barcode_to_image(barcode, scale=3))
    (result,) = zxingcpp.read_barcodes(image)
    return result.text, str(result.format), result.symbology_identifier


@pytest.mark.parametrize(
    ("printed", "fmt_name", "kind", "key"),
    [
        ("4006381333931", "EAN13", "gtin", "04006381333931"),
        ("04252614", "UPCE", "gtin", "00042100005264"),
        ("96385074", "EAN8", "gtin", "00000096385074"),
        ("(01)09506000134352(3103)001250(10)ABC123", "DataBarExp", "gs1", "09506000134352"),
    ],
)
def test_what_a_real_decoder_reports_parses(printed: str, fmt_name: str, kind: str, key: str) -> None:
    text, fmt, sym_id = _decode_printed(printed, getattr(zxingcpp.BarcodeFormat, fmt_name))
    for result in (parse_scan(text, fmt), parse_scan(sym_id + text)):
        assert result.kind == kind
        assert (result.key14 if isinstance(result, GtinCode) else result.gtin) == key  # type: ignore[union-attr]


def test_a_decoded_variable_measure_label_reads_its_price() -> None:
    code = make_variable_measure("28", "4321", price_minor=14685)
    text, fmt, _ = _decode_printed(code, zxingcpp.BarcodeFormat.EAN13)
    result = parse_scan(text, fmt)
    assert isinstance(result, VariableMeasureCode)
    assert (result.item_reference, result.price_minor) == ("4321", 14685)
