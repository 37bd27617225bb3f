"""Presence in session order: a late will of an older connection never marks a kiosk offline."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from edge.presence import PresenceStatus, PresenceTracker

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def at(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


def test_birth_then_own_will_goes_offline() -> None:
    p = PresenceTracker()
    first = p.apply("k1", "online", 1, at=at(0))
    assert first is not None and first.before is None and first.after is PresenceStatus.ONLINE
    change = p.apply("k1", "lost", 1, at=at(5))
    assert change is not None and change.after is PresenceStatus.OFFLINE
    assert p.get("k1").status is PresenceStatus.OFFLINE  # type: ignore[union-attr]


def test_late_will_of_an_older_session_after_the_new_birth_is_ignored() -> None:
    p = PresenceTracker()
    p.apply("k1", "online", 3, at=at(0))
    p.apply("k1", "online", 4, at=at(10))  # reconnected before the broker noticed the old socket
    assert p.apply("k1", "lost", 3, at=at(12)) is None
    assert p.get("k1").status is PresenceStatus.ONLINE  # type: ignore[union-attr]
    assert p.get("k1").session == 4  # type: ignore[union-attr]
    assert p.stale == 1


def test_replayed_birth_of_a_session_known_dead_is_stale() -> None:
    p = PresenceTracker()
    p.apply("k1", "online", 2, at=at(0))
    p.apply("k1", "lost", 2, at=at(5))
    assert p.apply("k1", "online", 2, at=at(6)) is None
    assert p.get("k1").status is PresenceStatus.OFFLINE  # type: ignore[union-attr]
    back = p.apply("k1", "online", 3, at=at(9))
    assert back is not None and back.before is PresenceStatus.OFFLINE and back.after is PresenceStatus.ONLINE


def test_will_seen_first_after_an_edge_restart_marks_offline() -> None:
    p = PresenceTracker()
    change = p.apply("k1", "lost", 7, at=at(0))
    assert change is not None and change.after is PresenceStatus.OFFLINE


def test_repeated_birth_changes_nothing_and_keeps_since() -> None:
    p = PresenceTracker()
    p.apply("k1", "online", 1, at=at(0))
    assert p.apply("k1", "online", 1, at=at(30)) is None
    assert p.get("k1").since == at(0)  # type: ignore[union-attr]


def test_other_messages_refresh_last_seen_only() -> None:
    p = PresenceTracker()
    p.seen("k2", at(1))
    assert p.get("k2").status is PresenceStatus.UNKNOWN  # type: ignore[union-attr]
    p.apply("k2", "online", 1, at=at(2))
    p.seen("k2", at(40))
    assert p.get("k2").last_seen == at(40)  # type: ignore[union-attr]
    assert p.get("k2").since == at(2)  # type: ignore[union-attr]


@pytest.mark.parametrize("status,session", [("maybe", 1), ("online", 0), ("online", True)])
def test_malformed_state_is_refused(status: str, session: object) -> None:
    with pytest.raises(ValueError):
        PresenceTracker().apply("k1", status, session, at=at(0))  # type: ignore[arg-type]
