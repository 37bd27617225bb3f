"""Fixtures of the expenses, profit and reports tests: the small shop with its services."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from edge.expenses import ExpenseStore
from edge.refunds import RefundService
from edge.reports.store import ReportStore
from tests.refunds.shop import Shop, close_shop, open_shop


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    s = open_shop(tmp_path)
    yield s
    close_shop(s)


@pytest.fixture
def expenses(shop: Shop) -> Iterator[ExpenseStore]:
    with ExpenseStore(shop.path, clock=shop.clock) as store:
        yield store


@pytest.fixture
def refunds(shop: Shop) -> Iterator[RefundService]:
    with RefundService(shop.path, clock=shop.clock, members=shop.members) as service:
        yield service


@pytest.fixture
def reports(shop: Shop) -> Iterator[ReportStore]:
    with ReportStore(shop.path, clock=shop.clock) as store:
        yield store
