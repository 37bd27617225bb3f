"""The members JSON API: phone masking by role, enrolment, top-up permission, win-back."""

from __future__ import annotations

from typing import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from edge.members import MemberStore
from edge.members.api import routers as member_routers
from edge.staff import StaffStore
from edge.staff.api import routers as staff_routers
from retail.clock import FakeClock

FULL = "13812345678"
MASKED = "138****5678"


@pytest.fixture
def client(members: MemberStore, staff: StaffStore) -> Iterator[TestClient]:
    app = FastAPI()
    app.state.member_store = members
    app.state.staff_store = staff
    for router in [*staff_routers(), *member_routers()]:
        app.include_router(router)
    owner = staff.principal(staff.create(name="Olivia", role="owner", username="olivia", password="owner-pass-1",
                                         actor=None).id)
    staff.create(name="Ann", role="attendant", username="ann", password="ann-pass-123", actor=owner)
    staff.create(name="Sam", role="supervisor", username="sam", password="sam-pass-123", actor=owner)
    members.create(name="王小明", phone=FULL, email="wang@example.com", actor="S0001")
    with TestClient(app) as c:
        yield c


def auth(client: TestClient, username: str) -> dict[str, str]:
    token = client.post("/api/auth/login", json={"username": username, "password": f"{username}-pass-123"
                                                 if username != "olivia" else "owner-pass-1"}).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def test_search_masks_the_phone_for_an_attendant_and_shows_it_to_a_pii_role(client: TestClient) -> None:
    ann = client.get("/api/members", params={"phone": "5678"}, headers=auth(client, "ann"))
    olivia = client.get("/api/members", params={"phone": "5678"}, headers=auth(client, "olivia"))
    assert ann.status_code == olivia.status_code == 200
    assert ann.json()[0]["phone"] == MASKED and ann.json()[0]["email"] == "w***@example.com"
    assert FULL not in ann.text and "wang@example.com" not in ann.text
    assert olivia.json()[0]["phone"] == FULL and olivia.json()[0]["email"] == "wang@example.com"


def test_member_detail_is_masked_by_default(client: TestClient) -> None:
    detail = client.get("/api/members/M000001", headers=auth(client, "sam")).json()
    assert detail["phone"] == MASKED and detail["phone_masked"] is True and detail["birthday"] is None
    assert detail["points_balance"] == 0 and detail["stored_value_balance"]["minor"] == 0


def test_members_api_needs_a_signed_in_staff_member(client: TestClient) -> None:
    assert client.get("/api/members", params={"phone": "5678"}).status_code == 401


def test_enrol_then_find_by_full_phone(client: TestClient) -> None:
    ann = auth(client, "ann")
    made = client.post("/api/members", headers=ann, json={"name": "Amy", "phone": "+86 139 0000 1234",
                                                          "language": "en"})
    assert made.status_code == 201 and made.json()["phone"] == "861******1234"
    dup = client.post("/api/members", headers=ann, json={"name": "Amy 2", "phone": "8613900001234"})
    assert dup.status_code == 409
    found = client.get("/api/members", params={"phone": "8613900001234"}, headers=ann).json()
    assert [m["id"] for m in found] == [made.json()["id"]]


def test_top_up_needs_the_top_up_permission_and_shows_in_the_history(client: TestClient) -> None:
    body = {"amount": "100.00", "ref": "desk-7"}
    assert client.post("/api/members/M000001/top-ups", headers=auth(client, "ann"), json=body).status_code == 403
    sam = auth(client, "sam")
    done = client.post("/api/members/M000001/top-ups", headers=sam, json=body)
    assert done.status_code == 201 and done.json()["balance"]["minor"] == 11_000
    history = client.get("/api/members/M000001/stored-value", headers=sam).json()
    assert [e["kind"] for e in history["entries"]] == ["top_up"] and history["balance"]["minor"] == 11_000
    audit = client.get("/api/audit", headers=auth(client, "olivia"),
                       params={"action": "member.stored_value.top_up"}).json()
    assert audit[0]["actor"] == "S0003" and audit[0]["after"]["balance_minor"] == 11_000


def test_points_history_and_card_lookup(client: TestClient, members: MemberStore) -> None:
    members.adjust_points("M000001", 250, reason="welcome gift", actor="S0001")
    sam = auth(client, "sam")
    points = client.get("/api/members/M000001/points", headers=sam).json()
    assert points["balance"] == 250 and points["entries"][0]["kind"] == "adjusted"
    payload = client.get("/api/members/M000001/card", headers=sam).json()["payload"]
    assert client.post("/api/members/card", headers=sam, json={"payload": payload}).json()["id"] == "M000001"
    forged = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    assert client.post("/api/members/card", headers=sam, json={"payload": forged}).status_code == 422


def test_winback_list_over_http(client: TestClient, clock: FakeClock) -> None:
    clock.advance(days=120)
    listed = client.get("/api/members/winback", params={"months": 3}, headers=auth(client, "ann")).json()
    assert [(m["id"], m["phone"]) for m in listed] == [("M000001", MASKED)]
    assert client.get("/api/members/winback", params={"months": 6}, headers=auth(client, "ann")).json() == []
