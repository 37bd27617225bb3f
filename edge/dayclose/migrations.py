"""Schema steps of the edge day close (``dayclose`` in ``schema_versions``). Never edit a
shipped step; add a new one."""

from __future__ import annotations

__all__ = ["STEPS"]

STEPS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE day_closes (
            business_date TEXT PRIMARY KEY,
            closed_at TEXT NOT NULL,
            closed_by TEXT NOT NULL,
            sales_high_water INTEGER NOT NULL,
            refunds_high_water INTEGER NOT NULL,
            report TEXT NOT NULL
        )""",
        """CREATE TRIGGER day_closes_no_update BEFORE UPDATE ON day_closes
           BEGIN SELECT RAISE(ABORT, 'a closed day is immutable'); END""",
        """CREATE TRIGGER day_closes_no_delete BEFORE DELETE ON day_closes
           BEGIN SELECT RAISE(ABORT, 'a closed day is immutable'); END""",
    ),
)
