"""Suspend a basket at one lane and resume it at another from a signed QR token."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kiosk.catalogue_replica import CatalogueReplica
from kiosk.checkout import AttendantReason as R
from kiosk.checkout import CheckoutState as S
from kiosk.checkout import SuspendedBasket, SuspendedLine, SuspendTokenError, decode_suspended, encode_suspended
from kiosk.checkout import model as m
from retail.barcodes import make_variable_measure
from retail.catalogue import CatalogueItem
from retail.clock import FakeClock

from .conftest import MEMBER, SECRET, Lane, build_engine, cny, make_items


def _suspend(lane: Lane) -> str:
    lane.send(m.Start())
    lane.send(m.EnterPhone(MEMBER.phone))
    lane.scan_and_bag("COKE", 350)
    lane.scan_and_bag("COKE", 350)
    lane.scan(make_variable_measure("22", "12345", weight_g=250))
    lane.place(250)
    lane.scan("TILLPI-COUPON:SAVE2")
    out = lane.send(m.Suspend())
    token = [e for e in out if isinstance(e, m.BasketSuspended)][0].token
    qr = [e for e in out if isinstance(e, m.ShowQr)][0]
    assert qr.purpose == "suspend" and qr.payload == "TILLPI-SUSPEND:" + token
    assert lane.state is S.THANK_YOU
    return qr.payload


def test_suspended_basket_resumes_at_another_lane(make_lane, clock, members, staff_directory) -> None:  # noqa: ANN001
    payload = _suspend(make_lane())
    assert len(payload) < 300  # compact enough for a small QR
    other = Lane(build_engine(CatalogueReplica(make_items(), version="v42"), clock, members, staff_directory, lane_id="lane-2"), clock)
    other.send(m.Scan(payload))
    snap = other.snap
    assert other.state is S.SCANNING
    assert [(line.sku, line.quantity, line.weight_g) for line in snap.lines] == [("COKE", 2, None), ("HAM", 1, 250)]
    assert snap.member.member_id == "M001" and snap.coupons == ("SAVE2",)
    assert snap.total == cny("7.00") + cny("14.50") - cny("2.00")


def test_resume_reprices_against_the_lanes_own_catalogue(make_lane, clock, members, staff_directory) -> None:  # noqa: ANN001
    payload = _suspend(make_lane())
    items = [
        CatalogueItem(i.sku, i.name_en, i.name_zh, cny("4.00"), i.category, i.gtins, unit_weight_g=i.unit_weight_g)
        if i.sku == "COKE" else i
        for i in make_items()
    ]
    other = Lane(build_engine(CatalogueReplica(items, version="v43"), clock, members, staff_directory), clock)
    other.send(m.Scan(payload))
    coke = other.snap.lines[0]
    assert coke.gross == cny("8.00") and other.snap.catalogue_version == "v43"


def test_resumed_bags_become_the_new_baseline(make_lane, clock, members, staff_directory) -> None:  # noqa: ANN001
    payload = _suspend(make_lane())
    other = Lane(build_engine(CatalogueReplica(make_items()), clock, members, staff_directory), clock)
    other.send(m.BagReading(0, True))
    other.send(m.Scan(payload))
    other.place(950)  # the shopper puts the carried bags down
    assert other.state is S.SCANNING
    other.scan_and_bag("CHIPS", 80)


def test_resumed_age_restricted_items_need_a_new_age_check(make_lane, clock, members, staff_directory) -> None:  # noqa: ANN001
    lane = make_lane()
    lane.send(m.Start())
    lane.scan("BEER")
    lane.pin("1111")
    lane.place(520)
    payload = [e for e in lane.send(m.Suspend()) if isinstance(e, m.ShowQr)][0].payload
    other = Lane(build_engine(CatalogueReplica(make_items()), clock, members, staff_directory), clock)
    other.send(m.Scan(payload))
    assert other.state is S.NEEDS_ATTENDANT and other.snap.reason is R.AGE_RESTRICTED
    other.pin("1111", approve=False)
    assert other.snap.lines == ()


def test_forged_or_foreign_or_expired_tokens_are_refused(clock: FakeClock) -> None:
    basket = SuspendedBasket("store-1", (SuspendedLine("COKE", "unit", 2),), clock.now())
    token = encode_suspended(basket, SECRET)
    ok = decode_suspended(token, SECRET, store_id="store-1", now=clock.now(), max_age_s=3600)
    assert ok.lines == basket.lines
    head, payload, mac = token.split(".")
    tampered = f"{head}.{payload[:-2]}AA.{mac}"
    with pytest.raises(SuspendTokenError):
        decode_suspended(tampered, SECRET, store_id="store-1", now=clock.now(), max_age_s=3600)
    with pytest.raises(SuspendTokenError):
        decode_suspended(token, b"another-store-secret-xxxxxxx", store_id="store-1", now=clock.now(), max_age_s=3600)
    with pytest.raises(SuspendTokenError):
        decode_suspended(token, SECRET, store_id="store-2", now=clock.now(), max_age_s=3600)
    with pytest.raises(SuspendTokenError):
        decode_suspended(token, SECRET, store_id="store-1", now=clock.now() + timedelta(hours=2), max_age_s=3600)


def test_scanning_a_bad_token_shows_a_message(started: Lane) -> None:
    out = started.send(m.Scan("TILLPI-SUSPEND:1.abc.def"))
    assert any(isinstance(e, m.ShowMessage) and e.code == "suspend_token_invalid" for e in out)
    assert started.state is S.SCANNING
