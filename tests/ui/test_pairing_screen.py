"""The pairing screen in a real Kivy window: the code in large type and a QR that decodes."""

from __future__ import annotations

import zxingcpp
from PIL import Image

from tests.ui.driver import PAIRING_DATA


def test_pairing_screen_shows_the_code_and_a_qr_of_the_payload(ui_run, screenshot_dir):
    run = ui_run("pairing")
    en = run.result["pairing_en"]
    assert en["code"] == "K7QM-4XTD"
    assert en["title"] == "Pair this kiosk"
    assert en["lane"] == "Store s1 · kiosk-05 · Lane 5"
    assert en["expiry"] == "Code valid until 09:10"
    assert run.result["code_font_size"] >= 72  # large type, readable from a step away
    png = run.keep("pairing_en", screenshot_dir)
    decoded = [b.text for b in zxingcpp.read_barcodes(Image.open(png))]
    assert decoded == [PAIRING_DATA["payload"]]


def test_pairing_screen_in_chinese_and_after_expiry(ui_run, screenshot_dir):
    run = ui_run("pairing")
    zh = run.result["pairing_zh"]
    assert zh["code"] == "K7QM-4XTD"
    assert zh["lane"] == "门店 s1 · kiosk-05 · 5 号通道"
    assert zh["expiry"] == "配对码有效期至 09:10"
    zh_png = run.keep("pairing_zh", screenshot_dir)
    assert [b.text for b in zxingcpp.read_barcodes(Image.open(zh_png))] == [PAIRING_DATA["payload"]]
    assert run.result["pairing_expired_zh"]["expiry"] == "配对码已过期，请重新获取"
    expired_png = run.keep("pairing_expired_zh", screenshot_dir)
    assert zxingcpp.read_barcodes(Image.open(expired_png)) == []  # no stale QR once expired
