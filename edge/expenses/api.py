"""JSON API of expenses: enter, list (with totals by category), void.

The app factory puts the :class:`~edge.expenses.store.ExpenseStore` on ``app.state.expenses``.
Reading needs ``reports.view``; entering and voiding need :data:`WRITE_PERMISSIONS`
(``expenses.edit``, a manager's).
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, timedelta
from typing import Annotated, Any, Iterator

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, Field

from edge.expenses.errors import ExpensesError, UnknownExpenseError
from edge.expenses.store import CATEGORY_LABELS, ExpenseStore
from edge.staff.api import require_permission
from edge.staff.store import Principal
from retail.errors import MoneyError
from retail.money import Money

__all__ = ["READ_PERMISSION", "WRITE_PERMISSIONS", "get_expenses", "routers"]

READ_PERMISSION = "reports.view"
WRITE_PERMISSIONS = ("expenses.edit",)


def get_expenses(request: Request) -> ExpenseStore:
    store = getattr(request.app.state, "expenses", None)
    if store is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "expenses are not available")
    return store


ExpensesDep = Annotated[ExpenseStore, Depends(get_expenses)]
Reader = Annotated[Principal, Depends(require_permission(READ_PERMISSION))]
Writer = Annotated[Principal, Depends(require_permission(*WRITE_PERMISSIONS))]


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except UnknownExpenseError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, {"error": "not_found", "detail": str(exc)}) from None
    except (ExpensesError, MoneyError) as exc:
        raise HTTPException(422, {"error": "invalid", "detail": str(exc)}) from None


class ExpenseIn(BaseModel):
    spent_on: date = Field(alias="date")
    category: str
    amount: Annotated[str, Field(description="major units as text, e.g. \"8000.00\"", max_length=20)]
    note: Annotated[str, Field(max_length=500)] = ""


class VoidIn(BaseModel):
    reason: Annotated[str, Field(min_length=1, max_length=500)]


def routers() -> list[APIRouter]:
    """The expenses router: ``/api/expenses``."""
    router = APIRouter(prefix="/api/expenses", tags=["expenses"])

    @router.get("")
    def list_expenses(_: Reader, store: ExpensesDep, start: date | None = None, end: date | None = None,
                      include_voided: bool = False) -> dict[str, Any]:
        end = end or store.today()
        start = start or end - timedelta(days=30)
        items = store.list(start, end, include_voided=include_voided)
        totals = store.totals_by_category(start, end)
        return {
            "start": start.isoformat(), "end": end.isoformat(), "expenses": [e.to_dict() for e in items],
            "totals": [{"category": c, "category_en": CATEGORY_LABELS[c][0], "category_zh": CATEGORY_LABELS[c][1],
                        "amount": {"minor": m.minor, "currency": m.currency}} for c, m in totals.items()],
            "total": {"minor": sum(m.minor for m in totals.values()), "currency": store.currency},
        }

    @router.post("", status_code=status.HTTP_201_CREATED)
    def add(body: ExpenseIn, actor: Writer, store: ExpensesDep) -> dict[str, Any]:
        with _errors():
            amount = Money.of(body.amount.strip(), store.currency)
            return store.add(body.spent_on, body.category, amount, actor=actor.id, note=body.note).to_dict()

    @router.post("/{expense_id}/void")
    def void(expense_id: int, body: VoidIn, actor: Writer, store: ExpensesDep) -> dict[str, Any]:
        with _errors():
            return store.void(expense_id, actor=actor.id, reason=body.reason).to_dict()

    return [router]
