"""The pure rules of the HQ sync: items, batch ids, back-off, price scopes."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.hqsync.items import (
    ItemEncodingError,
    OutboxRow,
    backoff_delay,
    batch_id_for,
    body_hash,
    effective_price,
    encode_day_close,
    encode_sale,
    event_id_for,
)

HQ_BATCH_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


@given(st.lists(st.integers(min_value=1, max_value=2**62), min_size=1, max_size=2000, unique=True))
def test_a_batch_id_depends_only_on_its_row_ids_and_fits_hqs_pattern(ids: list[int]) -> None:
    ids.sort()
    assert batch_id_for(ids) == batch_id_for(list(ids))
    assert HQ_BATCH_ID.match(batch_id_for(ids))
    if len(ids) > 1:
        assert batch_id_for(ids) != batch_id_for(ids[:-1])


def test_back_off_doubles_up_to_the_ceiling() -> None:
    assert [backoff_delay(n, initial_s=2, max_s=60) for n in range(0, 8)] == [0, 2, 4, 8, 16, 32, 60, 60]


def test_the_most_specific_price_applies() -> None:
    prices = {"chain": 500, "region:north": 450, "store:s1": 420}
    assert effective_price(prices, store_id="s1", region="north") == 420
    assert effective_price(prices, store_id="s2", region="north") == 450
    assert effective_price(prices, store_id="s2", region="south") == 500
    assert effective_price({"chain": 500, "region:north": 450}, store_id="s2", region=None) == 450
    assert effective_price({}, store_id="s1", region=None) is None


def test_a_sale_row_becomes_hqs_sale_item_with_the_kiosks_hash() -> None:
    body = {"sale_id": "x", "kiosk_id": "k1", "seq": 3, "total": 1}
    body["body_hash"] = body_hash(body)
    item = encode_sale(OutboxRow(1, "sale", "k1/x", json.dumps(body).encode()))
    assert (item["kind"], item["kiosk_id"], item["sale_id"], item["seq"], item["body_hash"]) == ("sale", "k1", "x", 3, body["body_hash"])


def test_an_unreadable_row_cannot_be_encoded() -> None:
    with pytest.raises(ItemEncodingError):
        encode_sale(OutboxRow(1, "sale", "k1/x", b"\xff not json"))
    with pytest.raises(ItemEncodingError):
        encode_sale(OutboxRow(1, "sale", "k1/x", b'{"sale_id": "x"}'))


def test_a_day_close_is_an_event_keyed_by_its_ref() -> None:
    item = encode_day_close(OutboxRow(9, "day_close", "day_close/2026-03-15", b'{"business_date": "2026-03-15", "total": 5}'))
    assert (item["kind"], item["event_id"], item["business_date"]) == ("day_close", "day_close:2026-03-15", "2026-03-15")
    assert item["body_hash"] == body_hash({"business_date": "2026-03-15", "total": 5})
    long = event_id_for(OutboxRow(1, "day_close", "x" * 200, b"{}"))
    assert len(long) == 64 and HQ_BATCH_ID.match(long)
