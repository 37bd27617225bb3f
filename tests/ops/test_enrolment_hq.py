"""HttpHqEnrolment against the real HQ app (hq.app.create_app on SQLite, in-process).

If the HQ API changes shape, this is the test that says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from broker.config import StoreBrokerConfig
from tillpi_ops.errors import EnrolmentRefusedError
from tillpi_ops.hq_enrolment import HttpHqEnrolment
from tillpi_ops.provision import provision_edge

SECRET = "ops-test-secret-0123456789abcdef"
START = datetime(2026, 3, 15, 12, 0, tzinfo=timezone.utc)
ADMIN_PASSWORD = "admin-password-1"


@pytest.fixture
def hq_client(tmp_path: Path) -> Iterator[TestClient]:
    from hq.app import create_app
    from hq.db import Database
    from hq.security import PasswordHashing
    from hq.services import users as user_svc
    from hq.settings import Settings
    from retail.clock import FakeClock

    passwords = PasswordHashing(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'hq.db'}", environment="test", secret_key=SECRET)
    with Database(settings) as db:
        db.migrate()
        with db.write() as s:
            user_svc.create_user(s, passwords, username="admin", password=ADMIN_PASSWORD, role="admin",
                                 store_ids=[], now=START)
        app = create_app(settings, clock=FakeClock(START), database=db, passwords=passwords)
        with TestClient(app) as client:
            yield client


def _enrolment_code(client: TestClient, store_id: str) -> str:
    token = client.post("/api/v1/login", json={"username": "admin", "password": ADMIN_PASSWORD}).json()["token"]
    admin = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/stores", json={"store_id": store_id, "name": "Store"}, headers=admin).status_code == 201
    return str(client.post(f"/api/v1/stores/{store_id}/enrolment-codes", headers=admin).json()["code"])


def test_an_edge_enrols_with_the_real_hq_api(hq_client: TestClient, tmp_path: Path) -> None:
    code = _enrolment_code(hq_client, "s4")
    port = HttpHqEnrolment("http://testserver", client=hq_client)
    done = provision_edge(port, code, hq_url="https://hq.example", broker_data=tmp_path / "broker",
                          edge_data=tmp_path / "edge")
    assert done.store_id == "s4" and StoreBrokerConfig.load(tmp_path / "broker").store_id == "s4"
    token = done.token_file.read_text().strip()
    assert hq_client.get("/api/v1/stores/me", headers={"Authorization": f"Bearer {token}"}).json()["store_id"] == "s4"
    with pytest.raises(EnrolmentRefusedError):
        port.enrol(code)
