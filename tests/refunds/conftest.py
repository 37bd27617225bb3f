"""Fixtures of the refund tests: a small shop and a refund service over its database."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from edge.refunds import RefundService
from tests.refunds.shop import Shop, close_shop, open_shop


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    s = open_shop(tmp_path)
    yield s
    close_shop(s)


@pytest.fixture
def refunds(shop: Shop) -> Iterator[RefundService]:
    with RefundService(shop.path, clock=shop.clock, members=shop.members, store_id="s1") as service:
        yield service
