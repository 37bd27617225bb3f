"""HQ settings: typed, validated at start-up, read from ``TILLPI_HQ_*`` environment variables.

A placeholder secret key is refused outside development (FastAPI full-stack template rule).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hq.errors import HqConfigError

__all__ = ["PLACEHOLDER_SECRETS", "Settings"]

PLACEHOLDER_SECRETS = frozenset({"", "changethis", "change-me", "changeme", "secret", "dev", "development", "test"})
DEFAULT_SECRET = "changethis"


class Settings(BaseSettings):
    """Everything HQ needs to start. ``database_url`` is any SQLAlchemy URL: SQLite by default,
    ``postgresql+psycopg://user@host/db`` for PostgreSQL."""

    model_config = SettingsConfigDict(env_prefix="TILLPI_HQ_", extra="ignore", frozen=True)

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///var/hq/hq.db"
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET)
    currency: str = Field("CNY", pattern=r"^[A-Z]{3}$")
    # edge API tokens
    token_grace_s: int = Field(24 * 3600, ge=0, description="how long a rotated-out edge token stays valid")
    enrolment_ttl_s: int = Field(24 * 3600, ge=60)
    # user sessions
    session_ttl_s: int = Field(8 * 3600, ge=60)
    # sync
    max_batch_items: int = Field(2000, ge=1, le=100_000)
    # The work is CPU-bound: in the ingest benchmark, 4 at a time per worker took ~15 % less CPU
    # per sale (HQ and PostgreSQL) than all 17 of a worker's edges at once, and ingested more.
    ingest_concurrency: int = Field(4, ge=1, le=64,
                                    description="sync batches one worker process stores at once; the rest wait")
    migrate_on_start: bool = True
    sql_echo: bool = False
    pool_size: int = Field(10, ge=1, le=200)

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        secret = self.secret_key.get_secret_value()
        if self.environment != "development" and (secret.lower() in PLACEHOLDER_SECRETS or len(secret) < 16):
            raise HqConfigError(
                f"TILLPI_HQ_SECRET_KEY is a placeholder or shorter than 16 characters; "
                f"set a real secret for environment {self.environment!r}"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
