"""The staff console in a real Chromium against the whole edge service and a private Mosquitto:
sign in, see an alarm appear live, acknowledge it with a comment, approve an age check
remotely (the kiosk receives the command), switch to Chinese, and use it on a phone."""

from __future__ import annotations

import queue
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from broker.contract import DeviceEvent, DeviceReport, Health, KioskState, encode, kiosk_topic
from broker.launcher import LocalBroker
from edge.alarms import AlarmState
from edge.monitor import decode_staff_command, help_detail
from edge.service import EdgeService

from tests.edge.conftest import PASSWORDS, add_staff, edge_settings

K1, K2 = "kiosk-01", "kiosk-02"


def _health(kiosk: str, *, paper_out: bool = False, pending: int = 0) -> bytes:
    now = datetime.now(timezone.utc)
    since = now - timedelta(minutes=20)
    return encode(Health(
        kiosk_id=kiosk, at=now, interval_s=30, clock_synced=True, outbox_pending=pending,
        oldest_pending_age_s=40 if pending else None, cpu_temp_c=52.0,
        devices=[DeviceReport(device="printer", status="fault" if paper_out else "ok", code="paper_out" if paper_out else "",
                              detail="no paper" if paper_out else "", since=since),
                 DeviceReport(device="scanner", status="ok", since=since),
                 DeviceReport(device="scale", status="ok", since=since),
                 DeviceReport(device="drawer", status="ok", since=since)]))


def _state(kiosk: str, status: str = "online", session: int = 1) -> bytes:
    return encode(KioskState(kiosk_id=kiosk, status=status, session=session, software_version="1.4.2",  # type: ignore[arg-type]
                             at=datetime.now(timezone.utc)))


@pytest.fixture
def edge(store_broker: LocalBroker, tmp_path: Path) -> Iterator[EdgeService]:
    with EdgeService(edge_settings(tmp_path, store_broker.edge_endpoint(), store_name="Corner Shop")) as service:
        add_staff(service.staff_store)
        assert service.monitor_link.wait_connected(10)
        yield service


@pytest.fixture
def kiosk(store_broker: LocalBroker, mqtt_client: Callable[..., Any]) -> Any:
    probe = mqtt_client(store_broker.kiosk_endpoint(K1), K1)
    probe.connect()
    probe.subscribe(kiosk_topic("s1", K1, "cmd"))
    probe.publish(kiosk_topic("s1", K1, "state"), _state(K1), retain=True)
    probe.publish(kiosk_topic("s1", K1, "health"), _health(K1))
    other = mqtt_client(store_broker.kiosk_endpoint(K2), K2)
    other.connect()
    other.publish(kiosk_topic("s1", K2, "state"), _state(K2, session=3), retain=True)
    other.publish(kiosk_topic("s1", K2, "health"), _health(K2, pending=2))
    return probe


def _sign_in(page: Any, edge: EdgeService, user: str) -> None:
    page.goto(edge.url + "/console/")
    page.fill("#username", user)
    page.fill("#password", PASSWORDS[user])
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#live[data-state=on]")


def _next_command(probe: Any, kind: str) -> Any:
    while True:
        try:
            msg = probe.messages.get(timeout=10)
        except queue.Empty:
            raise AssertionError(f"the kiosk received no {kind} command") from None
        cmd = decode_staff_command(bytes(msg.payload))
        if cmd.kind == kind:
            return cmd


def test_console_live_alarm_ack_remote_approval_and_chinese(
        edge: EdgeService, kiosk: Any, new_page: Callable[..., Any], screenshot_dir: Path) -> None:
    page = new_page((1280, 860))
    page.goto(edge.url + "/console/")
    page.wait_for_selector("#login:not([hidden])")
    page.screenshot(path=str(screenshot_dir / "01-sign-in.png"))
    _sign_in(page, edge, "ann")
    page.click(".tab[data-tab=devices]")
    page.wait_for_selector(f".kiosk[data-kiosk={K2}][data-status=online]")
    page.screenshot(path=str(screenshot_dir / "02-devices.png"), full_page=True)
    page.click(".tab[data-tab=alarms]")

    # an alarm appears without a reload
    kiosk.publish(kiosk_topic("s1", K1, "health"), _health(K1, paper_out=True))
    card = page.wait_for_selector(f".alarm[data-key='{K1}/printer/paper_out'][data-state=active]")
    assert "Receipt paper out" in card.inner_text()
    page.screenshot(path=str(screenshot_dir / "03-alarm-live.png"), full_page=True)

    # acknowledge it with a comment
    card.query_selector("button[data-action=ack]").click()
    page.fill(f".alarm[data-key='{K1}/printer/paper_out'] .ackbox input", "Fetching a new roll")
    page.screenshot(path=str(screenshot_dir / "04-ack-comment.png"), full_page=True)
    page.click(f".alarm[data-key='{K1}/printer/paper_out'] .ackbox button[type=submit]")
    page.wait_for_selector(f".alarm[data-key='{K1}/printer/paper_out'][data-state=acknowledged]")
    view = edge.alarm_engine.alarm(f"{K1}/printer/paper_out")
    assert view.alarm.state is AlarmState.ACKNOWLEDGED and view.alarm.ack_comment == "Fetching a new roll"

    # an age check at the kiosk, approved from the console
    detail = help_detail("req-age-1", "age_restricted", note="Baijiu 52% 500 ml", lines=3, total_minor=13850,
                         currency="CNY", items=[("Baijiu 52% 500 ml", 1), ("Green tea 500 ml", 2), ("Peanuts", 1)])
    kiosk.publish(kiosk_topic("s1", K1, "event"), encode(DeviceEvent(
        event_id=str(uuid.uuid4()), kiosk_id=K1, device="assist", kind="age_check_requested", detail=detail,
        at=datetime.now(timezone.utc))))
    page.wait_for_selector("#n-assist.hot")
    page.click(".tab[data-tab=assist]")
    req = page.wait_for_selector(f".assist[data-kiosk={K1}][data-request=req-age-1]")
    assert "Baijiu" in req.inner_text() and "138.50" in req.inner_text()
    page.screenshot(path=str(screenshot_dir / "05-assistance.png"), full_page=True)
    req.query_selector("button[data-action=approve]").click()
    cmd = _next_command(kiosk, "approve")
    ann = next(m for m in edge.staff_store.list() if m.username == "ann")
    assert (cmd.request_id, cmd.staff_id, cmd.approve) == ("req-age-1", ann.id, True)
    page.wait_for_selector(f".assist[data-request=req-age-1] .sent")

    # Chinese
    page.click("#lang")
    page.wait_for_selector(".tab[data-tab=alarms] >> text=告警")
    page.click(".tab[data-tab=alarms]")
    assert "小票纸已用完" in page.inner_text(f".alarm[data-key='{K1}/printer/paper_out']")
    page.screenshot(path=str(screenshot_dir / "06-chinese.png"), full_page=True)
    page.click(".tab[data-tab=history]")
    page.wait_for_selector(".hrow[data-transition=acknowledged]")
    page.screenshot(path=str(screenshot_dir / "07-history-zh.png"), full_page=True)


def test_console_on_a_phone(edge: EdgeService, kiosk: Any, new_page: Callable[..., Any], screenshot_dir: Path) -> None:
    kiosk.publish(kiosk_topic("s1", K1, "health"), _health(K1, paper_out=True))
    page = new_page((390, 844), mobile=True)
    _sign_in(page, edge, "sam")
    page.wait_for_selector(f".alarm[data-key='{K1}/printer/paper_out']")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width} px)"
    box = page.query_selector(".alarm button[data-action=ack]").bounding_box()
    assert box is not None and box["height"] >= 44  # a finger-sized target
    page.screenshot(path=str(screenshot_dir / "phone-alarms.png"), full_page=True)
    page.click(".tab[data-tab=devices]")
    page.wait_for_selector(f".kiosk[data-kiosk={K1}]")
    page.screenshot(path=str(screenshot_dir / "phone-devices.png"), full_page=True)
