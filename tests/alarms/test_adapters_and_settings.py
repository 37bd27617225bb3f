"""Health snapshots, presence, device events and ledger alarms become the right observations;
settings are validated and per-store overrides take effect."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from broker.contract import DeviceReport, Health
from edge.alarms import (
    AlarmConfigError,
    AlarmRequestError,
    AlarmSettings,
    Category,
    HealthWatchdog,
    Observation,
    Rule,
    Severity,
    observation_from_ledger_alarm,
    observation_from_presence,
    observations_from_event,
    observations_from_health,
)
from tests.alarms._helpers import reading

K = "kiosk-03"
AT = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


def _active(observations: list[Observation]) -> dict[str, Observation]:
    return {o.key: o for o in observations if o.active}


def _by_key(observations: list[Observation]) -> dict[str, Observation]:
    return {o.key: o for o in observations}


def test_bus_health_snapshot_becomes_device_and_machine_observations():
    health = Health(
        kiosk_id=K, at=AT, interval_s=30, cpu_temp_c=83.5, throttled=True, disk_free_mb=300, clock_synced=False,
        outbox_pending=4, oldest_pending_age_s=420,
        devices=[
            DeviceReport(device="printer", status="fault", code="paper_out", detail="roll empty", since=AT),
            DeviceReport(device="scanner", status="degraded", code="low_frame_rate", detail="4 fps", since=AT),
            DeviceReport(device="scale", status="ok", since=AT),
            DeviceReport(device="bag_scale", status="fault", code="weird_code", detail="???", since=AT),
        ],
    )
    obs = observations_from_health(health.model_dump(mode="json", by_alias=True))
    active = _active(obs)
    assert sorted(active) == sorted([
        f"{K}/printer/paper_out", f"{K}/scanner/low_frame_rate", f"{K}/bag_scale/fault",
        f"{K}/cpu/hot", f"{K}/cpu/throttled", f"{K}/disk/low_mb", f"{K}/clock/unsynced", f"{K}/outbox/backlog",
    ])
    assert active[f"{K}/printer/paper_out"].detail == "roll empty"
    assert active[f"{K}/bag_scale/fault"].detail == "weird_code: ???"  # unknown code: generic status rule
    assert (active[f"{K}/cpu/hot"].value, active[f"{K}/outbox/backlog"].value) == (83.5, 420.0)
    assert active[f"{K}/printer/paper_out"].at == AT
    everything = _by_key(obs)
    # what is not reported is reported clear, so a change of code clears the previous one
    for key in (f"{K}/printer/paper_low", f"{K}/printer/offline", f"{K}/scale/overload",
                f"{K}/scale/unstable", f"{K}/kiosk/health_missing"):
        assert everything[key].active is False, key


def test_kiosk_collector_snapshot_shape_is_understood_too():
    snapshot = {  # what kiosk.health.HealthSnapshot.to_dict() produces
        "taken_at": AT.isoformat(), "status": "degraded", "warnings": ["cpu_hot"], "cpu_temp_c": 70.0,
        "throttling": {"raw": "0x50005", "now": ["under_voltage", "throttled"], "since_boot": []},
        "disk": {"path": "/", "total_bytes": 1000, "free_bytes": 50}, "clock_sync": "synced",
        "devices": [{"device": "printer", "status": "degraded", "code": "paper_low", "detail": "", "since": AT.isoformat()}],
    }
    obs = _by_key(observations_from_health(snapshot, kiosk_id=K))
    assert obs[f"{K}/cpu/hot"].active is False and obs[f"{K}/cpu/hot"].value == 70.0
    assert obs[f"{K}/cpu/throttled"].active and obs[f"{K}/cpu/throttled"].detail == "under_voltage, throttled"
    assert obs[f"{K}/disk/low"].active and obs[f"{K}/disk/low"].value == 5.0
    assert obs[f"{K}/clock/unsynced"].active is False
    assert obs[f"{K}/printer/paper_low"].active
    assert f"{K}/outbox/backlog" not in obs  # the collector does not know the outbox


def test_health_snapshot_without_a_kiosk_id_is_refused():
    with pytest.raises(AlarmRequestError):
        observations_from_health({"devices": []})


def test_printer_going_from_paper_low_to_paper_out_clears_one_and_raises_the_other(make_engine, clock, notifier):
    engine = make_engine()

    def snap(status: str, code: str) -> dict:
        return {"kiosk_id": K, "clock_synced": True, "outbox_pending": 0,
                "devices": [{"device": "printer", "status": status, "code": code, "detail": "", "since": AT.isoformat()}]}

    engine.observe_many(observations_from_health(snap("degraded", "paper_low")))
    clock.advance(60)
    engine.observe_many(observations_from_health(snap("fault", "paper_out")))
    clock.advance(30)
    engine.tick()
    assert [v.alarm.key for v in engine.open_alarms()] == [f"{K}/printer/paper_out"]
    assert [(n.key.rsplit("/", 1)[1], n.transition.value) for n in notifier.notifications] == [
        ("paper_low", "raised"), ("paper_out", "raised"), ("paper_low", "cleared")]


def test_presence_and_the_health_watchdog_feed_the_offline_conditions():
    lost = observation_from_presence(K, "lost", at=AT)
    assert (lost.key, lost.active) == (f"{K}/kiosk/offline", True)
    assert observation_from_presence(K, "online").active is False
    with pytest.raises(AlarmRequestError):
        observation_from_presence(K, "sleepy")
    dog = HealthWatchdog(missed_intervals=3)
    dog.seen(K, AT, 30)
    dog.seen("kiosk-04", AT + timedelta(seconds=60), 30)
    assert dog.check(AT + timedelta(seconds=89)) == []
    overdue = dog.check(AT + timedelta(seconds=90))
    assert [(o.key, o.active, o.value) for o in overdue] == [(f"{K}/kiosk/health_missing", True, 90.0)]


def test_device_events_map_to_drawer_assistance_and_bagging_conditions():
    def event(kind: str, device: str = "cash_drawer") -> list[tuple[str, bool]]:
        return [(o.key, o.active) for o in observations_from_event(
            {"kiosk_id": K, "device": device, "kind": kind, "detail": "", "at": AT.isoformat()})]

    assert event("opened_without_sale") == [(f"{K}/cash_drawer/opened_without_sale", True)]
    assert event("left_open") == [(f"{K}/cash_drawer/left_open", True)]
    assert event("closed") == [(f"{K}/cash_drawer/left_open", False)]
    assert event("help_requested", "ui") == [(f"{K}/assist/help", True)]
    assert event("help_answered", "ui") == [(f"{K}/assist/help", False)]
    assert event("age_check_requested", "ui") == [(f"{K}/assist/age_check", True)]
    assert event("bagging_mismatch", "bag_scale") == [(f"{K}/bagging/mismatch", True)]
    assert event("opened") == []


def test_ledger_alarm_events_become_sales_safety_observations():
    settings = AlarmSettings()
    dead = observation_from_ledger_alarm("dead_letter", f"tillpi/shop-1/kiosk/{K}/sale", "invalid_json: x")
    assert dead is not None and dead.key == f"{K}/ingest/dead_letter" and dead.active
    stray = observation_from_ledger_alarm("dead_letter", "tillpi/shop-1/weird", "bad_topic")
    assert stray is not None and stray.key == "store/ingest/dead_letter"
    reused = observation_from_ledger_alarm("sale_id_reused", f"{K}/0b7e7c1c-0000-4000-8000-000000000000", "x")
    assert reused is not None and reused.key == f"{K}/ledger/sale_id_reused"
    gap = observation_from_ledger_alarm("sequence_gap", K, "missing seq 5..7")
    filled = observation_from_ledger_alarm("sequence_gap_cleared", K, "seq 5..7 filled")
    assert gap is not None and filled is not None and gap.key == filled.key and gap.active and not filled.active
    for o in (dead, reused, gap):
        assert settings.rule_for(o.device, o.condition).category is Category.SALES_SAFETY
    assert observation_from_ledger_alarm("something_else", "k") is None


# -- settings ------------------------------------------------------------------------------------

@pytest.mark.parametrize("changes", [
    {"raise_delay_s": -1},
    {"clear_delay_s": float("nan")},
    {"raise_at": 70.0, "clear_at": 75.0},  # high direction: clear above raise
    {"raise_at": 80.0, "clear_at": None},
])
def test_invalid_rule_changes_are_refused(changes):
    with pytest.raises(AlarmConfigError):
        AlarmSettings().with_rule("cpu/hot", **changes)


def test_invalid_settings_are_refused():
    with pytest.raises(AlarmConfigError):
        AlarmSettings(flap_count=1)
    with pytest.raises(AlarmConfigError):
        AlarmSettings(ack_expiry_s=0)
    with pytest.raises(AlarmConfigError):
        AlarmSettings.from_mapping({"ack_expiry": 60})  # typo: refused, not ignored
    with pytest.raises(AlarmConfigError):
        AlarmSettings.from_mapping({"rules": {"cpu/hot": {"severity": "apocalyptic"}}})
    with pytest.raises(AlarmConfigError):
        AlarmSettings.from_mapping({"rules": {"scale/smoke": {"severity": "major"}}})  # a new rule needs labels
    with pytest.raises(AlarmConfigError):
        Rule(Severity.MAJOR, "x", "x", latching=True, raise_at=1.0, clear_at=1.0)


def test_store_overrides_from_a_mapping_change_the_engine(make_engine, notifier):
    settings = AlarmSettings.from_mapping({
        "escalate_after_s": {"major": 120},
        "rules": {
            "cpu/hot": {"raise_at": 85, "clear_at": 78, "raise_delay_s": 0},
            "scale/smoke": {"severity": "critical", "label_en": "Smoke", "label_zh": "冒烟"},
        },
    })
    assert settings.escalation_time(settings.rule_for("printer", "paper_out")) == 120
    engine = make_engine(settings)
    engine.observe(reading(K, "cpu", "hot", 84.0))
    assert engine.open_alarms() == []
    engine.observe(reading(K, "cpu", "hot", 85.0))
    assert [v.alarm.key for v in engine.open_alarms()] == [f"{K}/cpu/hot"]
    assert settings.rule_for("scale", "smoke").severity is Severity.CRITICAL
