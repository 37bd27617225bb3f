"""HQ fixtures: every API test runs on SQLite and on a throwaway PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from hq.app import create_app
from hq.db import Database
from hq.security import PasswordHashing
from hq.services import users as user_svc
from hq.settings import Settings
from retail.clock import FakeClock
from tests.fixtures.postgres import ThrowawayPostgres
from tests.hq.helpers import ADMIN_PASSWORD, Harness

SECRET = "test-secret-key-0123456789abcdef"
START = datetime(2026, 3, 15, 12, 0, tzinfo=timezone.utc)


def fast_passwords() -> PasswordHashing:
    """argon2id with small costs: the same code path, quick enough for many logins."""
    return PasswordHashing(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture(scope="session")
def hq_pg_template(postgres_server: ThrowawayPostgres) -> str:
    """A PostgreSQL database migrated to head, cloned for each test."""
    name = "hq_template"
    url = postgres_server.create_database(name)
    with Database(Settings(database_url=url, environment="test", secret_key=SECRET)) as db:
        db.migrate()
    return name


@pytest.fixture(params=["sqlite", "postgres"])
def hq_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh HQ database URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hq.db'}"
        return
    server: ThrowawayPostgres = request.getfixturevalue("postgres_server")
    template = request.getfixturevalue("hq_pg_template")
    name = f"hq_{uuid.uuid4().hex[:12]}"
    url = server.create_database(name, template=template)
    yield url
    server.drop_database(name)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def hq_settings(hq_db_url: str) -> Settings:
    return Settings(database_url=hq_db_url, environment="test", secret_key=SECRET, token_grace_s=3600)


@pytest.fixture
def hq_db(hq_settings: Settings) -> Iterator[Database]:
    with Database(hq_settings) as db:
        db.migrate()
        with db.write() as s:
            user_svc.create_user(s, fast_passwords(), username="admin", password=ADMIN_PASSWORD, role="admin",
                                 store_ids=[], now=START)
        yield db


@pytest.fixture
def client(hq_settings: Settings, hq_db: Database, clock: FakeClock) -> Iterator[TestClient]:
    app = create_app(hq_settings, clock=clock, database=hq_db, passwords=fast_passwords())
    with TestClient(app) as c:
        yield c


@pytest.fixture
def hq(client: TestClient) -> Harness:
    h = Harness(client)
    h.admin = h.login("admin", ADMIN_PASSWORD)
    return h
