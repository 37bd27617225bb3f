"""Run the kiosk UI scenarios (tests/ui/driver.py) in a real Kivy window under Xvfb.

Each scenario runs once per session in its own process; the tests assert on its
``result.json`` and copy the PNGs they check into their ``screenshot_dir``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.artifacts import artifacts_root

REPO = Path(__file__).resolve().parents[2]
RUN_LIMIT = 120  # seconds a scenario process may live before the test fails (a hang guard)


@dataclass
class UiRun:
    scenario: str
    out: Path
    result: dict[str, Any]
    log: str

    def png(self, name: str) -> Path:
        return Path(self.result["screenshots"][name])

    def keep(self, name: str, screenshot_dir: Path) -> Path:
        """Copy a screenshot into the test's screenshot folder (for a person to look at)."""
        target = screenshot_dir / f"{name}.png"
        shutil.copyfile(self.png(name), target)
        return target


@pytest.fixture(scope="session")
def ui_run(xvfb_display, tmp_path_factory) -> Callable[[str], UiRun]:
    """``ui_run("welcome")``: the scenario's result, run once per session."""
    runs: dict[str, UiRun] = {}
    base = tmp_path_factory.mktemp("kivy")
    kivy_home = base / "home"
    font_cache = base / "fonts"

    def run(scenario: str) -> UiRun:
        if scenario in runs:
            return runs[scenario]
        out = artifacts_root() / "ui-runs" / scenario
        out.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable, "-m", "tests.ui.driver", scenario,
            "--out", str(out), "--kivy-home", str(kivy_home), "--font-cache", str(font_cache),
        ]
        proc = subprocess.run(
            cmd, cwd=REPO, env=xvfb_display.env(), capture_output=True, text=True, timeout=RUN_LIMIT
        )
        result_file = out / "result.json"
        if not result_file.exists():
            pytest.fail(f"UI driver {scenario} wrote no result (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
        result = json.loads(result_file.read_text(encoding="utf-8"))
        if proc.returncode != 0 or not result.get("ok"):
            pytest.fail(f"UI scenario {scenario} failed:\n{result.get('error', '')}\n{proc.stderr[-3000:]}")
        runs[scenario] = UiRun(scenario, out, result, proc.stderr)
        return runs[scenario]

    return run
