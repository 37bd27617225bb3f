"""Edge settings are validated at start-up; placeholder secrets are refused outside development."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from edge.errors import EdgeConfigError
from edge.settings import EdgeSettings

GOOD = dict(store_id="s1", data_dir=Path("/tmp/x"), broker_port=8883, broker_password="k3v9-Qz81-LmPa",
            badge_secret=b"9f2c1d7e8a6b5c4d3e2f1a0b", card_secret=b"0a1b2c3d4e5f60718293a4b5")


def make(**changes: Any) -> EdgeSettings:
    return EdgeSettings(**{**GOOD, **changes})


def test_valid_settings_name_the_files_under_the_data_folder() -> None:
    s = make()
    assert (s.ledger_path.name, s.db_path.name, s.alarms_path.name) == ("edge.sqlite3", "edge.sqlite3", "alarms.sqlite3")
    assert "k3v9" not in repr(s) and "9f2c" not in repr(s)


@pytest.mark.parametrize("changes", [
    {"badge_secret": b"changeme-changeme-changeme"},
    {"card_secret": b"short"},
    {"broker_password": "password123"},
    {"store_id": "s 1"},
    {"web_port": 70000},
    {"webhook_url": "ftp://x"},
    {"fast_hashing": True},
    {"notify_window_s": 10.0, "notify_max_delay_s": 5.0},
])
def test_bad_or_placeholder_settings_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(EdgeConfigError):
        make(**changes)


def test_development_mode_allows_placeholders() -> None:
    assert make(badge_secret=b"changeme-changeme-changeme", development=True, fast_hashing=True).development
