"""Attendant interventions: age checks, voids, price overrides, cancel, help, and who may
approve what."""

from __future__ import annotations

import pytest

from kiosk.checkout import ApprovalMethod, IllegalEventError, Role
from kiosk.checkout import AttendantReason as R
from kiosk.checkout import CheckoutState as S
from kiosk.checkout import model as m

from .conftest import MEMBER, Lane, cny


def approvals(lane: Lane):  # noqa: ANN201
    return lane.engine._approvals  # noqa: SLF001


def test_age_restricted_item_waits_for_an_attendant(started: Lane) -> None:
    out = started.scan("BEER")
    assert started.state is S.NEEDS_ATTENDANT and started.snap.reason is R.AGE_RESTRICTED
    req = started.snap.request
    assert req.required_role is Role.ATTENDANT and req.sku == "BEER"
    assert m.PublishHelpRequest(req.request_id, R.AGE_RESTRICTED, Role.ATTENDANT, req.detail) in out
    started.pin("1111")
    assert started.state is S.WAITING_FOR_BAGGING  # then the beer goes in the bag
    started.place(520)
    assert started.state is S.SCANNING
    a = approvals(started)[-1]
    assert (a.reason, a.staff_id, a.role, a.method, a.approved, a.sku) == (
        R.AGE_RESTRICTED, "S1", Role.ATTENDANT, ApprovalMethod.PIN, True, "BEER",
    )


def test_age_is_checked_once_per_transaction(started: Lane) -> None:
    started.scan("BEER")
    started.pin("1111")
    started.place(520)
    started.scan("BAIJIU")  # also 18+: already verified
    assert started.state is S.WAITING_FOR_BAGGING


def test_age_refused_removes_the_item(started: Lane) -> None:
    started.scan("BEER")
    started.pin("1111", approve=False)
    assert started.state is S.SCANNING and started.snap.lines == ()
    assert approvals(started)[-1].approved is False


def test_age_check_refused_for_a_role_too_low(make_lane) -> None:  # noqa: ANN001
    lane = make_lane(approval_roles={R.AGE_RESTRICTED: Role.SUPERVISOR})
    lane.send(m.Start())
    lane.scan("BEER")
    out = lane.pin("1111")  # an attendant
    assert any(isinstance(e, m.ApprovalRefused) and e.why == "role_too_low" for e in out)
    assert lane.state is S.NEEDS_ATTENDANT and approvals(lane) == []
    lane.pin("2222")  # a supervisor
    assert lane.state is S.WAITING_FOR_BAGGING


def test_unknown_pin_is_not_an_approval(started: Lane) -> None:
    started.scan("BEER")
    out = started.pin("9999")
    assert any(isinstance(e, m.ApprovalRefused) and e.why == "not_recognised" for e in out)
    assert started.state is S.NEEDS_ATTENDANT


def test_staff_qr_badge_approves(started: Lane) -> None:
    started.scan("BEER")
    started.send(m.Scan("TILLPI-STAFF:S1:badge-ann"))
    assert started.state is S.WAITING_FOR_BAGGING
    assert approvals(started)[-1].method is ApprovalMethod.BADGE


def test_forged_badge_is_refused(started: Lane) -> None:
    started.scan("BEER")
    started.send(m.Scan("TILLPI-STAFF:S1:not-the-token"))
    assert started.state is S.NEEDS_ATTENDANT


def test_remote_approval_from_the_staff_console(started: Lane) -> None:
    started.scan("BEER")
    request_id = started.snap.request.request_id
    out = started.send(m.ApproveRemote("some-old-request", "S1"))
    assert m.ApprovalRefused("some-old-request", "S1", "stale_request") in out
    started.send(m.ApproveRemote(request_id, "S1"))
    assert started.state is S.WAITING_FOR_BAGGING
    assert approvals(started)[-1].method is ApprovalMethod.REMOTE


def test_price_override_needs_a_supervisor(started: Lane) -> None:
    started.scan_and_bag("COKE", 350)
    line_id = started.snap.lines[0].line_id
    started.send(m.RequestPriceOverride(line_id, cny("2.00"), why="dented can"))
    assert started.state is S.NEEDS_ATTENDANT and started.snap.request.required_role is Role.SUPERVISOR
    out = started.pin("1111")
    assert any(isinstance(e, m.ApprovalRefused) and e.why == "role_too_low" for e in out)
    assert started.snap.total == cny("3.50")
    started.pin("2222")
    assert started.state is S.SCANNING
    line = started.snap.lines[0]
    assert line.price_override and line.payable == cny("2.00") and started.snap.total == cny("2.00")
    a = approvals(started)[-1]
    assert (a.reason, a.staff_id, a.role, a.why) == (R.PRICE_OVERRIDE, "S2", Role.SUPERVISOR, "")
    assert "¥3.50" in a.action and "¥2.00" in a.action


def test_price_override_outside_scanning_is_an_illegal_event(started: Lane) -> None:
    started.scan("COKE")
    with pytest.raises(IllegalEventError):
        started.send(m.RequestPriceOverride(started.snap.lines[0].line_id, cny("1.00")))


def test_void_item_needs_an_attendant_by_default(started: Lane) -> None:
    started.scan_and_bag("COKE", 350)
    line_id = started.snap.lines[0].line_id
    started.send(m.RemoveLine(line_id))
    assert started.state is S.NEEDS_ATTENDANT and started.snap.reason is R.VOID_ITEM
    started.pin("1111")
    assert started.state is S.WAITING_FOR_BAGGING and started.snap.bagging.removing
    started.place(-350)
    assert started.state is S.SCANNING and started.snap.lines == ()


def test_void_refused_keeps_the_line(started: Lane) -> None:
    started.scan_and_bag("COKE", 350)
    started.send(m.RemoveLine(started.snap.lines[0].line_id))
    started.pin("1111", approve=False)
    assert started.state is S.SCANNING and len(started.snap.lines) == 1


def test_cancel_transaction_with_approval(started: Lane) -> None:
    started.scan_and_bag("COKE", 350)
    started.scan_and_bag("CHIPS", 80)
    started.send(m.CancelTransaction())
    assert started.state is S.NEEDS_ATTENDANT and started.snap.reason is R.CANCEL_TRANSACTION
    out = started.pin("1111")
    cancelled = [e for e in out if isinstance(e, m.TransactionCancelled)]
    assert cancelled and cancelled[0].skus == ("COKE", "CHIPS")
    assert cancelled[0].approvals[-1].reason is R.CANCEL_TRANSACTION
    assert started.state is S.WELCOME and started.snap.lines == ()


def test_cancel_refused_returns_to_scanning(started: Lane) -> None:
    started.scan_and_bag("COKE", 350)
    started.send(m.CancelTransaction())
    started.pin("1111", approve=False)
    assert started.state is S.SCANNING and len(started.snap.lines) == 1


def test_cancel_with_an_empty_basket_needs_nobody(started: Lane) -> None:
    started.send(m.CancelTransaction())
    assert started.state is S.WELCOME


def _drive(lane: Lane, state: S) -> None:
    if state is S.WELCOME:
        return
    if state is S.LOOKING_UP:
        lane.send(m.OpenLookup())
        return
    if state is S.WEIGHING:
        lane.send(m.OpenLookup())
        lane.send(m.SelectItem("APPLE"))
        return
    lane.send(m.Start())
    if state is S.SCANNING:
        return
    if state is S.WAITING_FOR_BAGGING:
        lane.scan("COKE")
        return
    if state is S.NEEDS_ATTENDANT:
        lane.scan("BEER")
        return
    lane.send(m.EnterPhone(MEMBER.phone))
    lane.scan_and_bag("COKE", 350)
    lane.send(m.Pay())
    if state is S.PAYING:
        return
    lane.send(m.PayByStoredValue())
    if state is S.RECEIPT:
        return
    lane.send(m.ChooseReceipt(m.ReceiptChoice.NONE))


@pytest.mark.parametrize("state", list(S))
def test_help_can_be_requested_from_every_state(make_lane, state: S) -> None:  # noqa: ANN001
    lane = make_lane()
    _drive(lane, state)
    assert lane.state is state
    out = lane.send(m.RequestHelp())
    assert lane.state is state  # help never blocks what is going on
    helps = [e for e in out if isinstance(e, m.PublishHelpRequest) and e.reason is R.HELP]
    assert len(helps) == 1 and lane.snap.help_requested
    assert lane.send(m.RequestHelp()) == ()  # asking twice sends nothing more
    if state is not S.NEEDS_ATTENDANT:
        assert m.SetLight(m.LaneLight.ASSISTANCE) in out
    lane.send(m.ApproveRemote(helps[0].request_id, "S1"))
    assert not lane.snap.help_requested


def test_help_acknowledged_by_pin_is_recorded_in_the_sale(started: Lane) -> None:
    started.send(m.RequestHelp())
    out = started.pin("1111")
    assert any(isinstance(e, m.PublishHelpCleared) and e.reason is R.HELP for e in out)
    assert approvals(started)[-1].reason is R.HELP
