"""The staff and member directory simulators behind their ports."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from kiosk.checkout import (
    DirectoryUnavailableError,
    MemberDirectory,
    Role,
    SimulatedMemberDirectory,
    SimulatedStaffDirectory,
    StaffDirectory,
)
from kiosk.checkout import AttendantReason as R
from kiosk.checkout import model as m
from kiosk.checkout.errors import CheckoutInputError

from .conftest import MEMBER, Lane, wire_payments


def test_simulators_implement_their_ports(staff_directory: SimulatedStaffDirectory) -> None:
    assert isinstance(staff_directory, StaffDirectory)
    assert isinstance(SimulatedMemberDirectory(), MemberDirectory)


def test_pins_are_stored_hashed(staff_directory: SimulatedStaffDirectory) -> None:
    stored = staff_directory._pins["S1"]  # noqa: SLF001
    assert stored.startswith("$argon2id$") and "1111" not in stored
    assert staff_directory.verify_pin("1111").staff_id == "S1"
    assert staff_directory.verify_pin("0000") is None


def test_inactive_staff_cannot_approve() -> None:
    d = SimulatedStaffDirectory()
    d.add("S9", "Former", Role.MANAGER, pin="9999", badge_token="tok", active=False)
    assert d.verify_pin("9999") is None and d.verify_badge("S9", "tok") is None and d.get("S9") is None


def test_duplicate_pin_is_refused() -> None:
    d = SimulatedStaffDirectory()
    d.add("A", "A", Role.ATTENDANT, pin="4444")
    with pytest.raises(CheckoutInputError):
        d.add("B", "B", Role.ATTENDANT, pin="4444")


def test_offline_staff_directory_says_so_at_the_kiosk(started: Lane, staff_directory: SimulatedStaffDirectory) -> None:
    started.scan("BEER")
    staff_directory.go_offline()
    try:
        out = started.pin("1111")
    finally:
        staff_directory.go_online()
    assert m.ShowMessage("staff_directory_unavailable") in out
    assert started.state is m.CheckoutState.NEEDS_ATTENDANT


def test_offline_member_directory_raises_its_typed_error() -> None:
    d = SimulatedMemberDirectory([MEMBER])
    d.go_offline()
    with pytest.raises(DirectoryUnavailableError):
        d.find_by_id("M001")


def test_every_approval_goes_into_the_sale_with_who_what_why_when(started: Lane, terminal, gateway) -> None:  # noqa: ANN001
    wire_payments(started, terminal, gateway)
    started.scan("BEER")
    started.clock.advance(7)
    started.pin("1111")
    started.place(520)
    started.scan("WATER")
    started.send(m.RequestSkipBagging())
    started.send(m.ApproveRemote(started.snap.request.request_id, "S2", why="pallet"))
    started.send(m.Pay())
    started.send(m.PayByCard())
    terminal.approve()
    approvals = started.snap.finished_sale.approvals
    assert [(a.reason, a.staff_id, a.approved) for a in approvals] == [(R.AGE_RESTRICTED, "S1", True), (R.SKIP_BAGGING, "S2", True)]
    age, skip = approvals
    assert age.at == datetime(2026, 1, 5, 9, 0, 7, tzinfo=timezone.utc)
    assert "BEER" in age.action and skip.why == "pallet" and skip.role is Role.SUPERVISOR
    assert started.snap.finished_sale.lines[1].bagging == "skipped"
    assert started.snap.finished_sale.to_dict()["approvals"][1]["role"] == "supervisor"
