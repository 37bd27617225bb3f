"""Migrations match the models on both backends; settings refuse placeholder secrets; the served
app takes its settings from the environment."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from pydantic import ValidationError

from hq.app import GC_YOUNG_THRESHOLD, served_app
from hq.db import Database
from hq.migrations import current_revision, head_revision
from hq.models import Base
from hq.settings import Settings


def test_migrations_build_exactly_the_models(hq_db: Database) -> None:
    assert current_revision(hq_db.engine) == head_revision()
    with hq_db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


def test_migrating_twice_changes_nothing(hq_db: Database) -> None:
    hq_db.migrate()
    assert current_revision(hq_db.engine) == head_revision()


def test_a_placeholder_secret_is_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="placeholder"):
        Settings(environment="production", secret_key="changethis")
    with pytest.raises(ValidationError):
        Settings(environment="production", secret_key="short")
    assert Settings(environment="development").secret_key.get_secret_value() == "changethis"
    assert Settings(environment="production", secret_key="a-real-secret-of-some-length").environment == "production"


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TILLPI_HQ_DATABASE_URL", "sqlite:////tmp/elsewhere.db")
    monkeypatch.setenv("TILLPI_HQ_TOKEN_GRACE_S", "60")
    s = Settings()
    assert (s.database_url, s.token_grace_s) == ("sqlite:////tmp/elsewhere.db", 60)


def test_the_served_app_takes_its_settings_from_the_environment_and_collects_garbage_less_often(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TILLPI_HQ_DATABASE_URL", f"sqlite:///{tmp_path / 'served.db'}")
    monkeypatch.setenv("TILLPI_HQ_ENVIRONMENT", "test")
    monkeypatch.setenv("TILLPI_HQ_SECRET_KEY", "served-secret-0123456789abcdef")
    monkeypatch.setenv("TILLPI_HQ_INGEST_CONCURRENCY", "3")
    before = gc.get_threshold()
    try:
        app = served_app()
        assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, *before[1:])
        with TestClient(app) as client:
            assert client.get("/healthz").status_code == 200
            slots = app.state.hq.ingest_slots
            assert [slots.acquire(blocking=False) for _ in range(4)] == [True, True, True, False]
        assert (tmp_path / "served.db").exists()
    finally:
        gc.set_threshold(*before)
