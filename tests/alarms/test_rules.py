"""Raise and clear delays, hysteresis, one open alarm per key, event (latching) alarms."""

from __future__ import annotations

import pytest

from edge.alarms import AlarmSettings, AlarmState, AlarmStateError, Transition
from tests.alarms._helpers import off, on, reading

K = "kiosk-01"


def test_blip_shorter_than_the_raise_delay_is_never_raised_nor_notified(make_engine, clock, notifier, store):
    engine = make_engine()  # cover_open: raise after 10 s
    engine.observe(on(K, "printer", "cover_open"))
    clock.advance(5)
    engine.tick()
    assert engine.alarm(f"{K}/printer/cover_open").alarm.state is AlarmState.PENDING
    engine.observe(off(K, "printer", "cover_open"))
    clock.advance(60)
    engine.tick()
    assert engine.open_alarms() == []
    assert notifier.notifications == []
    assert [h.transition for h in store.history(key=f"{K}/printer/cover_open")] == [Transition.PENDING, Transition.DISCARDED]


def test_condition_held_for_the_raise_delay_becomes_active_and_notifies_once(make_engine, clock, notifier):
    engine = make_engine()
    engine.observe(on(K, "printer", "cover_open"))
    clock.advance(9.9)
    engine.tick()
    assert notifier.notifications == []
    clock.advance(0.1)
    engine.tick()
    engine.observe(on(K, "printer", "cover_open"))  # the same condition reported again
    clock.advance(30)
    engine.tick()
    view = engine.alarm(f"{K}/printer/cover_open")
    assert view.alarm.state is AlarmState.ACTIVE
    assert notifier.transitions() == ["raised"]
    n = notifier.notifications[0]
    assert (n.severity.value, n.key, n.kiosk_id) == ("major", f"{K}/printer/cover_open", K)
    assert "Printer cover open" in n.text_en and "打印机盖未关" in n.text_zh


def test_clear_waits_for_the_clear_delay_and_a_return_within_it_keeps_the_same_alarm(make_engine, clock, notifier):
    engine = make_engine()  # paper_out: raise at once, clear after 10 s
    first = engine.observe(on(K, "printer", "paper_out"))
    assert first is not None and first.alarm.state is AlarmState.ACTIVE
    engine.observe(off(K, "printer", "paper_out"))
    clock.advance(9)
    engine.tick()
    again = engine.observe(on(K, "printer", "paper_out"))
    assert again is not None and again.alarm.id == first.alarm.id
    assert again.alarm.occurrences == 2
    engine.observe(off(K, "printer", "paper_out"))
    clock.advance(9)
    engine.tick()
    assert len(engine.open_alarms()) == 1
    clock.advance(1)
    engine.tick()
    assert engine.open_alarms() == []
    assert notifier.transitions() == ["raised", "cleared"]


def test_numeric_hysteresis_raises_at_80_and_clears_only_below_75(make_engine, notifier):
    settings = AlarmSettings().with_rule("cpu/hot", raise_delay_s=0, clear_delay_s=0)
    engine = make_engine(settings)
    key = f"{K}/cpu/hot"
    engine.observe(reading(K, "cpu", "hot", 79.9))
    assert engine.open_alarms() == []
    engine.observe(reading(K, "cpu", "hot", 80.0))
    assert engine.alarm(key).alarm.state is AlarmState.ACTIVE
    for temp in (78.0, 76.0, 75.0, 79.0):  # in the band: stays on
        engine.observe(reading(K, "cpu", "hot", temp))
        assert engine.alarm(key).alarm.value == temp
    engine.observe(reading(K, "cpu", "hot", 74.9))
    assert engine.open_alarms() == []
    engine.observe(reading(K, "cpu", "hot", 78.0))  # below the raise threshold: stays off
    assert engine.open_alarms() == []
    assert notifier.transitions() == ["raised", "cleared"]


def test_low_direction_hysteresis_for_free_disk(make_engine, notifier):
    engine = make_engine()  # disk/low: on at <= 10 %, off above 15 %
    engine.observe(reading(K, "disk", "low", 9.5))
    engine.observe(reading(K, "disk", "low", 14.0))
    assert [v.alarm.key for v in engine.open_alarms()] == [f"{K}/disk/low"]
    engine.observe(reading(K, "disk", "low", 15.5))
    assert engine.open_alarms() == []


def test_one_open_alarm_per_key_counts_occurrences(make_engine, notifier):
    engine = make_engine()
    for _ in range(3):
        engine.observe(on(K, "ingest", "dead_letter", detail="bad json"))
    views = engine.open_alarms()
    assert len(views) == 1
    assert views[0].alarm.occurrences == 3
    assert notifier.transitions() == ["raised"]


def test_event_alarm_stays_until_resolved_then_a_new_event_opens_a_new_alarm(make_engine, notifier, store):
    engine = make_engine()
    first = engine.observe(on(K, "cash_drawer", "opened_without_sale"))
    assert first is not None
    engine.observe(off(K, "cash_drawer", "opened_without_sale"))  # an all-clear does not close an event alarm
    assert engine.alarm(first.alarm.id).alarm.state is AlarmState.ACTIVE
    engine.resolve(first.alarm.id, by="manager-li", comment="counted the drawer, all there")
    assert engine.open_alarms() == []
    second = engine.observe(on(K, "cash_drawer", "opened_without_sale"))
    assert second is not None and second.alarm.id != first.alarm.id and second.alarm.occurrences == 1
    assert notifier.transitions() == ["raised", "resolved", "raised"]
    resolved = [h for h in store.history(first.alarm.id) if h.transition is Transition.RESOLVED]
    assert resolved[0].who == "manager-li" and resolved[0].comment == "counted the drawer, all there"


def test_resolving_an_alarm_whose_condition_still_holds_is_refused(make_engine):
    engine = make_engine()
    engine.observe(on(K, "printer", "paper_out"))
    with pytest.raises(AlarmStateError):
        engine.resolve(f"{K}/printer/paper_out", by="amy")


def test_unknown_condition_uses_the_fallback_rule(make_engine, clock, notifier):
    engine = make_engine()
    engine.observe(on(K, "printer", "smells_of_smoke"))
    clock.advance(30)
    engine.tick()
    view = engine.alarm(f"{K}/printer/smells_of_smoke")
    assert view.alarm.severity.value == "minor"
    assert "smells_of_smoke" in view.label_en
    assert notifier.transitions() == ["raised"]
