"""Persistence: an edge restart loses no state and repeats no notification; the store contract
holds for the SQLite store and its in-memory simulator alike."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from edge.alarms import (
    Alarm,
    AlarmEngine,
    AlarmNotFoundError,
    AlarmState,
    AlarmStore,
    AlarmStoreClosedError,
    AlarmStoreSchemaError,
    Category,
    HistoryEntry,
    MaintenanceWindow,
    Notification,
    RecordingNotifier,
    Severity,
    Silence,
    SimulatedAlarmRepository,
    StoreChanges,
    Transition,
    observations_from_health,
)
from tests.alarms._helpers import off, on

K = "kiosk-01"

SNAPSHOT = {
    "kiosk_id": K,
    "interval_s": 30,
    "clock_synced": True,
    "cpu_temp_c": 85.0,
    "outbox_pending": 0,
    "devices": [
        {"device": "printer", "status": "fault", "code": "paper_out", "detail": "", "since": "2026-01-05T08:00:00+00:00"},
        {"device": "scale", "status": "ok", "code": "", "detail": "", "since": "2026-01-05T08:00:00+00:00"},
    ],
}


def test_restart_continues_with_no_lost_state_and_no_repeated_notification(db_path, clock):
    first_notes = RecordingNotifier()
    with AlarmStore(db_path) as store:
        engine = AlarmEngine(store, clock=clock, notifier=first_notes)
        engine.observe_many(observations_from_health(SNAPSHOT))
        clock.advance(60)
        engine.tick()  # cpu/hot raised after 60 s
        engine.observe(on(K, "ingest", "dead_letter"))
        engine.observe(on(K, "ingest", "dead_letter"))
        engine.acknowledge(f"{K}/printer/paper_out", by="amy", comment="on it", for_s=900)
        before = {v.alarm.key: v.alarm for v in engine.open_alarms()}
        history_before = len(store.history())
    assert first_notes.transitions() == ["raised", "raised", "raised", "acknowledged"]

    # the edge restarts: a new store object and engine over the same file
    second_notes = RecordingNotifier()
    with AlarmStore(db_path) as store:
        engine = AlarmEngine(store, clock=clock, notifier=second_notes)
        after = {v.alarm.key: v.alarm for v in engine.open_alarms()}
        assert after == before
        assert after[f"{K}/ingest/dead_letter"].occurrences == 2
        # the kiosks re-publish what they had: nothing new to tell
        engine.observe_many(observations_from_health(SNAPSHOT))
        clock.advance(5)
        engine.tick()
        assert second_notes.notifications == []
        assert {v.alarm.key: v.alarm.id for v in engine.open_alarms()} == {k: a.id for k, a in before.items()}
        # timers carry on across the restart: the acknowledgement expires 900 s after it was given
        clock.advance(900 - 60 - 5 + 60)
        engine.tick()
        assert [(n.key, n.transition.value) for n in second_notes.notifications
                if n.transition is not Transition.ESCALATED] == [(f"{K}/printer/paper_out", "ack_expired")]
        engine.observe(off(K, "printer", "paper_out"))
        clock.advance(10)
        engine.tick()
        assert second_notes.notifications[-1].transition is Transition.CLEARED
        assert len(store.history()) > history_before
        with AlarmStore(db_path) as reader:  # another process reading the same file sees the same history
            assert reader.history() == store.history()


def test_notification_not_handed_over_before_a_crash_is_sent_once_after_restart(db_path, clock):
    broken = RecordingNotifier()
    broken.fail_next(1)
    with AlarmStore(db_path) as store:
        engine = AlarmEngine(store, clock=clock, notifier=broken)
        engine.observe(on(K, "printer", "paper_out"))
        assert broken.notifications == [] and len(store.unsent_notifications()) == 1
    # crash here; the next edge process sends it on its first tick
    for expected in (1, 0):
        notes = RecordingNotifier()
        with AlarmStore(db_path) as store:
            engine = AlarmEngine(store, clock=clock, notifier=notes)
            engine.tick()
            assert len(notes.notifications) == expected
            assert store.unsent_notifications() == []


def test_failed_notifier_is_retried_on_the_next_tick_without_duplicates(make_engine, notifier, store):
    notifier.fail_next(2)
    engine = make_engine()
    engine.observe(on(K, "printer", "paper_out"))
    engine.tick()
    assert notifier.notifications == []
    engine.tick()
    engine.tick()
    assert notifier.transitions() == ["raised"]
    assert store.sent_count() == 1


def test_store_refuses_a_schema_written_by_newer_software(db_path):
    AlarmStore(db_path).close()
    raw = sqlite3.connect(db_path)
    raw.execute("PRAGMA user_version = 99")
    raw.close()
    with pytest.raises(AlarmStoreSchemaError):
        AlarmStore(db_path)


def test_store_is_durable_and_history_is_append_only(store, db_path, make_engine):
    assert store.pragmas() == {"journal_mode": "wal", "synchronous": 2}
    assert store.schema_version == 1
    make_engine().observe(on(K, "printer", "paper_out"))
    raw = sqlite3.connect(db_path)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            raw.execute("UPDATE alarm_history SET who = 'mallory'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            raw.execute("DELETE FROM alarm_history")
    finally:
        raw.close()


# -- the repository contract, for both implementations ------------------------------------------

@pytest.fixture(params=["sqlite", "simulated"])
def repo(request, tmp_path):
    r = AlarmStore(tmp_path / "contract.db") if request.param == "sqlite" else SimulatedAlarmRepository()
    yield r
    r.close()


def _alarm(clock, key: str = f"{K}/printer/paper_out", alarm_id: str = "a1") -> Alarm:
    scope, device, condition = key.split("/")
    now = clock.now()
    return Alarm(alarm_id, key, scope, device, condition, Severity.MAJOR, Category.DEVICE, AlarmState.ACTIVE,
                 now, now, raised_at=now, value=1.5, detail="empty", ack_until=now + timedelta(hours=1))


def test_repository_round_trips_alarms_history_and_trackers(repo, clock):
    from edge.alarms.model import KeyTracker

    a = _alarm(clock)
    h = HistoryEntry(a.id, a.key, Transition.RAISED, AlarmState.PENDING, AlarmState.ACTIVE, clock.now(), "amy", "c")
    t = KeyTracker(a.key, True, clock.now(), 2.0, [clock.now()])
    repo.apply(StoreChanges(upsert=[a], history=[h], trackers=[t]))
    a.occurrences = 99  # what the caller keeps is not what is stored
    got = repo.open_alarms()
    assert len(got) == 1 and got[0].occurrences == 1 and got[0].ack_until == a.ack_until
    assert repo.history(a.id) == [h] and repo.history(key="other") == []
    assert repo.trackers() == [t]
    # a new alarm for the same key replaces the old row: one open alarm per key
    repo.apply(StoreChanges(upsert=[_alarm(clock, alarm_id="a2")], delete=["a1"], drop_trackers=[a.key]))
    assert [x.id for x in repo.open_alarms()] == ["a2"] and repo.trackers() == []


def test_repository_notifications_outbox(repo, clock):
    n = Notification("a1:1:raised", "a1", f"{K}/printer/paper_out", K, Transition.RAISED, Severity.MAJOR, 0,
                     "en text", "中文", clock.now())
    assert not repo.known_notification(n.id)
    repo.apply(StoreChanges(notifications=[n]))
    repo.apply(StoreChanges(notifications=[n]))  # a replay is ignored
    assert repo.unsent_notifications() == [n] and repo.known_notification(n.id)
    repo.mark_sent([n.id], clock.now())
    assert repo.unsent_notifications() == [] and repo.known_notification(n.id)


def test_repository_silences_and_maintenance_windows(repo, clock):
    now = clock.now()
    s = Silence("s1", f"{K}/*", now, now + timedelta(hours=1), "amy", "why")
    w = MaintenanceWindow("w1", K, now, now + timedelta(hours=2), "wang")
    repo.add_silence(s)
    repo.add_maintenance(w)
    assert repo.silences() == [s] and repo.maintenance_windows() == [w]
    ended = repo.end_silence("s1", now + timedelta(minutes=5))
    assert ended.ends_at == now + timedelta(minutes=5) and repo.silences() == [ended]
    assert repo.end_maintenance("w1", now + timedelta(minutes=1)).ends_at == now + timedelta(minutes=1)
    with pytest.raises(AlarmNotFoundError):
        repo.end_silence("nope", now)
    with pytest.raises(AlarmNotFoundError):
        repo.end_maintenance("nope", now)


def test_repository_close_is_idempotent_and_refuses_later_use(repo):
    repo.close()
    repo.close()
    with pytest.raises(AlarmStoreClosedError):
        repo.open_alarms()


@pytest.mark.parametrize("kind", ["sqlite", "simulated"])
def test_engine_behaves_the_same_on_both_repositories(kind, tmp_path, clock):
    repo = AlarmStore(tmp_path / "same.db") if kind == "sqlite" else SimulatedAlarmRepository()
    notes = RecordingNotifier()
    engine = AlarmEngine(repo, clock=clock, notifier=notes)
    engine.observe(on(K, "printer", "paper_out"))
    engine.acknowledge(f"{K}/printer/paper_out", by="amy", for_s=60)
    clock.advance(60)
    engine.tick()
    engine.observe(off(K, "printer", "paper_out"))
    clock.advance(10)
    engine.tick()
    assert notes.transitions() == ["raised", "acknowledged", "ack_expired", "cleared"]
    assert [h.transition.value for h in repo.history()] == ["pending", "raised", "acknowledged", "ack_expired", "cleared"]
    repo.close()
