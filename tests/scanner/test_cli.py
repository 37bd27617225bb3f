"""``python -m kiosk.scanner decode IMAGE...`` as a subprocess on generated images."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2

from kiosk.devices.scanner.render import place_in_frame, render_barcode
from tests.scanner.images import degraded_photo

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk.scanner", "decode", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_decode_prints_one_json_line_per_image(tmp_path: Path, screenshot_dir: Path) -> None:
    ean = tmp_path / "ean.png"
    qr = tmp_path / "qr.jpg"
    empty = tmp_path / "empty.png"
    cv2.imwrite(str(ean), degraded_photo("4006381333931", "EAN13", 3))
    cv2.imwrite(str(qr), place_in_frame(render_barcode("member:0042", "QRCODE", module_px=5)))
    cv2.imwrite(str(empty), place_in_frame(None))
    cv2.imwrite(str(screenshot_dir / "cli-ean.png"), cv2.imread(str(ean)))
    missing = tmp_path / "nope.png"
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")

    result = run_cli(str(ean), str(qr), str(empty), str(missing), str(broken))

    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["path"] for line in lines] == [str(ean), str(qr), str(empty), str(missing), str(broken)]
    assert lines[0]["codes"] == [{"text": "4006381333931", "symbology": "EAN13"}]
    assert lines[1]["codes"] == [{"text": "member:0042", "symbology": "QRCODE"}]
    assert lines[2]["codes"] == []
    for ok in lines[:3]:
        assert set(ok) == {"path", "codes", "ms"} and ok["ms"] >= 0
    for bad in lines[3:]:
        assert "error" in bad


def test_decode_without_images_is_a_usage_error() -> None:
    assert run_cli().returncode == 2
