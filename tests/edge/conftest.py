"""Fixtures of the edge service tests: an in-process console rig (monitor, engine, staff, app;
no broker) and settings for a full :class:`EdgeService` against a private Mosquitto."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from fastapi import FastAPI

from broker.contract import DeviceEvent, DeviceReport, Health, KioskState, encode, kiosk_topic
from broker.endpoint import MqttEndpoint
from edge.alarms import AlarmEngine, RecordingNotifier, SimulatedAlarmRepository
from edge.app import EdgeServices, create_app
from edge.monitor import (
    LiveHub,
    MemoryCursorStore,
    ObservedAlarmRepository,
    SimulatedBusPublisher,
    StoreMonitor,
    monitor_settings,
)
from edge.settings import EdgeSettings
from edge.staff import HashSettings, StaffSettings, StaffStore
from retail.clock import FakeClock

STORE = "s1"
PASSWORDS = {"olga": "owner-pass-123", "sam": "supervisor-pass-123", "ann": "attendant-pass-123"}
ROLES = {"olga": "owner", "sam": "supervisor", "ann": "attendant"}
BADGE = b"rig-badge-secret-0123456789"
CARD = b"rig-card-secret-0123456789ab"


def edge_settings(tmp_path: Path, endpoint: MqttEndpoint, **changes: Any) -> EdgeSettings:
    values: dict[str, Any] = dict(
        store_id=STORE, data_dir=tmp_path / "edge", broker_host=endpoint.host, broker_port=endpoint.port,
        broker_username=endpoint.username, broker_password=endpoint.password, badge_secret=BADGE, card_secret=CARD,
        web_host="127.0.0.1", web_port=0, development=True, fast_hashing=True, tick_s=0.2, keepalive_s=5,
        notify_window_s=0.5, notify_max_delay_s=2.0)
    values.update(changes)
    return EdgeSettings(**values)


def add_staff(store: StaffStore) -> dict[str, str]:
    ids = {}
    for user, role in ROLES.items():
        ids[user] = store.create(name=user.capitalize(), role=role, username=user, password=PASSWORDS[user], actor=None).id
    return ids


def health(kiosk: str, at: datetime, *, printer: str = "ok", code: str = "", interval_s: int = 5,
           outbox_pending: int = 0) -> Health:
    since = at - timedelta(minutes=5)
    return Health(kiosk_id=kiosk, at=at, interval_s=interval_s, clock_synced=True, outbox_pending=outbox_pending,
                  devices=[DeviceReport(device="printer", status=printer, code=code, since=since),  # type: ignore[arg-type]
                           DeviceReport(device="scanner", status="ok", since=since)])


def health_msg(kiosk: str, at: datetime, **kw: Any) -> tuple[str, bytes]:
    return kiosk_topic(STORE, kiosk, "health"), encode(health(kiosk, at, **kw))


def state_msg(kiosk: str, status: str, session: int, at: datetime) -> tuple[str, bytes]:
    return kiosk_topic(STORE, kiosk, "state"), encode(KioskState(kiosk_id=kiosk, status=status, session=session,  # type: ignore[arg-type]
                                                                 software_version="1.0", at=at))


def event_msg(kiosk: str, kind: str, detail: str, at: datetime, *, device: str = "assist", event_id: str) -> tuple[str, bytes]:
    return kiosk_topic(STORE, kiosk, "event"), encode(DeviceEvent(event_id=event_id, kiosk_id=kiosk, device=device,
                                                                  kind=kind, detail=detail, at=at))


@dataclass
class Rig:
    clock: FakeClock
    engine: AlarmEngine
    notifier: RecordingNotifier
    monitor: StoreMonitor
    publisher: SimulatedBusPublisher
    staff: StaffStore
    staff_ids: dict[str, str]
    app: FastAPI
    events: list[dict[str, Any]]

    def feed(self, msg: tuple[str, bytes]) -> None:
        self.monitor.handle(*msg)
        self.monitor.flush()


class RecordingHub(LiveHub):
    """A hub that also keeps every event it was given (for assertions)."""

    def __init__(self, sink: list[dict[str, Any]]) -> None:
        super().__init__()
        self._sink = sink

    def publish(self, event: dict[str, Any]) -> None:
        self._sink.append(event)
        super().publish(event)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    clock = FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc))
    notifier = RecordingNotifier()
    repo = ObservedAlarmRepository(SimulatedAlarmRepository())
    engine = AlarmEngine(repo, clock=clock, notifier=notifier, settings=monitor_settings())
    events: list[dict[str, Any]] = []
    publisher = SimulatedBusPublisher()
    monitor = StoreMonitor(STORE, engine, clock=clock, hub=RecordingHub(events), publisher=publisher,
                           cursor=MemoryCursorStore())
    repo.listener = monitor.poke
    staff = StaffStore.open(tmp_path / "edge.sqlite3", clock=clock,
                            settings=StaffSettings(badge_secret=BADGE, hashing=HashSettings.for_tests()))
    ids = add_staff(staff)
    settings = EdgeSettings(store_id=STORE, data_dir=tmp_path, broker_port=1, broker_password="x",
                            badge_secret=BADGE, card_secret=CARD, development=True)
    app = create_app(settings, EdgeServices(clock=clock, staff_store=staff, alarm_engine=engine, monitor=monitor))
    yield Rig(clock, engine, notifier, monitor, publisher, staff, ids, app, events)
    staff.close()
    monitor.hub.close()


@pytest.fixture
def login() -> Callable[..., dict[str, str]]:
    """``login(client, "ann")`` -> the Authorization header of a fresh session."""

    def do(client: Any, user: str) -> dict[str, str]:
        r = client.post("/api/auth/login", json={"username": user, "password": PASSWORDS[user]})
        assert r.status_code == 200, r.text
        client.cookies.clear()
        return {"Authorization": f"Bearer {r.json()['token']}"}

    return do
