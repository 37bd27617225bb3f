"""The pairing view-model: texts in both languages, expiry, reading pairing.json."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from kiosk.viewmodels.i18n import I18n
from kiosk.viewmodels.pairing import PairingFileError, PairingInfo, PairingViewModel, load_pairing_file
from retail.clock import FakeClock

START = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
DATA = {
    "store_id": "s1", "kiosk_id": "kiosk-05", "lane": 5, "code": "K7QM-4XTD",
    "payload": "tillpi://pair?v=1&s=s1&k=kiosk-05&l=5&c=K7QM4XTD",
    "expires_at": "2026-03-01T09:10:00+00:00",
}


def make(language: str = "en") -> tuple[PairingViewModel, I18n, FakeClock]:
    clock = FakeClock(START)
    i18n = I18n(language)
    return PairingViewModel(i18n, DATA, clock=clock), i18n, clock


def test_english_texts_show_code_lane_and_expiry_time() -> None:
    vm, _, _ = make("en")
    assert vm.code_text == "K7QM-4XTD"
    assert vm.qr_payload == DATA["payload"]
    assert vm.lane == 5
    assert vm.title_text == "Pair this kiosk"
    assert vm.lane_text == "Store s1 · kiosk-05 · Lane 5"
    assert vm.expiry_text == "Code valid until 09:10"
    assert not vm.expired


def test_chinese_texts_follow_a_language_switch_and_notify() -> None:
    vm, i18n, _ = make("en")
    heard: list[frozenset[str]] = []
    vm.on_change(heard.append)
    i18n.set_language("zh_CN")
    assert heard == [frozenset({"labels"})]
    assert vm.title_text == "配对此设备"
    assert vm.lane_text == "门店 s1 · kiosk-05 · 5 号通道"
    assert vm.expiry_text == "配对码有效期至 09:10"
    assert vm.code_text == "K7QM-4XTD"  # the code itself is never translated


@pytest.mark.parametrize(
    ("language", "text"),
    [("en", "This code has expired; ask for a new one"), ("zh_CN", "配对码已过期，请重新获取")],
)
def test_expired_code_says_so_and_hides_the_qr(language: str, text: str) -> None:
    vm, _, clock = make(language)
    heard: list[frozenset[str]] = []
    vm.on_change(heard.append)
    clock.advance(seconds=599)
    vm.tick()
    assert not vm.expired and heard == []
    clock.advance(seconds=1)
    vm.tick()
    vm.tick()  # told once only
    assert heard == [frozenset({"expired"})]
    assert vm.expired
    assert vm.expiry_text == text
    assert vm.qr_payload == ""


def test_already_expired_at_start() -> None:
    vm = PairingViewModel(I18n("en"), DATA, clock=FakeClock(datetime(2026, 3, 2, tzinfo=timezone.utc)))
    assert vm.expired
    assert "expired" in vm.expiry_text


def test_load_pairing_file_reads_what_provisioning_writes(tmp_path) -> None:
    (tmp_path / "pairing.json").write_text(json.dumps(DATA), encoding="utf-8")
    info = load_pairing_file(tmp_path)
    assert info == PairingInfo("s1", "kiosk-05", 5, "K7QM-4XTD", DATA["payload"],
                               datetime(2026, 3, 1, 9, 10, tzinfo=timezone.utc))


def test_missing_or_incomplete_pairing_file_is_a_typed_error(tmp_path) -> None:
    with pytest.raises(PairingFileError, match="provision"):
        load_pairing_file(tmp_path)
    (tmp_path / "pairing.json").write_text(json.dumps({"code": "X"}), encoding="utf-8")
    with pytest.raises(ValueError, match="lacks"):
        load_pairing_file(tmp_path)


def test_cli_pair_prints_the_slip_on_the_simulated_printer(tmp_path, monkeypatch) -> None:
    import io

    from kiosk.cli import main
    from kiosk.devices.printer.simulated import SimulatedReceiptPrinter

    (tmp_path / "pairing.json").write_text(json.dumps(DATA), encoding="utf-8")
    sent: list[tuple[object, object]] = []
    import tillpi_ops.pairing as pairing_module

    real = pairing_module.print_pairing_slip

    def spy(printer, code):  # noqa: ANN001, ANN202
        payload = real(printer, code)
        sent.append((printer, code))
        return payload

    monkeypatch.setattr(pairing_module, "print_pairing_slip", spy)
    out, err = io.StringIO(), io.StringIO()
    assert main(["pair", "--print", "--no-window", "--data-dir", str(tmp_path)], out=out, err=err) == 0, err.getvalue()
    assert "K7QM-4XTD" in out.getvalue()
    assert "simulated printer" in out.getvalue()
    [(printer, code)] = sent
    assert isinstance(printer, SimulatedReceiptPrinter)
    assert (code.code, code.payload, code.lane) == ("K7QM-4XTD", DATA["payload"], 5)


def test_cli_pair_without_pairing_file_fails_with_usage_code(tmp_path) -> None:
    import io

    from kiosk.cli import main

    err = io.StringIO()
    assert main(["pair", "--no-window", "--data-dir", str(tmp_path)], out=io.StringIO(), err=err) == 2
    assert "provision" in err.getvalue()
