"""Diagnostics: run every device's health or self-test, print a table or JSON."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from kiosk.devices.health import DeviceHealth, DeviceStatus
from kiosk.devices.printer import SimulatedReceiptPrinter
from kiosk.diagnostics import format_table, main, run_diagnostics
from retail.clock import FakeClock

ROOT = Path(__file__).resolve().parents[2]


class Exploding:
    name = "scale"

    def health(self) -> DeviceHealth:
        raise TimeoutError("no answer from HX711")

    def self_test(self) -> DeviceHealth:
        raise TimeoutError("no answer from HX711")


def test_self_test_prints_a_test_page_and_reports_each_device():
    clock = FakeClock()
    printer = SimulatedReceiptPrinter(clock=clock)
    results = run_diagnostics([printer, Exploding()], self_test=True, clock=clock)
    assert [(r.device, r.status) for r in results] == [("printer", DeviceStatus.OK), ("scale", DeviceStatus.FAULT)]
    assert results[1].code == "diagnostics_error" and "HX711" in results[1].detail
    assert "打印机测试页".encode("gb18030") in printer.output


def test_health_only_prints_nothing():
    printer = SimulatedReceiptPrinter()
    run_diagnostics([printer], self_test=False)
    assert printer.output == b""


def test_table_lists_devices_and_statuses():
    clock = FakeClock()
    printer = SimulatedReceiptPrinter(clock=clock)
    printer.run_out_of_paper()
    table = format_table(run_diagnostics([printer], self_test=False))
    header, row = table.splitlines()
    assert header.split() == ["DEVICE", "STATUS", "CODE", "SINCE", "DETAIL"]
    assert row.split()[:3] == ["printer", "fault", "paper_out"]


def test_main_json_and_exit_code_with_given_devices():
    printer = SimulatedReceiptPrinter()
    printer.open_cover()
    out = io.StringIO()
    code = main(["--json"], devices=[printer], out=out)
    assert code == 1
    [entry] = json.loads(out.getvalue())
    assert (entry["device"], entry["status"], entry["code"]) == ("printer", "fault", "cover_open")
    printer.kick_drawer()  # main did not close a device it was handed


def test_cli_runs_as_a_module(tmp_path):
    done = subprocess.run([sys.executable, "-m", "kiosk.diagnostics", "--self-test", "--json",
                           "--data-dir", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert [(e["device"], e["status"]) for e in json.loads(done.stdout)] == [
        (n, "ok") for n in ("scanner", "produce", "bag", "cash_drawer", "status_light", "printer")
    ]
