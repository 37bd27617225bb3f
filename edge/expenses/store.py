"""Shop expenses (rent, wages, utilities, supplies, other), entered by staff and audited.

Expenses are never edited or deleted: a mistake is *voided* (kept, marked, audited) and
entered again. Amounts are :class:`~retail.money.Money` in the shop's currency.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timezone, tzinfo
from enum import Enum
from pathlib import Path
from typing import Any

from edge.db import SqliteComponent
from edge.expenses.errors import ExpensesClosedError, InvalidExpenseError, UnknownExpenseError
from edge.schema import migrate_component
from edge.staff.audit import audit, ensure_audit_schema
from retail.clock import Clock
from retail.money import Money

__all__ = ["CATEGORY_LABELS", "EXPENSE_STEPS", "Expense", "ExpenseCategory", "ExpenseStore"]

log = logging.getLogger(__name__)


class ExpenseCategory(str, Enum):
    RENT = "rent"
    WAGES = "wages"
    UTILITIES = "utilities"
    SUPPLIES = "supplies"
    OTHER = "other"


CATEGORY_LABELS: dict[str, tuple[str, str]] = {
    "rent": ("Rent", "租金"),
    "wages": ("Wages", "工资"),
    "utilities": ("Utilities", "水电费"),
    "supplies": ("Supplies", "耗材"),
    "other": ("Other", "其他"),
}

EXPENSE_STEPS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE expenses (
            id INTEGER PRIMARY KEY,
            spent_on TEXT NOT NULL,
            category TEXT NOT NULL CHECK (category IN ('rent', 'wages', 'utilities', 'supplies', 'other')),
            amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
            currency TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            voided_at TEXT,
            voided_by TEXT,
            void_reason TEXT
        )""",
        "CREATE INDEX expenses_spent_on ON expenses (spent_on)",
    ),
)


@dataclass(frozen=True, slots=True)
class Expense:
    id: int
    spent_on: date
    category: ExpenseCategory
    amount: Money
    note: str
    created_by: str
    created_at: datetime
    voided: bool = False
    void_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        en, zh = CATEGORY_LABELS[self.category.value]
        return {
            "id": self.id, "date": self.spent_on.isoformat(), "category": self.category.value,
            "category_en": en, "category_zh": zh,
            "amount": {"minor": self.amount.minor, "currency": self.amount.currency}, "note": self.note,
            "created_by": self.created_by, "created_at": self.created_at.isoformat(), "voided": self.voided,
            "void_reason": self.void_reason,
        }


_COLS = "id, spent_on, category, amount_minor, currency, note, created_by, created_at, voided_at, void_reason"


def _expense(r: tuple[Any, ...]) -> Expense:
    return Expense(int(r[0]), date.fromisoformat(r[1]), ExpenseCategory(r[2]), Money(int(r[3]), r[4]), r[5], r[6],
                   datetime.fromisoformat(r[7]), r[8] is not None, r[9])


def _migrate(conn: sqlite3.Connection) -> None:
    ensure_audit_schema(conn)
    migrate_component(conn, "expenses", EXPENSE_STEPS)


class ExpenseStore(SqliteComponent):
    """Expenses over the edge database at ``path`` (context manager; idempotent ``close()``)."""

    _closed_error = ExpensesClosedError
    _closed_message = "the expense store is closed"

    def __init__(self, path: str | Path, *, clock: Clock, currency: str = "CNY",
                 shop_timezone: tzinfo = timezone.utc) -> None:
        Money.zero(currency)
        self._clock = clock
        self._tz = shop_timezone
        self.currency = currency
        super().__init__(path, migrations=_migrate)

    def today(self) -> date:
        return self._clock.now().astimezone(self._tz).date()

    def _get(self, db: sqlite3.Connection, expense_id: int) -> Expense:
        row = db.execute(f"SELECT {_COLS} FROM expenses WHERE id = ?", (expense_id,)).fetchone()
        if row is None:
            raise UnknownExpenseError(f"no expense {expense_id}")
        return _expense(row)

    def get(self, expense_id: int) -> Expense:
        with self._lock:
            return self._get(self._db(), expense_id)

    def add(self, spent_on: date, category: ExpenseCategory | str, amount: Money, *, actor: str, note: str = "") -> Expense:
        """Enter an expense (audited)."""
        try:
            cat = ExpenseCategory(category)
        except ValueError:
            raise InvalidExpenseError(
                f"unknown expense category {category!r}; one of {[c.value for c in ExpenseCategory]}") from None
        if not isinstance(amount, Money) or amount.currency != self.currency or amount.minor <= 0:
            raise InvalidExpenseError(f"an expense is a positive amount in {self.currency}, not {amount!r}")
        if not isinstance(spent_on, date):
            raise InvalidExpenseError("an expense needs the date it was spent on")
        if len(note) > 500:
            raise InvalidExpenseError("a note is at most 500 characters")
        now = self._clock.now()
        with self._write() as db:
            cur = db.execute(
                "INSERT INTO expenses (spent_on, category, amount_minor, currency, note, created_by, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (spent_on.isoformat(), cat.value, amount.minor, amount.currency, note, actor, now.isoformat()),
            )
            expense_id = int(cur.lastrowid or 0)
            audit(db, actor=actor, action="expense.create", target=f"expense:{expense_id}",
                  after={"date": spent_on.isoformat(), "category": cat.value, "amount_minor": amount.minor,
                         "note": note}, at=now)
            return self._get(db, expense_id)

    def void(self, expense_id: int, *, actor: str, reason: str) -> Expense:
        """Void an expense entered by mistake (kept and audited); voiding twice is a no-op."""
        if not reason.strip():
            raise InvalidExpenseError("voiding an expense needs a reason")
        now = self._clock.now()
        with self._write() as db:
            before = self._get(db, expense_id)
            if not before.voided:
                db.execute("UPDATE expenses SET voided_at = ?, voided_by = ?, void_reason = ? WHERE id = ?",
                           (now.isoformat(), actor, reason, expense_id))
                audit(db, actor=actor, action="expense.void", target=f"expense:{expense_id}",
                      before=before.to_dict(), after={"voided": True}, detail=reason, at=now)
            return self._get(db, expense_id)

    def list(self, start: date, end: date, *, include_voided: bool = False) -> list[Expense]:
        sql = f"SELECT {_COLS} FROM expenses WHERE spent_on BETWEEN ? AND ?"
        if not include_voided:
            sql += " AND voided_at IS NULL"
        with self._lock:
            rows = self._db().execute(sql + " ORDER BY spent_on, id", (start.isoformat(), end.isoformat())).fetchall()
        return [_expense(r) for r in rows]

    def totals_by_category(self, start: date, end: date) -> dict[str, Money]:
        out = {c.value: Money.zero(self.currency) for c in ExpenseCategory}
        for e in self.list(start, end):
            out[e.category.value] = out[e.category.value] + e.amount
        return out
