"""Alembic migrations of the HQ schema, run programmatically (``upgrade head``) at start-up.

On PostgreSQL a transaction-level advisory lock keeps two starting workers from migrating at
the same time.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

__all__ = ["alembic_config", "current_revision", "head_revision", "upgrade_head"]

log = logging.getLogger(__name__)

_LOCK_KEY = 0x7469_6C6C  # "till"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).resolve().parent))
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade_head(engine: Engine) -> None:
    """Run every pending migration in one transaction."""
    cfg = alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")
        cfg.attributes["connection"] = conn
        before = MigrationContext.configure(conn).get_current_revision()
        command.upgrade(cfg, "head")
        after = MigrationContext.configure(conn).get_current_revision()
    if before != after:
        log.info("HQ schema migrated from %s to %s", before, after)
