"""Printer settings and the factory: file and network printers get the same bytes as Dummy."""

from __future__ import annotations

import socket
import threading

import pytest
from escpos.printer import Dummy

from kiosk.devices.printer import (
    EscposReceiptPrinter,
    PaperOutError,
    PrinterConfigError,
    PrinterOfflineError,
    PrinterSettings,
    PrinterStatus,
    build_receipt_printer,
)
from tests.printer.samples import sample_receipt


def test_settings_from_a_device_profile_accept_hex_usb_ids():
    s = PrinterSettings.from_dict(
        {"connection": "usb", "usb_vendor_id": "0x0416", "usb_product_id": "0x5011", "profile": "TM-T88III"}
    )
    assert (s.usb_vendor_id, s.usb_product_id) == (0x0416, 0x5011)


@pytest.mark.parametrize(
    "raw",
    [
        {"connection": "bluetooth"},
        {"connection": "usb"},
        {"connection": "network"},
        {"connection": "file"},
        {"connection": "dummy", "chinese_mode": "big5"},
        {"connection": "dummy", "width_chars": 40},
        {"connection": "dummy", "qr": "ascii"},
        {"connection": "dummy", "profile": "no-such-printer"},
        {"connection": "dummy", "colour": "red"},
        {"connection": "usb", "usb_vendor_id": "vendor", "usb_product_id": 1},
    ],
)
def test_bad_settings_are_refused_at_start_up(raw):
    with pytest.raises(PrinterConfigError):
        PrinterSettings.from_dict(raw)


def test_file_printer_writes_the_receipt_bytes(tmp_path):
    device = tmp_path / "lp0"
    device.touch()
    settings = PrinterSettings(connection="file", device=str(device), spool_path=str(tmp_path / "spool.sqlite"))
    with build_receipt_printer(settings) as printer:
        assert printer.status() is PrinterStatus.UNKNOWN_OK
        printer.print_receipt(sample_receipt("zh"))
    assert device.read_bytes() == EscposReceiptPrinter(Dummy()).render_receipt(sample_receipt("zh"))


def test_58mm_image_mode_settings_reach_the_adapter():
    printer = build_receipt_printer(PrinterSettings(width_chars=32, chinese_mode="image", qr="image"))
    out = printer.render_receipt(sample_receipt("zh"))
    assert b"\x1c\x26" not in out and b"\x1d(k" not in out
    assert b"\x1d\x76\x30\x00" + (32 * 12 // 8).to_bytes(2, "little") in out  # 384-dot raster rows
    printer.close()


def test_an_unplugged_usb_printer_reports_offline_and_keeps_the_receipt():
    printer = build_receipt_printer(PrinterSettings(connection="usb", usb_vendor_id=1, usb_product_id=2))
    try:
        assert (printer.health().status.value, printer.health().code) == ("fault", "offline")
        with pytest.raises(PrinterOfflineError):
            printer.print_receipt(sample_receipt("en"))
        assert [r.sale_id for r in printer.spool.pending()] == [sample_receipt("en").sale_id]
    finally:
        printer.close()


class FakeNetworkPrinter:
    """A TCP ESC/POS printer on a free local port: answers DLE EOT, keeps everything else."""

    def __init__(self, paper: int = 0x12) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(1)
        self.port = self.server.getsockname()[1]
        self.paper = paper
        self.received = bytearray()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.server.accept()
        with conn:
            while chunk := conn.recv(65536):
                if chunk in (b"\x10\x04\x01", b"\x10\x04\x02"):
                    conn.sendall(b"\x12")
                elif chunk == b"\x10\x04\x04":
                    conn.sendall(bytes([self.paper]))
                else:
                    self.received += chunk

    def close(self) -> None:
        self.server.close()
        self.thread.join(timeout=10)


def test_network_printer_gets_the_receipt_over_tcp_and_reports_status():
    fake = FakeNetworkPrinter()
    try:
        printer = build_receipt_printer(
            PrinterSettings(connection="network", host="127.0.0.1", port=fake.port, timeout_s=10)
        )
        assert printer.status() is PrinterStatus.OK
        printer.print_receipt(sample_receipt("en"))
        printer.close()
        fake.thread.join(timeout=10)
        assert bytes(fake.received) == EscposReceiptPrinter(Dummy()).render_receipt(sample_receipt("en"))
    finally:
        fake.close()


def test_network_printer_out_of_paper_keeps_the_receipt():
    fake = FakeNetworkPrinter(paper=0x72)
    try:
        printer = build_receipt_printer(
            PrinterSettings(connection="network", host="127.0.0.1", port=fake.port, timeout_s=10)
        )
        with pytest.raises(PaperOutError):
            printer.print_receipt(sample_receipt("en"))
        assert len(printer.spool.pending()) == 1
        printer.close()
    finally:
        fake.close()
    assert bytes(fake.received) == b""


def test_drawer_kick_pin_is_a_printer_setting_and_only_2_or_5():
    assert PrinterSettings.from_dict({"drawer_kick_pin": "5"}).drawer_kick_pin == 5
    assert PrinterSettings().drawer_kick_pin == 2
    for bad in (3, 0, True):
        with pytest.raises(PrinterConfigError, match="drawer_kick_pin"):
            PrinterSettings(drawer_kick_pin=bad)


def test_printer_config_errors_are_device_config_errors_and_value_errors():
    from kiosk.errors import DeviceConfigError

    with pytest.raises(DeviceConfigError):
        PrinterSettings(connection="bluetooth")
    assert issubclass(PrinterConfigError, ValueError)
