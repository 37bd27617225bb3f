"""The whole shop in one command: HQ, the store's Mosquitto, the edge and simulated kiosks
with simulated shoppers, faults included (a kiosk unplugged, the edge restarted, a printer out
of paper) — and at the end every sale is at the edge and at HQ exactly once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_short_trading_day_loses_and_doubles_nothing_from_kiosk_to_hq(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tillpi_cli", "demo", "--duration", "30", "--kiosks", "3", "--fresh",
         "--data", str(tmp_path / "demo")],
        cwd=ROOT, capture_output=True, text=True, timeout=420, check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    counts = json.loads(lines[-1])
    assert counts["sales_at_kiosks"] > 0, done.stdout
    assert counts["sales_at_kiosks"] == counts["sales_at_edge"] == counts["sales_at_hq"], counts
    assert (counts["lost"], counts["duplicated"]) == (0, 0), counts
    assert any("fault: the edge restarts" in line for line in lines), done.stdout
    assert any("unplugged" in line for line in lines), done.stdout
    assert any("the day as HQ computed it" in line for line in lines), done.stdout
