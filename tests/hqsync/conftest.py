"""HQ-sync fixtures: one real HQ process for the whole folder (SQLite, a free port)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.hq.test_sync_faults import HqProcess
from tests.hqsync.helpers import LiveHq


@pytest.fixture(scope="session")
def live_hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHq]:
    """``python -m hq.cli run`` on SQLite, started once for this folder's tests, with an admin login."""
    folder = tmp_path_factory.mktemp("hq")
    url = f"sqlite:///{folder / 'hq.db'}"
    proc = HqProcess(url, folder / "hq.log")
    hq = LiveHq(proc, url)
    hq.cli("migrate")
    proc.start()
    try:
        hq.login_admin()
        yield hq
    finally:
        proc.stop()
