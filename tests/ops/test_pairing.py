"""Pairing codes: expiry, forgery, the QR payload, the printed slip."""

from __future__ import annotations

import io
import stat
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from escpos.printer import Dummy
from PIL import Image

from kiosk.devices.printer import PrinterNotReadyError, SimulatedReceiptPrinter
from retail.clock import FakeClock
from tillpi_ops.errors import PairingCodeError, PairingExpiredError
from tillpi_ops.pairing import (
    PairingAuthority,
    load_or_create_pairing_key,
    pairing_qr_png,
    print_pairing_slip,
)

KEY = bytes(range(32))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2025, 3, 1, 9, 0, 7, tzinfo=timezone.utc))


@pytest.fixture
def authority(clock: FakeClock) -> PairingAuthority:
    return PairingAuthority(KEY, store_id="s1", clock=clock, ttl_s=600)


def test_a_fresh_code_is_accepted_whatever_its_spelling(authority: PairingAuthority) -> None:
    code = authority.issue("kiosk-05", 5)
    assert len(code.code) == 9 and code.code[4] == "-"
    assert authority.verify("kiosk-05", 5, code.code.lower().replace("-", " ")) == code.expires_at


def test_a_code_lives_at_least_its_ttl_and_then_expires(authority: PairingAuthority, clock: FakeClock) -> None:
    code = authority.issue("kiosk-05", 5)
    clock.advance(seconds=599)
    authority.verify("kiosk-05", 5, code.code)
    clock.set(code.expires_at)
    with pytest.raises(PairingExpiredError):
        authority.verify("kiosk-05", 5, code.code)
    with pytest.raises(PairingExpiredError):
        authority.verify_payload(code.payload)


def test_a_code_for_another_kiosk_lane_or_store_is_refused(authority: PairingAuthority, clock: FakeClock) -> None:
    code = authority.issue("kiosk-05", 5)
    with pytest.raises(PairingCodeError):
        authority.verify("kiosk-06", 5, code.code)
    with pytest.raises(PairingCodeError):
        authority.verify("kiosk-05", 6, code.code)
    other_store = PairingAuthority(KEY, store_id="s2", clock=clock)
    with pytest.raises(PairingCodeError):
        other_store.verify("kiosk-05", 5, code.code)
    other_key = PairingAuthority(bytes(32), store_id="s1", clock=clock)
    with pytest.raises(PairingCodeError):
        other_key.verify("kiosk-05", 5, code.code)


def test_a_forged_or_malformed_code_is_refused(authority: PairingAuthority) -> None:
    code = authority.issue("kiosk-05", 5)
    flipped = ("B" if code.code[0] == "A" else "A") + code.code[1:]
    with pytest.raises(PairingCodeError):
        authority.verify("kiosk-05", 5, flipped)
    for bad in ("", "1234-5678", "ABCD", "ABCD-EFGH-IJ"):
        with pytest.raises(PairingCodeError):
            authority.verify("kiosk-05", 5, bad)


def test_a_tampered_qr_payload_is_refused(authority: PairingAuthority) -> None:
    code = authority.issue("kiosk-05", 5)
    assert authority.verify_payload(code.payload).kiosk_id == "kiosk-05"
    fields = {k: v[0] for k, v in parse_qs(urlsplit(code.payload).query).items()}
    for change in ({"kiosk": "kiosk-06"}, {"lane": "6"}, {"exp": str(int(fields["exp"]) + 600)}, {"store": "s2"}):
        forged = "tillpi://pair?" + urlencode({**fields, **change})
        with pytest.raises(PairingCodeError):
            authority.verify_payload(forged)
    with pytest.raises(PairingCodeError):
        authority.verify_payload("https://pair?" + urlencode(fields))


def test_the_pairing_key_is_created_once_and_private(tmp_path: Path) -> None:
    path = tmp_path / "broker" / "pairing.key"
    key = load_or_create_pairing_key(path)
    assert len(key) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_pairing_key(path) == key


def test_the_pairing_slip_prints_the_code_and_its_qr_on_the_receipt_printer(authority: PairingAuthority) -> None:
    code = authority.issue("kiosk-05", 5)
    with SimulatedReceiptPrinter() as printer:
        sent = print_pairing_slip(printer, code)
        assert printer.output == sent
        assert code.code.encode() in sent and b"kiosk-05" in sent
        assert code.payload.encode() in sent  # native QR: the payload travels in GS ( k
        assert b"\x1dV" in sent[-10:]  # GS V: fed and cut
        assert printer.printed == [] and printer.spool.pending() == []  # not a sale receipt


def test_the_slip_is_not_printed_when_the_printer_cannot(authority: PairingAuthority) -> None:
    code = authority.issue("kiosk-05", 5)
    with SimulatedReceiptPrinter() as printer:
        printer.run_out_of_paper()
        with pytest.raises(PrinterNotReadyError):
            print_pairing_slip(printer, code)
        assert printer.output == b""


def test_the_slip_prints_on_a_plain_escpos_connection(authority: PairingAuthority) -> None:
    code = authority.issue("kiosk-05", 5)
    connection = Dummy()
    print_pairing_slip(connection, code, width_chars=32)
    assert code.code.encode() in connection.output


def test_the_qr_png_is_an_image(authority: PairingAuthority) -> None:
    png = pairing_qr_png(authority.issue("kiosk-05", 5))
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size[0] > 100
