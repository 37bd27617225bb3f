import pytest

from kiosk.viewmodels.formatting import quantity_text, weight_text
from retail.money import Money


@pytest.mark.parametrize(
    ("grams", "expected"),
    [(456, "0.456 kg × ¥12.80/kg"), (1500, "1.500 kg × ¥12.80/kg"), (5, "0.005 kg × ¥12.80/kg")],
)
def test_weight_shows_grams_exactly_and_price_per_kilogram(grams, expected):
    assert weight_text(grams, Money.of("12.80", "CNY")) == expected


def test_quantity_shows_pieces_and_unit_price():
    assert quantity_text(3, Money.of("3.50", "CNY")) == "3 × ¥3.50"
    assert quantity_text(1, Money.of("1234.50", "EUR"), locale="de_DE") == "1 × 1.234,50\u00a0€"


@pytest.mark.parametrize("bad", [0.456, True, "456"])
def test_weights_are_whole_grams(bad):
    with pytest.raises(TypeError):
        weight_text(bad, Money.of("1", "CNY"))


def test_quantities_are_whole_pieces():
    with pytest.raises(TypeError):
        quantity_text(1.5, Money.of("1", "CNY"))
