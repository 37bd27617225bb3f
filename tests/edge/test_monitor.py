"""The store monitor's mapping: bus messages -> alarms, console events, retained alarm topics,
kiosk lights and remote approvals (fake clock, simulated publisher, no broker)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from broker.contract import alarm_topic, kiosk_topic
from edge.alarms import AlarmEngine, AlarmState, GroupingNotifier, RecordingNotifier, SimulatedAlarmRepository
from edge.ledger import AlarmEvent
from edge.monitor import (
    MemoryCursorStore,
    ObservedAlarmRepository,
    StoreMonitor,
    decode_staff_command,
    help_detail,
    monitor_settings,
)
from edge.monitor.commands import AlarmMessage
from retail.clock import FakeClock

from tests.edge.conftest import STORE, Rig, event_msg, health_msg, state_msg

K1 = "kiosk-01"


def _open(rig: Rig) -> dict[str, AlarmState]:
    return {v.alarm.key: v.alarm.state for v in rig.engine.open_alarms()}


def _commands(rig: Rig, kiosk: str = K1) -> list:
    return [decode_staff_command(p) for p in rig.publisher.on(kiosk_topic(STORE, kiosk, "cmd"))]


def test_paper_out_in_health_raises_an_alarm_published_retained_and_live(rig: Rig) -> None:
    now = rig.clock.now()
    rig.feed(state_msg(K1, "online", 1, now))
    rig.feed(health_msg(K1, now, printer="fault", code="paper_out"))
    assert _open(rig)[f"{K1}/printer/paper_out"] is AlarmState.ACTIVE
    retained = rig.publisher.retained[alarm_topic(STORE, K1, "printer", "paper_out")]
    msg = AlarmMessage.model_validate_json(retained)
    assert (msg.severity, msg.state, msg.label_zh) == ("major", "active", "小票纸已用完")
    live = [e for e in rig.events if e["type"] == "alarms"]
    assert live and any(a["key"] == f"{K1}/printer/paper_out" for a in live[-1]["alarms"])
    kiosk = [e for e in rig.events if e["type"] == "kiosk"][-1]["kiosk"]
    assert kiosk["status"] == "online" and kiosk["devices"][0]["code"] == "paper_out"


def test_cleared_alarm_deletes_its_retained_topic(rig: Rig) -> None:
    now = rig.clock.now()
    rig.feed(health_msg(K1, now, printer="fault", code="paper_out"))
    rig.clock.advance(5)
    rig.feed(health_msg(K1, rig.clock.now()))
    rig.clock.advance(11)  # paper_out clears after 10 s without it
    rig.monitor.tick()
    rig.monitor.flush()
    topic = alarm_topic(STORE, K1, "printer", "paper_out")
    assert topic not in rig.publisher.retained
    assert rig.publisher.on(topic)[-1] == b""


def test_kiosk_light_follows_its_alarms_and_assistance(rig: Rig) -> None:
    now = rig.clock.now()
    rig.feed(state_msg(K1, "online", 1, now))
    assert [c.light for c in _commands(rig)] == ["idle"]
    rig.feed(health_msg(K1, now, printer="fault", code="paper_out"))
    assert _commands(rig)[-1].light == "alarm"
    alarm = rig.engine.alarm(f"{K1}/printer/paper_out")
    rig.engine.acknowledge(alarm.alarm.id, by="S0003", comment="on my way")
    rig.monitor.flush()
    assert _commands(rig)[-1].light == "idle"
    rig.feed(event_msg(K1, "help_requested", help_detail("r-1", "help"), now, event_id=str(uuid.uuid4())))
    assert _commands(rig)[-1].light == "assistance"


def test_will_marks_offline_and_a_late_older_will_does_not(rig: Rig) -> None:
    now = rig.clock.now()
    rig.feed(state_msg(K1, "online", 5, now))
    rig.feed(state_msg(K1, "online", 6, now))  # reconnected
    rig.feed(state_msg(K1, "lost", 5, now))  # the old connection's will, late
    assert f"{K1}/kiosk/offline" not in _open(rig)
    assert rig.monitor.presence.stale == 1
    rig.feed(state_msg(K1, "lost", 6, now))
    assert _open(rig)[f"{K1}/kiosk/offline"] is AlarmState.ACTIVE


def test_device_alarms_of_an_offline_kiosk_are_marked_stale(rig: Rig) -> None:
    now = rig.clock.now()
    rig.feed(state_msg(K1, "online", 1, now))
    rig.feed(health_msg(K1, now, printer="fault", code="paper_out"))
    rig.feed(state_msg(K1, "lost", 1, now))
    views = {v.alarm.key: v for v in rig.engine.open_alarms()}
    assert views[f"{K1}/printer/paper_out"].stale
    live = {a["key"]: a for a in [e for e in rig.events if e["type"] == "alarms"][-1]["alarms"]}
    assert live[f"{K1}/printer/paper_out"]["stale"] is True


def test_missing_health_for_three_intervals_is_an_alarm(rig: Rig) -> None:
    now = rig.clock.now()
    rig.feed(state_msg(K1, "online", 1, now))
    rig.feed(health_msg(K1, now, interval_s=5))
    rig.clock.advance(14)
    rig.monitor.tick()
    assert f"{K1}/kiosk/health_missing" not in _open(rig)
    rig.clock.advance(2)
    rig.monitor.tick()
    assert _open(rig)[f"{K1}/kiosk/health_missing"] is AlarmState.ACTIVE
    rig.feed(health_msg(K1, rig.clock.now(), interval_s=5))
    assert f"{K1}/kiosk/health_missing" not in _open(rig)


def test_printer_flapping_for_ten_minutes_is_one_alarm_and_at_most_two_notifications(rig: Rig) -> None:
    rig.feed(state_msg(K1, "online", 1, rig.clock.now()))
    rig.notifier.clear()
    for i in range(200):  # every 3 s for 10 minutes, paper out on every other snapshot
        rig.feed(health_msg(K1, rig.clock.now(), printer="fault" if i % 2 == 0 else "ok",
                            code="paper_out" if i % 2 == 0 else "", interval_s=3))
        rig.monitor.tick()
        rig.clock.advance(3)
    printer = [k for k in _open(rig) if "/printer/" in k]
    assert printer == [f"{K1}/printer/paper_out"]
    sent = [n for n in rig.notifier.notifications if n.key == f"{K1}/printer/paper_out"]
    assert 1 <= len(sent) <= 2, [n.transition.value for n in sent]
    assert rig.engine.alarm(f"{K1}/printer/paper_out").alarm.flapping


def test_help_request_with_basket_becomes_an_assistance_request_and_remote_approval(rig: Rig) -> None:
    now = rig.clock.now()
    rig.feed(state_msg(K1, "online", 1, now))
    detail = help_detail("req-42", "age_restricted", note="Baijiu 500 ml", lines=3, total_minor=4560, currency="CNY",
                         items=[("Baijiu 500 ml", 1), ("Green tea 500 ml", 2)])
    rig.feed(event_msg(K1, "age_check_requested", detail, now, event_id=str(uuid.uuid4())))
    [req] = rig.monitor.assistance_json()
    assert (req["request_id"], req["reason"], req["total_minor"], req["items"][1]["quantity"]) == ("req-42", "age_restricted", 4560, 2)
    assert req["permission"] == "interventions.approve.age" and req["remote"]
    alarm = rig.engine.alarm(f"{K1}/assist/age_check").alarm
    assert alarm.state is AlarmState.ACTIVE and "Baijiu" in alarm.detail
    cmd = rig.monitor.approve(K1, "req-42", staff_id="S0003", approve=True, why="ID seen")
    sent = [c for c in _commands(rig) if c.kind == "approve"]
    assert sent == [cmd] and (cmd.request_id, cmd.staff_id, cmd.approve) == ("req-42", "S0003", True)
    assert rig.monitor.assistance_json()[0]["decision"]["by"] == "S0003"
    rig.feed(event_msg(K1, "age_check_approved", json.dumps({"r": "req-42"}), now, event_id=str(uuid.uuid4())))
    assert rig.monitor.assistance_json() == []
    assert f"{K1}/assist/age_check" not in _open(rig)


def test_plain_text_help_is_accepted_but_not_remotely_approvable(rig: Rig) -> None:
    rig.feed(event_msg(K1, "help_requested", "scanner will not read", rig.clock.now(), event_id=str(uuid.uuid4())))
    [req] = rig.monitor.assistance_json()
    assert req["note"] == "scanner will not read" and req["remote"] is False


def test_invalid_messages_are_counted_not_raised(rig: Rig) -> None:
    rig.feed((kiosk_topic(STORE, K1, "health"), b"{not json"))
    rig.feed(("tillpi/s1/nonsense", b"x"))
    assert rig.monitor.invalid_messages == 2
    assert _open(rig) == {}


class _FakeLedger:
    def __init__(self) -> None:
        self.events: list[AlarmEvent] = []

    def alarm_events(self, kind: str | None = None) -> list[AlarmEvent]:
        return list(self.events)


def test_ledger_alarm_events_are_fed_once_across_a_restart() -> None:
    clock = FakeClock()
    ledger, cursor = _FakeLedger(), MemoryCursorStore()
    ledger.events.append(AlarmEvent("dead_letter", "tillpi/s1/kiosk/kiosk-02/sale", "invalid_json: x", clock.now().isoformat()))
    repo = SimulatedAlarmRepository()
    engine = AlarmEngine(repo, clock=clock, notifier=RecordingNotifier(), settings=monitor_settings())
    monitor = StoreMonitor(STORE, engine, clock=clock, ledger=ledger, cursor=cursor)
    assert monitor.poll_ledger() == 1
    alarm = engine.alarm("kiosk-02/ingest/dead_letter")
    engine.resolve(alarm.alarm.id, by="S0001", comment="looked at it")
    again = StoreMonitor(STORE, AlarmEngine(repo, clock=clock, notifier=RecordingNotifier(), settings=monitor_settings()),
                         clock=clock, ledger=ledger, cursor=cursor)
    assert again.poll_ledger() == 0
    assert again.engine.open_alarms() == []


def test_an_edge_reboot_that_sees_many_kiosks_offline_is_one_message() -> None:
    clock = FakeClock()
    inner = RecordingNotifier()
    grouping = GroupingNotifier(inner, clock=clock, window_s=5, max_delay_s=30)
    engine = AlarmEngine(ObservedAlarmRepository(SimulatedAlarmRepository()), clock=clock, notifier=grouping,
                         settings=monitor_settings())
    monitor = StoreMonitor(STORE, engine, clock=clock)
    for n in range(1, 7):  # retained wills of six kiosks arrive together after the restart
        monitor.handle(*state_msg(f"kiosk-0{n}", "lost", 3, clock.now()))
        clock.advance(0.1)
    monitor.tick()
    assert inner.batches == []
    clock.advance(6)
    monitor.tick()
    assert len(inner.batches) == 1 and len(inner.batches[0]) == 6
