"""Members (phone, QR e-card) with member prices, and coupons."""

from __future__ import annotations

from kiosk.checkout import CheckoutState as S
from kiosk.checkout import mask_phone
from kiosk.checkout import model as m

from .conftest import MEMBER, Lane, cny


def test_phone_number_is_masked_once_entered() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+86 138 1234 5678") == "138****5678"
    assert mask_phone("5551234") == "***1234"


def test_member_by_phone_gets_member_prices(started: Lane) -> None:
    started.scan_and_bag("MILK", 1050)
    assert started.snap.total == cny("12.00")
    out = started.send(m.EnterPhone("13812345678"))
    assert m.ShowMessage("member_welcome", "138****5678") in out
    snap = started.snap
    assert snap.member.member_id == "M001" and snap.member_phone_masked == "138****5678"
    assert snap.member.level_name("zh_CN") == "银卡会员" and snap.member.points == 5000
    assert snap.total == cny("9.90") and snap.lines[0].saving_names[0][1] == "会员价牛奶"


def test_member_by_qr_e_card(started: Lane) -> None:
    started.scan("TILLPI-MEMBER:M001")
    assert started.snap.member.member_id == "M001"
    started.scan_and_bag("MILK", 1050)
    assert started.snap.total == cny("9.90")


def test_unknown_member_and_directory_offline(started: Lane, members) -> None:  # noqa: ANN001
    out = started.send(m.EnterPhone("13900000000"))
    assert m.ShowMessage("member_not_found", "139****0000") in out
    members.go_offline()
    try:
        out = started.send(m.EnterPhone("13812345678"))
    finally:
        members.go_online()
    assert m.ShowMessage("member_lookup_unavailable") in out and started.snap.member is None


def test_coupon_scanned_as_qr_applies_to_the_basket(started: Lane) -> None:
    started.scan_and_bag("COKE", 350)
    started.scan_and_bag("COKE", 350)
    started.scan_and_bag("COKE", 350)  # 10.50
    started.scan("TILLPI-COUPON:save2")
    snap = started.snap
    assert snap.coupons == ("SAVE2",) and snap.total == cny("8.50")


def test_coupon_typed_and_unknown_coupon(started: Lane) -> None:
    started.scan_and_bag("WATER", 12500)
    out = started.send(m.EnterCoupon("NOPE"))
    assert m.ShowMessage("coupon_unknown", "NOPE") in out
    started.send(m.EnterCoupon("SAVE2"))
    assert started.snap.total == cny("37.90")
    out = started.send(m.EnterCoupon("save2"))
    assert m.ShowMessage("coupon_already_added", "SAVE2") in out


def test_member_can_join_at_payment_before_any_tender(started: Lane) -> None:
    started.scan_and_bag("MILK", 1050)
    started.send(m.Pay())
    started.send(m.EnterPhone(MEMBER.phone))
    assert started.state is S.PAYING and started.snap.amount_due == cny("9.90")
