from __future__ import annotations

import pytest

from kiosk.devices.scanner.gtin import canonical_gtin, expand_upce, gtin_check_digit_ok


@pytest.mark.parametrize("code", ["4006381333931", "96385074", "036000291452", "10614141000415"])
def test_valid_gtins_pass_the_check_digit(code: str) -> None:
    assert gtin_check_digit_ok(code)


@pytest.mark.parametrize("code", ["4006381333932", "96385075", "036000291453", "40063813339", "40063813339a1", ""])
def test_wrong_check_digit_or_length_fails(code: str) -> None:
    assert not gtin_check_digit_ok(code)


@pytest.mark.parametrize(
    ("upce", "upca"),
    [("01234565", "012345000065"), ("05096893", "050968000093"), ("04252614", "042100005264")],
)
def test_upce_expands_to_upca(upce: str, upca: str) -> None:
    assert expand_upce(upce) == upca
    assert gtin_check_digit_ok(upca)


def test_canonical_gtin_pads_upca_and_expands_upce() -> None:
    assert canonical_gtin("036000291452", "UPCA") == "0036000291452"
    assert canonical_gtin("01234565", "UPCE") == "0012345000065"
    assert canonical_gtin("0012345000065", "UPCE") == "0012345000065"
    assert canonical_gtin("96385074", "EAN8") == "96385074"
    assert canonical_gtin("4006381333932", "EAN13") is None
