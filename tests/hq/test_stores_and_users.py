"""Stores, edge enrolment, token rotation with a grace period, users and their roles."""

from __future__ import annotations

from retail.clock import FakeClock
from tests.hq.helpers import Harness, batch, make_sale


def test_enrolment_code_gives_a_working_token_once(hq: Harness) -> None:
    hq.client.post("/api/v1/stores", json={"store_id": "s1", "name": "One"}, headers=hq.admin)
    code = hq.client.post("/api/v1/stores/s1/enrolment-codes", headers=hq.admin).json()["code"]
    r = hq.client.post("/api/v1/stores/enrol", json={"code": code})
    assert r.status_code == 200 and r.json()["store_id"] == "s1"
    edge = {"Authorization": f"Bearer {r.json()['token']}"}
    assert hq.client.get("/api/v1/stores/me", headers=edge).json()["store_id"] == "s1"
    assert hq.client.post("/api/v1/stores/enrol", json={"code": code}).status_code == 401


def test_enrolment_code_expires(hq: Harness, clock: FakeClock) -> None:
    hq.client.post("/api/v1/stores", json={"store_id": "s1", "name": "One"}, headers=hq.admin)
    code = hq.client.post("/api/v1/stores/s1/enrolment-codes", headers=hq.admin).json()["code"]
    clock.advance(hours=25)
    assert hq.client.post("/api/v1/stores/enrol", json={"code": code}).status_code == 401


def test_rotated_token_keeps_the_old_one_for_the_grace_period(hq: Harness, clock: FakeClock) -> None:
    old = hq.create_store("s1")
    r = hq.client.post("/api/v1/stores/me/token", headers=old)
    assert r.status_code == 200
    new = {"Authorization": f"Bearer {r.json()['token']}"}
    assert hq.client.get("/api/v1/stores/me", headers=old).status_code == 200
    assert hq.client.get("/api/v1/stores/me", headers=new).status_code == 200
    clock.advance(seconds=3601)  # grace is one hour in the test settings
    assert hq.client.get("/api/v1/stores/me", headers=old).status_code == 401
    assert hq.client.get("/api/v1/stores/me", headers=new).status_code == 200


def test_admin_rotation_can_revoke_a_leaked_token_at_once(hq: Harness) -> None:
    old = hq.create_store("s1")
    r = hq.client.post("/api/v1/stores/s1/token", json={"revoke_old": True}, headers=hq.admin)
    new = {"Authorization": f"Bearer {r.json()['token']}"}
    assert hq.client.get("/api/v1/stores/me", headers=old).status_code == 401
    assert hq.client.post("/api/v1/sync/batches", json=batch("s1", [make_sale("s1", "k1", 1)]), headers=new).status_code == 200


def test_a_duplicate_store_id_is_a_conflict(hq: Harness) -> None:
    hq.create_store("s1")
    r = hq.client.post("/api/v1/stores", json={"store_id": "s1", "name": "Again"}, headers=hq.admin)
    assert r.status_code == 409


def test_a_store_cannot_sell_in_another_currency_than_the_chain(hq: Harness) -> None:
    r = hq.client.post("/api/v1/stores", json={"store_id": "s9", "name": "X", "currency": "EUR"}, headers=hq.admin)
    assert r.status_code == 400


def test_login_with_a_wrong_password_fails(hq: Harness) -> None:
    hq.create_user("ana", "analyst")
    r = hq.client.post("/api/v1/login", json={"username": "ana", "password": "wrong-password"})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"


def test_logout_ends_the_session(hq: Harness) -> None:
    ana = hq.create_user("ana", "analyst")
    assert hq.client.get("/api/v1/users/me", headers=ana).json()["role"] == "analyst"
    assert hq.client.post("/api/v1/logout", headers=ana).status_code == 204
    assert hq.client.get("/api/v1/users/me", headers=ana).status_code == 401


def test_sessions_expire(hq: Harness, clock: FakeClock) -> None:
    ana = hq.create_user("ana", "analyst")
    clock.advance(hours=8, seconds=1)
    assert hq.client.get("/api/v1/users/me", headers=ana).status_code == 401


def test_roles_limit_what_a_user_may_do(hq: Harness) -> None:
    hq.create_store("s1")
    hq.create_store("s2")
    ana = hq.create_user("ana", "analyst")
    mgr = hq.create_user("mia", "store_manager", ["s1"])
    # only an admin creates stores, users and catalogue versions
    for who in (ana, mgr):
        assert hq.client.post("/api/v1/stores", json={"store_id": "s3", "name": "x"}, headers=who).status_code == 403
        assert hq.client.get("/api/v1/users", headers=who).status_code == 403
        assert hq.client.post("/api/v1/catalogue/changes", json={}, headers=who).status_code == 403
    # an analyst sees every store; a store manager only theirs
    assert [s["store_id"] for s in hq.client.get("/api/v1/stores", headers=ana).json()] == ["s1", "s2"]
    assert [s["store_id"] for s in hq.client.get("/api/v1/stores", headers=mgr).json()] == ["s1"]
    assert hq.client.get("/api/v1/summaries/stores/s2", headers=mgr).status_code == 403
    assert hq.client.get("/api/v1/summaries/stores/s1", headers=mgr).status_code == 200
    assert hq.client.get("/api/v1/summaries/stores/s2", headers=ana).status_code == 200
    chain = hq.client.get("/api/v1/summaries/chain", headers=mgr).json()
    assert [s["store_id"] for s in chain["stores"]] == ["s1"]


def test_users_are_listed_for_admins_with_their_stores(hq: Harness) -> None:
    hq.create_store("s1")
    hq.create_user("mia", "store_manager", ["s1"])
    users = {u["username"]: u for u in hq.client.get("/api/v1/users", headers=hq.admin).json()}
    assert users["mia"]["store_ids"] == ["s1"] and users["admin"]["role"] == "admin"
    r = hq.client.post("/api/v1/users", json={"username": "mia", "password": "another-pass", "role": "analyst"},
                       headers=hq.admin)
    assert r.status_code == 409
