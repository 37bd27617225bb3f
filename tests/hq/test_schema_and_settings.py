"""Migrations match the models on both backends; settings refuse placeholder secrets."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from pydantic import ValidationError

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
