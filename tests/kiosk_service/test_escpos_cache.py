"""python-escpos keeps its printer database cache in one folder, not a new temporary one per start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _start(env: dict[str, str]) -> str:
    """A fresh process that does what ``tillpi kiosk`` does first, then imports escpos."""
    code = ("from kiosk.cli import use_escpos_cache; use_escpos_cache(); "
            "import escpos.capabilities as c; print(c.pickle_dir)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                          check=True)
    return done.stdout.strip().splitlines()[-1]


def test_every_start_uses_the_same_cache_folder_and_finds_the_database_there(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("ESCPOS_CAPABILITIES_PICKLE_DIR", "CACHE_DIRECTORY")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    first, second = _start(env), _start(env)
    assert first == second == str(tmp_path / "cache" / "tillpi" / "escpos")
    assert list(Path(first).glob("*.capabilities.pickle")), "the parsed database is kept for the next start"


def test_the_service_cache_directory_wins_and_a_set_variable_is_kept(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "ESCPOS_CAPABILITIES_PICKLE_DIR"}
    env["CACHE_DIRECTORY"] = str(tmp_path / "systemd-cache")
    assert _start(env) == str(tmp_path / "systemd-cache" / "escpos")
    env["ESCPOS_CAPABILITIES_PICKLE_DIR"] = str(tmp_path)
    assert _start(env) == str(tmp_path)
