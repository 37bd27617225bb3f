"""Receipt layout: weighed lines, savings, tax, change, member, CJK column alignment."""

from __future__ import annotations

import dataclasses
import json

import pytest

from kiosk.receipt import (
    BarcodeBlock,
    QrBlock,
    ReceiptData,
    ReceiptError,
    TextLine,
    display_width,
    format_rate,
    format_weight,
    layout_receipt,
    mask_member_id,
)
from retail.money import Money
from tests.printer.samples import cny, sample_receipt


def texts(blocks):
    return [b.text for b in blocks if isinstance(b, TextLine)]


def line_with(blocks, fragment):
    found = [b for b in blocks if isinstance(b, TextLine) and fragment in b.text]
    assert found, f"no line with {fragment!r} in {texts(blocks)}"
    return found[0]


def test_weighed_line_prints_weight_times_price_per_kg():
    blocks = layout_receipt(sample_receipt("en"))
    assert "  0.456 kg × ¥12.80/kg" in texts(blocks)
    assert line_with(blocks, "Bananas").text.endswith("¥5.84")


def test_weight_and_rate_formatting():
    assert format_weight(456) == "0.456 kg"
    assert format_weight(1250) == "1.250 kg"
    assert format_rate(1300) == "13%"
    assert format_rate(650) == "6.5%"
    assert format_rate(0) == "0%"


def test_counted_line_shows_quantity_times_unit_price():
    assert "  2 × ¥49.50" in texts(layout_receipt(sample_receipt("en")))


@pytest.mark.parametrize("language, saving, you_saved", [("en", "Savings: Buy 2 save 10%", "You saved"),
                                                        ("zh", "优惠: 第二件九折", "共优惠")])
def test_savings_are_shown_negative_per_promotion_and_in_total(language, saving, you_saved):
    blocks = layout_receipt(sample_receipt(language))
    assert line_with(blocks, saving).text.endswith("-¥9.90")
    assert line_with(blocks, you_saved).text.endswith("-¥9.90")


@pytest.mark.parametrize("language, total, change, cash", [("en", "Total", "Change", "Cash"),
                                                          ("zh", "合计", "找零", "现金")])
def test_total_is_double_size_and_change_follows_payment(language, total, change, cash):
    blocks = layout_receipt(sample_receipt(language))
    total_line = line_with(blocks, total)
    assert total_line.double and total_line.bold
    assert display_width(total_line.text) == 24  # half of 48 columns at double width
    assert total_line.text.endswith("¥107.44")
    lines = texts(blocks)
    assert lines.index(line_with(blocks, cash).text) < lines.index(line_with(blocks, change).text)
    assert line_with(blocks, change).text.endswith("¥12.56")


@pytest.mark.parametrize("language", ["en", "zh"])
def test_tax_summary_has_rate_net_and_tax_in_columns(language):
    blocks = layout_receipt(sample_receipt(language))
    label = "Tax 13%" if language == "en" else "税 13%"
    row = line_with(blocks, label).text
    assert row.endswith("¥95.08      ¥12.36")
    assert display_width(row) == 48


def test_member_id_is_masked_and_points_are_shown():
    assert mask_member_id("13812345678") == "138****5678"
    assert mask_member_id("M1234567") == "M1****67"
    blocks = layout_receipt(sample_receipt("zh"))
    assert line_with(blocks, "会员").text.endswith("138****5678")
    assert line_with(blocks, "本次积分").text.endswith("+107")
    assert line_with(blocks, "积分余额").text.endswith("1,234")
    assert not any("13812345678" in t for t in texts(blocks))


@pytest.mark.parametrize("width", [48, 32])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_line_fits_the_paper_and_amounts_end_at_the_right_edge(language, width):
    blocks = layout_receipt(sample_receipt(language), width)
    for block in blocks:
        if isinstance(block, TextLine):
            limit = width // 2 if block.double else width
            assert display_width(block.text) <= limit, block.text
    # every line that ends in an amount ends exactly at the right edge, in both languages
    amounts = [b for b in blocks if isinstance(b, TextLine) and not b.double and b.text.rstrip().endswith(
        ("¥12.50", "¥5.84", "¥99.00", "¥117.34", "-¥9.90", "¥120.00", "¥12.56"))]
    assert len(amounts) >= 7
    assert {display_width(b.text) for b in amounts} == {width}


def test_chinese_and_english_receipts_put_amounts_in_the_same_column():
    en = {t[-8:]: display_width(t) for t in texts(layout_receipt(sample_receipt("en"))) if t.endswith("¥117.34")}
    zh = {t[-8:]: display_width(t) for t in texts(layout_receipt(sample_receipt("zh"))) if t.endswith("¥117.34")}
    assert en == zh == {" ¥117.34": 48}


def test_long_chinese_name_wraps_by_display_width_with_amount_on_first_line():
    blocks = layout_receipt(sample_receipt("zh"), 32)
    first = line_with(blocks, "进口特级")
    assert first.text.endswith("¥99.00") and display_width(first.text) == 32
    lines = texts(blocks)
    following = lines[lines.index(first.text) + 1]
    assert following == "五百毫升两瓶"


def test_codes_sale_id_barcode_and_e_receipt_qr():
    blocks = layout_receipt(sample_receipt("en"))
    assert BarcodeBlock("K01-000042") in blocks
    assert any(isinstance(b, QrBlock) and b.data == "https://r.example.cn/K01-000042" for b in blocks)


def test_sale_id_too_long_for_a_barcode_becomes_a_qr():
    long_id = "K01-20260105-0000000042-RETURNABLE"
    blocks = layout_receipt(sample_receipt("en", sale_id=long_id), 32)
    assert not any(isinstance(b, BarcodeBlock) for b in blocks)
    assert any(isinstance(b, QrBlock) and b.data == long_id for b in blocks)


def test_labels_follow_the_receipt_language():
    en, zh = texts(layout_receipt(sample_receipt("en"))), texts(layout_receipt(sample_receipt("zh")))
    assert any("Subtotal" in t for t in en) and not any("小计" in t for t in en)
    assert any("小计" in t for t in zh) and not any("Subtotal" in t for t in zh)
    assert "谢谢惠顾" in [t.strip() for t in zh]
    assert any(t.startswith("Approved: age check - Attendant Li Na") for t in en)


def test_bad_documents_are_refused():
    with pytest.raises(ReceiptError):
        dataclasses.replace(sample_receipt("en"), language="fr")
    with pytest.raises(ReceiptError):
        sample_receipt("en", change=Money.of("1", "EUR"))
    with pytest.raises(ReceiptError):
        layout_receipt(sample_receipt("en"), 40)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_receipt_document_round_trips_through_json(language):
    data = sample_receipt(language)
    again = ReceiptData.from_dict(json.loads(json.dumps(data.to_dict())))
    assert again == data
    assert again.total == cny("107.44")
