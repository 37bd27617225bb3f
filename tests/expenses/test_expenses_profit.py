"""Expenses with the audit log, and the profit report on two hand-checked days."""

from __future__ import annotations

from datetime import date

import pytest

from edge.expenses import ExpenseStore, InvalidExpenseError
from edge.refunds import RefundService, ReturnLine
from edge.reports.profit import profit_report
from edge.reports.store import ReportStore
from edge.staff.audit import query_audit
from retail.money import Money
from tests.refunds.shop import Shop, line

MAR2, MAR3 = date(2026, 3, 2), date(2026, 3, 3)


def test_an_expense_is_entered_audited_and_voided_not_deleted(expenses: ExpenseStore) -> None:
    rent = expenses.add(MAR2, "rent", Money.of("8000.00", "CNY"), actor="S0002", note="March")
    expenses.add(MAR2, "utilities", Money.of("312.40", "CNY"), actor="S0002")
    expenses.void(rent.id, actor="S0001", reason="entered twice")
    assert [e.category.value for e in expenses.list(MAR2, MAR2)] == ["utilities"]
    assert [e.voided for e in expenses.list(MAR2, MAR2, include_voided=True)] == [True, False]
    actions = [e.action for e in query_audit(expenses._db(), action_prefix="expense.")]
    assert actions == ["expense.void", "expense.create", "expense.create"]
    assert expenses.totals_by_category(MAR2, MAR2)["utilities"] == Money(31_240, "CNY")


def test_an_expense_needs_a_known_category_and_a_positive_amount(expenses: ExpenseStore) -> None:
    with pytest.raises(InvalidExpenseError):
        expenses.add(MAR2, "holidays", Money.of(10, "CNY"), actor="S0002")
    with pytest.raises(InvalidExpenseError):
        expenses.add(MAR2, "rent", Money.of(0, "CNY"), actor="S0002")
    with pytest.raises(InvalidExpenseError):
        expenses.add(MAR2, "rent", Money.of(10, "EUR"), actor="S0002")


def two_days(shop: Shop, refunds: RefundService, expenses: ExpenseStore) -> None:
    """2 March: tea x2 700 (tax 80, cost 400) + rice 4990 (tax 412, cost 3500); apple 500 g 640
    (tax 52, cost 400); one tea refunded (350, tax 40, cost 200); supplies 30.00; a voided 99.00.
    3 March: milk 1190 (tax 98, cost 700); wages 20.00."""
    first = shop.sell(lines=[line("tea-500", 2), line("rice-5kg", 1)])
    shop.sell(lines=[line("apple", 500)], payments=[("mobile", 640)])
    refunds.refund("R-1", first.sale_id, [ReturnLine(1, 1)], actor=shop.principal("sam"))
    expenses.add(MAR2, "supplies", Money(3_000, "CNY"), actor="S0002")
    mistake = expenses.add(MAR2, "other", Money(9_900, "CNY"), actor="S0002")
    expenses.void(mistake.id, actor="S0002", reason="wrong shop")
    shop.clock.advance(days=1)
    shop.sell(lines=[line("milk-1l", 1)])
    expenses.add(MAR3, "wages", Money(2_000, "CNY"), actor="S0002")


def test_profit_by_day_and_week_matches_the_hand_checked_figures(shop: Shop, refunds: RefundService,
                                                                 expenses: ExpenseStore, reports: ReportStore) -> None:
    two_days(shop, refunds, expenses)
    with reports.connection() as db:
        daily = profit_report(db, MAR2, MAR3, "day")
        weekly = profit_report(db, MAR2, MAR3, "week")
    d2, d3 = (r.to_dict() for r in daily.rows)
    assert (d2["sales_minor"], d2["refunds_minor"], d2["revenue_minor"]) == (6330, 350, 5980)
    assert (d2["tax_minor"], d2["revenue_ex_tax_minor"], d2["cogs_minor"]) == (504, 5476, 4100)
    assert (d2["gross_margin_minor"], d2["expenses_minor"], d2["profit_minor"]) == (1376, 3000, -1624)
    assert (d3["revenue_ex_tax_minor"], d3["cogs_minor"], d3["profit_minor"]) == (1092, 700, 392 - 2000)
    [week] = weekly.rows
    assert week.key == "2026-W10" and week.to_dict()["profit_minor"] == -1624 - 1608 == daily.total.profit_minor
    assert daily.cost_basis == "current_catalogue" and daily.skus_without_cost == []
