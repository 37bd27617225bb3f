"""Acknowledge and its expiry, escalation, flapping, inhibition, silences, maintenance windows."""

from __future__ import annotations

from datetime import timedelta

import pytest

from edge.alarms import (
    AlarmRequestError,
    AlarmSettings,
    AlarmState,
    AlarmStateError,
    Severity,
    Transition,
    observation_from_presence,
)
from tests.alarms._helpers import off, on, reading

K = "kiosk-01"


# -- acknowledge -------------------------------------------------------------------------------

def test_acknowledge_records_who_and_comment_and_expires_back_to_active(make_engine, clock, notifier, store):
    engine = make_engine()
    view = engine.observe(on(K, "printer", "paper_out"))
    assert view is not None
    acked = engine.acknowledge(view.alarm.id, by="amy", comment="fetching a new roll", for_s=600)
    assert acked.alarm.state is AlarmState.ACKNOWLEDGED
    assert (acked.alarm.acked_by, acked.alarm.ack_comment) == ("amy", "fetching a new roll")
    assert acked.alarm.ack_until == clock.now() + timedelta(seconds=600)
    clock.advance(599)
    engine.tick()
    assert engine.alarm(view.alarm.id).alarm.state is AlarmState.ACKNOWLEDGED
    clock.advance(1)
    engine.tick()
    back = engine.alarm(view.alarm.id).alarm
    assert back.state is AlarmState.ACTIVE and back.acked_by is None
    assert notifier.transitions() == ["raised", "acknowledged", "ack_expired"]
    ack_note = notifier.notifications[1]
    assert "amy" in ack_note.text_en and "fetching a new roll" in ack_note.text_en and "已确认" in ack_note.text_zh
    ack_rows = [h for h in store.history(view.alarm.id) if h.transition is Transition.ACKNOWLEDGED]
    assert (ack_rows[0].who, ack_rows[0].comment, ack_rows[0].from_state) == ("amy", "fetching a new roll", AlarmState.ACTIVE)


def test_acknowledged_alarm_clears_normally_when_the_condition_ends(make_engine, clock, notifier):
    engine = make_engine()
    engine.observe(on(K, "printer", "paper_out"))
    engine.acknowledge(f"{K}/printer/paper_out", by="amy")
    engine.observe(off(K, "printer", "paper_out"))
    clock.advance(10)
    engine.tick()
    assert engine.open_alarms() == []
    assert notifier.transitions() == ["raised", "acknowledged", "cleared"]


def test_acknowledge_is_refused_for_pending_alarms_and_without_a_name(make_engine):
    engine = make_engine()
    engine.observe(on(K, "printer", "cover_open"))  # pending for 10 s
    with pytest.raises(AlarmStateError):
        engine.acknowledge(f"{K}/printer/cover_open", by="amy")
    engine.observe(on(K, "printer", "paper_out"))
    with pytest.raises(AlarmRequestError):
        engine.acknowledge(f"{K}/printer/paper_out", by="  ")
    with pytest.raises(AlarmRequestError):
        engine.acknowledge(f"{K}/printer/paper_out", by="amy", for_s=0)


# -- escalation --------------------------------------------------------------------------------

def test_unacknowledged_alarms_escalate_after_the_time_of_their_severity(make_engine, clock, notifier):
    engine = make_engine()  # critical 300 s, major 900 s, minor 3600 s; at most 2 levels
    engine.observe(on(K, "cash_drawer", "opened_without_sale"))  # critical
    engine.observe(on(K, "printer", "paper_out"))  # major
    engine.observe(on("kiosk-02", "printer", "paper_low"))  # minor
    acked = engine.observe(on("kiosk-03", "printer", "paper_out"))  # major, acknowledged for a day
    assert acked is not None
    engine.acknowledge(acked.alarm.id, by="amy", for_s=86400)
    notifier.clear()

    def escalations() -> list[tuple[str, int, str]]:
        return [(n.key.split("/", 1)[0] + "/" + n.key.rsplit("/", 1)[1], n.level, n.severity.value)
                for n in notifier.notifications if n.transition is Transition.ESCALATED]

    for _ in range(60):  # one hour in 60 s steps
        clock.advance(60)
        engine.tick()
    assert escalations() == [
        ("kiosk-01/opened_without_sale", 1, "critical"),  # at 300 s
        ("kiosk-01/opened_without_sale", 2, "critical"),  # at 600 s, then capped at level 2
        ("kiosk-01/paper_out", 1, "critical"),  # at 900 s: major raised one level
        ("kiosk-01/paper_out", 2, "critical"),  # at 1800 s
        ("kiosk-02/paper_low", 1, "major"),  # at 3600 s
    ]
    assert engine.alarm(f"{K}/printer/paper_out").alarm.effective_severity is Severity.CRITICAL


def test_rule_escalation_override_makes_a_help_request_escalate_after_a_minute(make_engine, clock, notifier):
    engine = make_engine()
    engine.observe(on(K, "assist", "help"))
    clock.advance(59)
    engine.tick()
    assert notifier.transitions() == ["raised"]
    clock.advance(1)
    engine.tick()
    assert notifier.transitions() == ["raised", "escalated"]


# -- flapping ----------------------------------------------------------------------------------

def _flap_printer(engine, clock, *, seconds: int, period: int = 20, step: int = 5) -> None:
    up = True
    for t in range(0, seconds, step):
        if t % period == 0:
            engine.observe(on(K, "printer", "offline") if up else off(K, "printer", "offline"))
            up = not up
        engine.tick()
        clock.advance(step)


def test_printer_flapping_every_20_s_for_10_minutes_is_one_alarm_and_at_most_two_notifications(make_engine, clock, notifier):
    engine = make_engine()  # printer/offline: raise after 15 s, clear after 60 s; flapping = 5 ups in 10 min
    _flap_printer(engine, clock, seconds=600)
    views = engine.open_alarms()
    assert len(views) == 1
    alarm = views[0].alarm
    assert alarm.flapping and alarm.occurrences == 15
    assert len(notifier.notifications) <= 2
    assert notifier.transitions() == ["raised", "flapping"]


def test_flapping_holds_the_alarm_open_until_a_quiet_period_then_clears(make_engine, clock, notifier, store):
    engine = make_engine()  # quiet period 300 s
    _flap_printer(engine, clock, seconds=200)
    engine.observe(off(K, "printer", "offline"))
    last_change = clock.now()
    clock.advance(120)  # longer than the 60 s clear delay, shorter than the quiet period
    engine.tick()
    assert engine.alarm(f"{K}/printer/offline").alarm.flapping
    clock.set(last_change + timedelta(seconds=300))
    engine.tick()
    assert engine.open_alarms() == []
    assert notifier.transitions() == ["raised", "flapping", "cleared"]
    transitions = [h.transition for h in store.history(key=f"{K}/printer/offline")]
    assert Transition.FLAPPING_ENDED in transitions and transitions[-1] is Transition.CLEARED


def test_flapping_caps_notifications_even_with_no_delays(make_engine, clock, notifier):
    settings = AlarmSettings(flap_count=3).with_rule("printer/offline", raise_delay_s=0, clear_delay_s=0)
    engine = make_engine(settings)
    _flap_printer(engine, clock, seconds=600)  # 15 raise/clear cycles: 30 notifications without flapping
    assert notifier.transitions() == ["raised", "cleared", "raised", "cleared", "flapping"]
    assert len(engine.open_alarms()) == 1


# -- inhibition --------------------------------------------------------------------------------

def test_offline_kiosk_inhibits_its_device_alarms_but_not_sales_safety(make_engine, clock, notifier):
    engine = make_engine()
    engine.observe(on(K, "printer", "paper_out"))  # announced before the kiosk went away
    engine.observe(on(K, "printer", "cover_open"))  # still pending (10 s)
    clock.advance(1)
    engine.observe(observation_from_presence(K, "lost"))
    clock.advance(10)
    engine.tick()
    engine.observe(reading(K, "outbox", "backlog", 900.0))  # sales-safety, same kiosk
    engine.observe(on("kiosk-02", "printer", "paper_low"))  # another kiosk is not affected
    views = {v.alarm.key: v for v in engine.open_alarms()}
    assert views[f"{K}/printer/cover_open"].alarm.state is AlarmState.ACTIVE
    assert views[f"{K}/printer/cover_open"].stale and views[f"{K}/printer/cover_open"].suppressed == "inhibited"
    assert views[f"{K}/printer/paper_out"].stale
    assert not views[f"{K}/outbox/backlog"].stale and views[f"{K}/outbox/backlog"].suppressed is None
    assert [(n.key, n.transition.value) for n in notifier.notifications] == [
        (f"{K}/printer/paper_out", "raised"),
        (f"{K}/kiosk/offline", "raised"),
        (f"{K}/outbox/backlog", "raised"),
        ("kiosk-02/printer/paper_low", "raised"),
    ]
    # the kiosk comes back: the alarm raised while it was away is announced once
    notifier.clear()
    engine.observe(observation_from_presence(K, "online"))
    engine.tick()
    engine.tick()
    assert [(n.key, n.transition.value) for n in notifier.notifications] == [
        (f"{K}/kiosk/offline", "cleared"),
        (f"{K}/printer/cover_open", "announced"),
    ]
    assert not engine.alarm(f"{K}/printer/cover_open").stale


def test_inhibited_alarms_do_not_escalate(make_engine, clock, notifier):
    engine = make_engine()
    engine.observe(on(K, "printer", "paper_out"))
    engine.observe(observation_from_presence(K, "lost"))
    for _ in range(30):
        clock.advance(60)
        engine.tick()
    assert [n.transition for n in notifier.notifications if n.key.endswith("paper_out")] == [Transition.RAISED]


# -- silences and maintenance --------------------------------------------------------------------

def test_silence_by_pattern_until_its_end_then_still_raised_alarms_are_announced(make_engine, clock, notifier, store):
    engine = make_engine()
    silence = engine.add_silence(f"{K}/printer/*", until=clock.now() + timedelta(minutes=30), by="amy",
                                 comment="printer being replaced")
    engine.observe(on(K, "printer", "paper_out"))
    engine.observe(on(K, "printer", "paper_low"))
    engine.observe(on("kiosk-02", "printer", "paper_low"))  # not covered by the pattern
    engine.observe(off(K, "printer", "paper_low"))
    clock.advance(60)
    engine.tick()  # paper_low cleared while silenced: never told
    assert engine.alarm(f"{K}/printer/paper_out").suppressed == "silenced"
    assert [n.key for n in notifier.notifications] == ["kiosk-02/printer/paper_low"]
    clock.advance(29 * 60)
    engine.tick()
    assert [(n.key, n.transition.value) for n in notifier.notifications][1:] == [(f"{K}/printer/paper_out", "announced")]
    assert [s.id for s in store.silences()] == [silence.id] and store.silences()[0].by == "amy"
    assert engine.silences() == []  # over


def test_ending_a_silence_early_lets_notifications_through(make_engine, clock, notifier):
    engine = make_engine()
    silence = engine.add_silence("*", until=clock.now() + timedelta(hours=2), by="amy")
    engine.observe(on(K, "printer", "paper_out"))
    assert notifier.notifications == []
    engine.end_silence(silence.id, by="amy")
    engine.tick()
    assert notifier.transitions() == ["announced"]
    with pytest.raises(AlarmRequestError):
        engine.add_silence("*", until=clock.now(), by="amy")


def test_maintenance_window_mutes_device_alarms_not_sales_safety_until_its_end(make_engine, clock, notifier, store):
    engine = make_engine()
    window = engine.start_maintenance(K, until=clock.now() + timedelta(hours=1), by="tech-wang", comment="new scale")
    engine.observe(on(K, "scale", "overload"))
    engine.observe(on(K, "ledger", "sale_id_reused"))
    clock.advance(10)
    engine.tick()
    views = {v.alarm.key: v for v in engine.open_alarms()}
    assert views[f"{K}/scale/overload"].suppressed == "maintenance"
    assert notifier.transitions() == ["raised"] and notifier.notifications[0].key == f"{K}/ledger/sale_id_reused"
    assert store.maintenance_windows()[0].id == window.id
    clock.advance(3600)
    engine.tick()
    assert [n.transition.value for n in notifier.notifications if n.key == f"{K}/scale/overload"] == ["announced"]
