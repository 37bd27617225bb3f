"""Fixtures of the edge promotions tests: the small shop and a promotion store over it."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from edge.promotions import PromotionStore
from tests.refunds.shop import Shop, close_shop, open_shop


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    s = open_shop(tmp_path)
    yield s
    close_shop(s)


@pytest.fixture
def promotions(shop: Shop) -> Iterator[PromotionStore]:
    with PromotionStore(shop.path, clock=shop.clock, catalogue=shop.catalogue) as store:
        yield store
