"""The alarms router and the console API: who may do what, history filters, remote approval."""

from __future__ import annotations

import uuid
from typing import Callable

import pytest
from fastapi.testclient import TestClient

from broker.contract import kiosk_topic
from edge.monitor import decode_staff_command, help_detail

from tests.edge.conftest import STORE, Rig, event_msg, health_msg, state_msg

K1 = "kiosk-01"
Login = Callable[..., dict[str, str]]


@pytest.fixture
def client(rig: Rig) -> TestClient:
    return TestClient(rig.app)


def _paper_out(rig: Rig) -> str:
    rig.feed(state_msg(K1, "online", 1, rig.clock.now()))
    rig.feed(health_msg(K1, rig.clock.now(), printer="fault", code="paper_out"))
    return rig.engine.alarm(f"{K1}/printer/paper_out").alarm.id


def test_reading_alarms_needs_a_signed_in_staff_member(rig: Rig, client: TestClient, login: Login) -> None:
    _paper_out(rig)
    assert client.get("/api/alarms").status_code == 401
    rows = client.get("/api/alarms", headers=login(client, "ann")).json()
    assert [(a["key"], a["severity"], a["label_zh"]) for a in rows] == [(f"{K1}/printer/paper_out", "major", "小票纸已用完")]


def test_attendant_acknowledges_with_a_comment_and_it_is_audited(rig: Rig, client: TestClient, login: Login) -> None:
    alarm_id = _paper_out(rig)
    r = client.post(f"/api/alarms/{alarm_id}/ack", json={"comment": "new roll on the way"}, headers=login(client, "ann"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["state"], body["acked_by"], body["ack_comment"]) == ("acknowledged", rig.staff_ids["ann"], "new roll on the way")
    audit = rig.staff.audit_entries(action="alarms.ack")
    assert [e.target for e in audit] == [f"alarm:{K1}/printer/paper_out"]


def test_attendant_may_not_silence_but_a_supervisor_may(rig: Rig, client: TestClient, login: Login) -> None:
    alarm_id = _paper_out(rig)
    assert client.post(f"/api/alarms/{alarm_id}/silence", json={"minutes": 30},
                       headers=login(client, "ann")).status_code == 403
    r = client.post(f"/api/alarms/{alarm_id}/silence", json={"minutes": 30, "scope": "kiosk"}, headers=login(client, "sam"))
    assert r.status_code == 201, r.text
    assert r.json()["pattern"] == f"{K1}/*"
    listed = client.get("/api/alarms", headers=login(client, "ann")).json()
    assert listed[0]["suppressed"] == "silenced"


def test_clearing_is_refused_while_the_condition_holds(rig: Rig, client: TestClient, login: Login) -> None:
    alarm_id = _paper_out(rig)
    headers = login(client, "ann")
    assert client.post(f"/api/alarms/{alarm_id}/resolve", json={}, headers=headers).status_code == 409
    assert client.post("/api/alarms/nope/ack", json={}, headers=headers).status_code == 404


def test_history_filters_by_kiosk_transition_and_time(rig: Rig, client: TestClient, login: Login) -> None:
    alarm_id = _paper_out(rig)
    rig.feed(health_msg("kiosk-02", rig.clock.now(), printer="fault", code="paper_out"))
    headers = login(client, "sam")
    client.post(f"/api/alarms/{alarm_id}/ack", json={"comment": "ok"}, headers=headers)
    rows = client.get("/api/alarms/history", params={"kiosk": K1, "transition": "acknowledged"}, headers=headers).json()
    assert [(r["key"], r["who"], r["comment"]) for r in rows] == [(f"{K1}/printer/paper_out", rig.staff_ids["sam"], "ok")]
    raised = client.get("/api/alarms/history", params={"transition": "raised"}, headers=headers).json()
    assert sorted(r["kiosk_id"] for r in raised) == [K1, "kiosk-02"]
    later = (rig.clock.now().replace(year=2030)).isoformat()
    assert client.get("/api/alarms/history", params={"since": later}, headers=headers).json() == []
    assert client.get("/api/alarms/history", params={"severity": "critical"}, headers=headers).json() == []


def test_remote_age_approval_needs_the_permission_and_publishes_the_command(rig: Rig, client: TestClient, login: Login) -> None:
    rig.feed(state_msg(K1, "online", 1, rig.clock.now()))
    rig.feed(event_msg(K1, "intervention_requested", help_detail("req-7", "price_override", note="¥12 -> ¥10"),
                       rig.clock.now(), event_id=str(uuid.uuid4())))
    rig.feed(event_msg(K1, "age_check_requested", help_detail("req-8", "age_restricted"), rig.clock.now(),
                       event_id=str(uuid.uuid4())))
    ann = login(client, "ann")
    assert client.post(f"/api/console/assistance/{K1}/req-7/decide", json={"approve": True}, headers=ann).status_code == 403
    assert client.post(f"/api/console/assistance/{K1}/nope/decide", json={}, headers=ann).status_code == 404
    r = client.post(f"/api/console/assistance/{K1}/req-8/decide", json={"approve": True, "why": "ID checked"}, headers=ann)
    assert r.status_code == 200, r.text
    cmds = [decode_staff_command(p) for p in rig.publisher.on(kiosk_topic(STORE, K1, "cmd"))]
    approvals = [c for c in cmds if c.kind == "approve"]
    assert [(c.request_id, c.staff_id, c.approve, c.why) for c in approvals] == [("req-8", rig.staff_ids["ann"], True, "ID checked")]
    assert rig.staff.audit_entries(action="interventions.approve")[0].target == f"kiosk:{K1}"


def test_snapshot_names_the_signed_in_staff_and_their_permissions(rig: Rig, client: TestClient, login: Login) -> None:
    _paper_out(rig)
    snap = client.get("/api/console/snapshot", headers=login(client, "ann")).json()
    assert snap["me"]["role"] == "attendant" and "alarms.ack" in snap["me"]["permissions"]
    assert "alarms.silence" not in snap["me"]["permissions"]
    assert snap["kiosks"][0]["kiosk_id"] == K1 and len(snap["alarms"]) == 1


def test_console_page_and_assets_are_served_without_external_resources(client: TestClient) -> None:
    page = client.get("/console/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    for asset in ("/console/static/console.js", "/console/static/console.css"):
        r = client.get(asset)
        assert r.status_code == 200
        assert "http://" not in r.text and "https://" not in r.text
    assert "https://" not in page.text and "http://" not in page.text
