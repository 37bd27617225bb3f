"""Fixtures for the kiosk's composition root, settings and CLI: a clean environment, a fake
clock, gpiozero mock pins, health sources that do not read this machine."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from kiosk.health import FakeCommands, FakeFiles, HealthSources
from retail.clock import FakeClock


def clean_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """``os.environ`` (or ``base``) without any TILLPI_KIOSK_* or GPIOZERO_* variable."""
    env = dict(os.environ if base is None else base)
    for key in list(env):
        if key.startswith(("TILLPI_KIOSK_", "GPIOZERO_")):
            del env[key]
    return env


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the machine's kiosk settings or writes to the home folder."""
    for key in list(os.environ):
        if key.startswith(("TILLPI_KIOSK_", "GPIOZERO_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    f = MockFactory()
    yield f
    f.reset()


@pytest.fixture
def quiet_sources() -> HealthSources:
    """Health sources that see a healthy, Pi-less machine (no files, no commands)."""
    return HealthSources(FakeFiles(), FakeCommands(), lambda path: None)
