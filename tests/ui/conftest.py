"""Run the kiosk UI scenarios (tests/ui/driver.py) in a real Kivy window under Xvfb.

Each scenario runs once per session in its own process; the tests assert on its
``result.json`` and copy the PNGs they check into their ``screenshot_dir``.
"""

from __future__ import annotations

import json
import os
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
RUN_LIMIT = 240  # seconds a scenario process may live before the test fails (a hang guard)
# whole purchases against the engine: started together, they share the two cores
ENGINE_BATCH = ("purchases_en", "interventions_en", "purchases_zh", "interventions_zh")
PARALLEL = max(1, min(2, os.cpu_count() or 1))


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

    def start(scenario: str) -> tuple[Path, subprocess.Popen[str]]:
        out = artifacts_root() / "ui-runs" / scenario
        out.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable, "-m", "tests.ui.driver", scenario, "--limit", str(RUN_LIMIT - 20),
            "--out", str(out), "--kivy-home", str(kivy_home), "--font-cache", str(font_cache),
        ]
        proc = subprocess.Popen(
            cmd,
            cwd=REPO,
            env=xvfb_display.env(LP_NUM_THREADS="1"),  # software GL: one thread per process
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        return out, proc

    def finish(scenario: str, out: Path, proc: subprocess.Popen[str]) -> None:
        try:
            _, stderr = proc.communicate(timeout=RUN_LIMIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, stderr = proc.communicate()
        result_file = out / "result.json"
        if not result_file.exists():
            runs[scenario] = UiRun(scenario, out, {"ok": False, "error": f"no result (exit {proc.returncode})"}, stderr)
            return
        result = json.loads(result_file.read_text(encoding="utf-8"))
        if proc.returncode != 0:
            result["ok"] = False
        runs[scenario] = UiRun(scenario, out, result, stderr)

    def run(scenario: str) -> UiRun:
        if scenario not in runs:
            if scenario in ENGINE_BATCH:
                todo = [name for name in ENGINE_BATCH if name not in runs]
                for i in range(0, len(todo), PARALLEL):  # one process per core
                    started = {name: start(name) for name in todo[i : i + PARALLEL]}
                    for name, (out, proc) in started.items():
                        finish(name, out, proc)
            else:
                finish(scenario, *start(scenario))
        found = runs[scenario]
        if not found.result.get("ok"):
            pytest.fail(f"UI scenario {scenario} failed:\n{found.result.get('error', '')}\n{found.log[-3000:]}")
        return found

    return run
