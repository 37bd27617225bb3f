"""The bus contract: topics, payload models, encode/decode and their refusals."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from broker.contract import (
    MAX_ACKS_PER_MESSAGE,
    MAX_PAYLOAD_BYTES,
    Command,
    ContractError,
    Health,
    Sale,
    SaleAck,
    SaleAcks,
    TopicError,
    TopicRef,
    _canonical,
    alarm_topic,
    catalogue_topic,
    decode,
    decode_acks,
    edge_state_topic,
    encode,
    health_expiry_s,
    kiosk_filter,
    kiosk_topic,
    parse_topic,
)
from broker.errors import BrokerError
from retail.clock import FakeClock
from tests.bus.helpers import make_sale, tampered


@pytest.fixture
def sale() -> Sale:
    return make_sale(random.Random(7), 1, clock=FakeClock())


def test_topics_round_trip_through_the_parser() -> None:
    assert kiosk_topic("s1", "kiosk-01", "sale") == "tillpi/s1/kiosk/kiosk-01/sale"
    assert parse_topic("tillpi/s1/kiosk/kiosk-01/ack") == TopicRef("s1", "kiosk-01", "ack")
    assert parse_topic(edge_state_topic("s1")) == TopicRef("s1", None, "edge_state")
    assert parse_topic(alarm_topic("s1", "scale", "k1")) == TopicRef("s1", None, "alarm", "scale/k1")
    assert catalogue_topic("s1") == "tillpi/s1/catalogue/#"
    assert kiosk_filter("s1", "sale") == "tillpi/s1/kiosk/+/sale"


@pytest.mark.parametrize(
    "topic",
    ["", "tillpi", "other/s1/kiosk/k/sale", "tillpi/s1/kiosk/k/sale/extra", "tillpi/s1/kiosk/+/sale",
     "tillpi/s1/kiosk/k/refund", "tillpi/s 1/kiosk/k/sale", "tillpi/s1/edge/status", "tillpi/s1/alarm/", "tillpi/s1/x/y"],
)
def test_malformed_topics_are_refused_with_a_typed_error(topic: str) -> None:
    with pytest.raises(TopicError) as info:
        parse_topic(topic)
    assert isinstance(info.value, (BrokerError, ValueError))


def test_builders_refuse_wildcards_and_unknown_kinds() -> None:
    for bad in (lambda: kiosk_topic("s1", "k/1", "sale"), lambda: kiosk_topic("s1", "+", "sale"),
                lambda: kiosk_topic("s1", "k1", "refund"), lambda: alarm_topic("s1", "a/#")):
        with pytest.raises(TopicError):
            bad()


def test_a_sale_survives_encode_and_decode_with_its_hash(sale: Sale) -> None:
    again = decode("sale", encode(sale))
    assert again == sale
    assert again.body_hash == sale.body_hash
    assert json.loads(encode(sale))["schema"] == "tillpi.sale/1"


def test_the_hash_covers_every_field_but_itself(sale: Sale) -> None:
    data = json.loads(encode(sale))
    data["lines"][0]["name"] = "something else"
    with pytest.raises(ContractError) as info:
        decode("sale", json.dumps(data).encode())
    assert info.value.reason == "hash_mismatch"


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"lines.0.unit_price_minor": 350.0}, "invalid"),  # float money
        ({"totals.total_minor": 1.5}, "invalid"),
        ({"lines.0.quantity": -1}, "invalid"),
        ({"totals.total_minor": 1}, "invalid"),  # totals do not add up
        ({"lines.0.gtin": "0690123456789'; DROP TABLE sales;--"}, "invalid"),
        ({"lines.0.gtin": "\u0660\u0666\u0669\u0660\u0661\u0662\u0663\u0664"}, "invalid"),  # Arabic-Indic digits
        ({"lines.0.name": "x" * 10_000}, "invalid"),
        ({"currency": "cny"}, "invalid"),
        ({"surprise": 1}, "invalid"),
        ({"schema": "tillpi.sale/9"}, "wrong_schema"),
        ({"finished_at": "2026-01-05T09:00:00"}, "invalid"),  # naive time
    ],
)
def test_invalid_sales_are_refused_with_the_reason(sale: Sale, changes: dict, reason: str) -> None:
    with pytest.raises(ContractError) as info:
        decode("sale", tampered(sale, **changes))
    assert info.value.reason == reason


def test_payments_must_cover_the_total(sale: Sale) -> None:
    short = sale.payments[0].amount_minor - sale.change_minor - 1
    with pytest.raises(ContractError, match="payments"):
        decode("sale", tampered(sale, **{"payments.0.amount_minor": short, "change_minor": 0}))


def test_invalid_json_oversize_and_non_objects_are_refused(sale: Sale) -> None:
    for payload, reason in ((b"{not json", "invalid_json"), (b"\xff\xfe", "invalid_json"), (b"[1,2]", "invalid_json"),
                            (b" " * (MAX_PAYLOAD_BYTES + 1), "oversize")):
        with pytest.raises(ContractError) as info:
            decode("sale", payload)
        assert info.value.reason == reason


def test_other_messages_round_trip_and_validate() -> None:
    clock = FakeClock()
    ack = SaleAck(kiosk_id="kiosk-01", sale_id="0" * 8 + "-0000-4000-8000-" + "0" * 12, seq=3, status="duplicate")
    assert decode("sale_ack", encode(ack)) == ack
    assert decode_acks(encode(ack)) == [ack]  # what an edge before SaleAcks sends
    other = ack.model_copy(update={"seq": 4, "status": "accepted"})
    batch = SaleAcks(kiosk_id="kiosk-01", acks=[ack, other])
    assert decode("ack", encode(batch)) == batch and decode_acks(encode(batch)) == [ack, other]
    with pytest.raises(ValueError):
        SaleAcks(kiosk_id="kiosk-02", acks=[ack])  # every ack of a batch is for its kiosk
    many = [ack.model_copy(update={"seq": n}) for n in range(1, MAX_ACKS_PER_MESSAGE + 3)]
    others = [a.model_copy(update={"kiosk_id": "kiosk-02"}) for a in many[:2]]
    split = SaleAcks.batches([many[0], others[0], *many[1:], others[1]])
    assert [(m.kiosk_id, len(m.acks)) for m in split] == [("kiosk-01", MAX_ACKS_PER_MESSAGE), ("kiosk-01", 2), ("kiosk-02", 2)]
    assert [a.seq for m in split[:2] for a in m.acks] == [a.seq for a in many]
    cmd = Command(command_id="1" * 8 + "-1111-4111-8111-" + "1" * 12, kiosk_id="kiosk-01", kind="resync", from_seq=4,
                  issued_at=clock.now(), expires_at=clock.now() + timedelta(minutes=5))
    assert decode("cmd", encode(cmd)).from_seq == 4
    assert not cmd.expired(clock.now()) and cmd.expired(clock.now() + timedelta(minutes=5))
    with pytest.raises(ValueError):
        Command(command_id=cmd.command_id, kiosk_id="kiosk-01", kind="resync", issued_at=clock.now(),
                expires_at=clock.now() + timedelta(minutes=1))
    health = Health(kiosk_id="kiosk-01", at=clock.now(), interval_s=30, clock_synced=True, outbox_pending=2,
                    devices=[{"device": "scale", "status": "fault", "code": "not_ready", "since": clock.now()}])
    assert decode("health", encode(health)).devices[0].status == "fault"
    assert health_expiry_s(30) == 90
    with pytest.raises(ContractError):
        decode("ack", encode(health))  # wrong schema for the kind


def test_a_body_from_older_software_without_a_newer_defaulted_field_keeps_its_hash():
    """Upgrades with data in place: a kiosk journal written before ``cash_rounding_minor``
    existed re-publishes bodies without it; their hash must still verify."""
    import hashlib
    import json
    import random

    from broker.contract import Sale, decode, encode
    from kiosk.simulated_seller import random_sale_draft
    from retail.clock import FakeClock

    draft = random_sale_draft(random.Random(3), store_id="s1", kiosk_id="kiosk-01", clock=FakeClock())
    old = json.loads(encode(Sale.from_draft(draft, 1)))
    old.pop("cash_rounding_minor")
    old.pop("body_hash")
    old["body_hash"] = hashlib.sha256(
        json.dumps(old, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()
    sale = decode("sale", json.dumps(old).encode())
    assert sale.cash_rounding_minor == 0 and sale.body_hash == old["body_hash"]


@given(st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
))
def test_the_canonical_form_is_byte_for_byte_the_sorted_compact_json_hashes_were_defined_with(value) -> None:
    """Hashes written by earlier software (json.dumps) and by this one (orjson) must agree."""
    data = {"v": value}
    assert _canonical(data) == json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def test_a_sale_with_times_written_another_valid_way_is_checked_on_its_model(sale: Sale) -> None:
    """The edge checks the hash on the payload as sent; a sender whose times read "+00:00"
    where this software writes "Z" (same instant, same model) still passes on the model's form."""
    data = json.loads(encode(sale))
    for key in ("started_at", "finished_at"):
        data[key] = data[key].replace("Z", "+00:00")
    assert any("+00:00" in data[k] for k in ("started_at", "finished_at"))
    assert decode("sale", json.dumps(data).encode()) == sale
    data["catalogue_version"] = "another"  # a changed body is refused either way
    with pytest.raises(ContractError) as info:
        decode("sale", json.dumps(data).encode())
    assert info.value.reason == "hash_mismatch"
