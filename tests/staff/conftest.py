"""Fixtures of the staff tests: a staff store on a fresh edge database and a frozen clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest

from edge.staff import HashSettings, LockoutPolicy, Principal, StaffSettings, StaffStore
from retail.clock import FakeClock

BADGE_SECRET = b"test-badge-secret-0123456789"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc))  # a Monday


@pytest.fixture
def settings() -> StaffSettings:
    return StaffSettings(
        badge_secret=BADGE_SECRET,
        hashing=HashSettings.for_tests(),
        lockout=LockoutPolicy(max_attempts=3, lock_for=timedelta(minutes=10)),
        session_ttl=timedelta(hours=8),
    )


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "edge.sqlite3"


@pytest.fixture
def staff(db_path: Path, clock: FakeClock, settings: StaffSettings) -> Iterator[StaffStore]:
    with StaffStore.open(db_path, clock=clock, settings=settings) as store:
        yield store


@pytest.fixture
def owner(staff: StaffStore) -> Principal:
    member = staff.create(name="Olivia Owner", role="owner", username="olivia", password="owner-pass-1", pin="4821",
                          actor=None)
    return staff.principal(member.id)
