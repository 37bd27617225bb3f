"""The staff JSON API: login, sessions, permissions, clocking, timesheets and the audit log."""

from __future__ import annotations

from typing import Any, Iterator

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from edge.staff import Principal, StaffStore
from edge.staff.api import require_permission, routers
from retail.clock import FakeClock


@pytest.fixture
def client(staff: StaffStore, owner: Principal) -> Iterator[TestClient]:
    app = FastAPI()
    app.state.staff_store = staff
    for router in routers():
        app.include_router(router)

    @app.get("/probe/pii")
    def probe(who: Principal = Depends(require_permission("members.view_pii"))) -> dict[str, str]:
        return {"who": who.id}

    staff.create(name="Ann", role="attendant", username="ann", password="ann-pass-123", actor=owner)
    with TestClient(app) as c:
        yield c


def login(client: TestClient, username: str, password: str) -> dict[str, str]:
    reply = client.post("/api/auth/login", json={"username": username, "password": password})
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['token']}"}


def test_login_returns_a_token_that_me_accepts(client: TestClient) -> None:
    headers = login(client, "olivia", "owner-pass-1")
    me = client.get("/api/auth/me", headers=headers).json()
    assert me["username"] == "olivia" and "staff.manage" in me["permissions"] and me["clocked_in"] is False


def test_requests_without_a_session_get_401(client: TestClient) -> None:
    assert client.get("/api/auth/me").status_code == 401
    assert client.get("/api/auth/me", headers={"Authorization": "Bearer nonsense"}).status_code == 401


def test_wrong_password_is_401_and_repeated_failures_lock_with_423(client: TestClient) -> None:
    for _ in range(2):
        assert client.post("/api/auth/login", json={"username": "ann", "password": "wrong-one"}).status_code == 401
    locked = client.post("/api/auth/login", json={"username": "ann", "password": "wrong-one"})
    assert locked.status_code == 423 and locked.json()["detail"]["locked_until"]
    assert client.post("/api/auth/login", json={"username": "ann", "password": "ann-pass-123"}).status_code == 423


def test_unknown_user_gets_the_same_401_as_a_wrong_password(client: TestClient) -> None:
    unknown = client.post("/api/auth/login", json={"username": "nobody", "password": "whatever1"})
    wrong = client.post("/api/auth/login", json={"username": "olivia", "password": "whatever1"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()


def test_require_permission_denies_an_attendant_and_allows_the_owner(client: TestClient) -> None:
    ann = login(client, "ann", "ann-pass-123")
    olivia = login(client, "olivia", "owner-pass-1")
    assert client.get("/probe/pii", headers=ann).status_code == 403
    assert client.get("/probe/pii", headers=olivia).json() == {"who": "S0001"}
    assert client.get("/api/staff", headers=ann).status_code == 403
    assert client.get("/api/audit", headers=ann).status_code == 403


def test_session_cookie_authenticates_the_console(client: TestClient) -> None:
    client.post("/api/auth/login", json={"username": "olivia", "password": "owner-pass-1"})
    assert client.get("/api/auth/me").json()["username"] == "olivia"
    client.post("/api/auth/logout")
    client.cookies.clear()
    assert client.get("/api/auth/me").status_code == 401


def test_manager_creates_staff_and_the_audit_api_shows_it(client: TestClient) -> None:
    olivia = login(client, "olivia", "owner-pass-1")
    made = client.post("/api/staff", headers=olivia, json={"name": "Max", "role": "manager", "username": "max",
                                                           "password": "max-pass-123"})
    assert made.status_code == 201 and made.json()["role"] == "manager"
    assert client.post("/api/staff", headers=olivia, json={"name": "X", "role": "wizard"}).status_code == 422
    entries: list[dict[str, Any]] = client.get("/api/audit", headers=olivia, params={"action": "staff.create"}).json()
    assert entries[0]["target"] == f"staff:{made.json()['id']}" and entries[0]["actor"] == "S0001"
    maxh = login(client, "max", "max-pass-123")
    assert client.post("/api/staff", headers=maxh, json={"name": "Eve", "role": "owner"}).status_code == 403


def test_clock_in_out_and_timesheet_over_http(client: TestClient, clock: FakeClock) -> None:
    ann = login(client, "ann", "ann-pass-123")
    me = client.get("/api/auth/me", headers=ann).json()["id"]
    assert client.post(f"/api/staff/{me}/clock-in", headers=ann).status_code == 200
    assert client.post(f"/api/staff/{me}/clock-in", headers=ann).status_code == 409
    clock.advance(hours=4, minutes=15)
    assert client.post(f"/api/staff/{me}/clock-out", headers=ann).status_code == 200
    sheet = client.get(f"/api/staff/{me}/timesheet", headers=ann).json()
    assert sheet["days"] == [{"date": "2026-03-02", "minutes": 255, "hours": "4.25"}]
    assert sheet["weeks"][0]["minutes"] == 255 and sheet["total_hours"] == "4.25"
    assert client.get("/api/staff/S0001/timesheet", headers=ann).status_code == 403
