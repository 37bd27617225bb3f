"""Staff accounts: hashing, PIN rules, lockout, roles, badges, sessions, audit, timesheets."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from edge.staff import (
    AccountLockedError,
    AuthenticationError,
    BadgeError,
    ClockingError,
    InvalidCredentialError,
    PermissionDeniedError,
    Principal,
    SessionError,
    Shift,
    StaffStore,
    audit,
    hours_text,
    timesheet,
)
from edge.staff.lockout import LockoutPolicy, LockoutState, is_locked, record_failure
from retail.clock import FakeClock


def test_pin_and_password_are_stored_as_argon2_hashes_never_in_clear(staff: StaffStore, owner: Principal,
                                                                     db_path) -> None:
    row = sqlite3.connect(db_path).execute(
        "SELECT pin_hash, password_hash FROM staff WHERE id = ?", (owner.id,)).fetchone()
    assert row[0].startswith("$argon2id$") and "4821" not in row[0]
    assert row[1].startswith("$argon2id$") and "owner-pass-1" not in row[1]
    assert staff.verify_pin(owner.id, "4821").id == owner.id
    with pytest.raises(AuthenticationError):
        staff.verify_pin(owner.id, "4822")


@pytest.mark.parametrize("pin", ["123", "123456789", "12a4", "1111", "", " 1234"])
def test_pins_outside_four_to_eight_digits_or_trivial_are_refused(staff: StaffStore, owner: Principal, pin: str) -> None:
    with pytest.raises(InvalidCredentialError):
        staff.set_pin(owner.id, pin, actor=owner)


def test_wrong_pins_lock_the_account_until_the_lock_runs_out(staff: StaffStore, owner: Principal,
                                                              clock: FakeClock) -> None:
    clerk = staff.create(name="Ann", role="attendant", pin="2580", actor=owner)
    for _ in range(2):
        with pytest.raises(AuthenticationError) as info:
            staff.verify_pin(clerk.id, "0000")
        assert not isinstance(info.value, AccountLockedError)
    with pytest.raises(AccountLockedError):
        staff.verify_pin(clerk.id, "0000")  # third failure locks (policy: 3)
    with pytest.raises(AccountLockedError):
        staff.verify_pin(clerk.id, "2580")  # even the right PIN is refused while locked
    clock.advance(minutes=9, seconds=59)
    with pytest.raises(AccountLockedError):
        staff.verify_pin(clerk.id, "2580")
    clock.advance(seconds=1)
    assert staff.verify_pin(clerk.id, "2580").id == clerk.id
    actions = [e.action for e in staff.audit_entries(target=f"staff:{clerk.id}")]
    assert actions.count("staff.locked") == 1


def test_lockout_rule_starts_a_fresh_count_after_the_lock_expires() -> None:
    policy = LockoutPolicy(max_attempts=2, lock_for=timedelta(minutes=5))
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    state = record_failure(policy, record_failure(policy, LockoutState(), t0), t0)
    assert is_locked(state, t0 + timedelta(minutes=4))
    after = record_failure(policy, state, t0 + timedelta(minutes=6))
    assert after.failures == 1 and not is_locked(after, t0 + timedelta(minutes=6))


def test_roles_allow_and_deny_permissions(staff: StaffStore, owner: Principal) -> None:
    clerk = staff.principal(staff.create(name="Ann", role="attendant", pin="2580", actor=owner).id)
    manager = staff.principal(staff.create(name="Max", role="manager", actor=owner).id)
    assert clerk.can("alarms.ack") and not clerk.can("members.view_pii") and not clerk.can("refunds.create")
    assert manager.can("members.view_pii") and manager.can("staff.manage")
    assert not manager.can("permissions.manage") and owner.can("permissions.manage")
    with pytest.raises(PermissionDeniedError):
        clerk.require("stock.adjust")


def test_nobody_hands_out_a_role_with_more_than_they_hold(staff: StaffStore, owner: Principal) -> None:
    manager = staff.principal(staff.create(name="Max", role="manager", actor=owner).id)
    clerk = staff.principal(staff.create(name="Ann", role="attendant", actor=owner).id)
    with pytest.raises(PermissionDeniedError):
        staff.create(name="Eve", role="owner", actor=manager)
    with pytest.raises(PermissionDeniedError):
        staff.create(name="Eve", role="attendant", actor=clerk)
    promoted = staff.set_role(clerk.id, "supervisor", actor=manager)
    assert promoted.role.value == "supervisor"
    with pytest.raises(PermissionDeniedError):
        staff.set_role(owner.id, "attendant", actor=manager)  # cannot demote someone above you


def test_permission_and_role_changes_are_audited_with_before_and_after(staff: StaffStore, owner: Principal) -> None:
    staff.grant("attendant", "refunds.create", actor=owner)
    assert "refunds.create" in staff.permissions_of("attendant")
    clerk = staff.create(name="Ann", role="attendant", actor=owner)
    staff.set_role(clerk.id, "supervisor", actor=owner)
    grant = staff.audit_entries(action="permissions.grant")[0]
    assert grant.actor == owner.id and grant.target == "role:attendant"
    assert "refunds.create" in grant.after and "refunds.create" not in grant.before
    role = staff.audit_entries(action="staff.role")[0]
    assert (role.before, role.after) == ({"role": "attendant"}, {"role": "supervisor"})


def test_a_manager_cannot_change_role_permissions(staff: StaffStore, owner: Principal) -> None:
    manager = staff.principal(staff.create(name="Max", role="manager", actor=owner).id)
    with pytest.raises(PermissionDeniedError):
        staff.grant("manager", "permissions.manage", actor=manager)
    assert "permissions.manage" not in staff.permissions_of("manager")


def test_audit_entry_commits_with_the_override_or_not_at_all(staff: StaffStore, owner: Principal) -> None:
    with staff.transaction() as db:
        audit(db, actor=owner.id, action="price.override", target="sku:123", before={"price_minor": 1299},
              after={"price_minor": 999}, at=staff.now())
    with pytest.raises(RuntimeError):
        with staff.transaction() as db:
            audit(db, actor=owner.id, action="refund.create", target="sale:k1:x", after={"minor": 500},
                  at=staff.now())
            raise RuntimeError("the refund failed after the audit row")
    entries = staff.audit_entries(actor=owner.id, action_prefix="")
    actions = [e.action for e in entries]
    assert "price.override" in actions and "refund.create" not in actions
    override = staff.audit_entries(action="price.override")[0]
    assert override.before == {"price_minor": 1299} and override.after == {"price_minor": 999}


def test_audit_log_refuses_updates_and_deletes(staff: StaffStore, owner: Principal, db_path) -> None:
    conn = sqlite3.connect(db_path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE audit_log SET actor = 'someone-else'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM audit_log")
    conn.close()


def test_badge_payload_verifies_and_forgeries_and_revoked_badges_do_not(staff: StaffStore, owner: Principal) -> None:
    clerk = staff.create(name="Ann", role="attendant", actor=owner)
    payload = staff.badge(clerk.id)
    assert payload.startswith(f"TILLPI-STAFF:{clerk.id}:")
    assert staff.verify_badge(payload).id == clerk.id
    forged = payload.replace(clerk.id, owner.id)
    with pytest.raises(BadgeError):
        staff.verify_badge(forged)
    with pytest.raises(BadgeError):
        staff.verify_badge("TILLPI-MEMBER:M000001:ABC")
    new = staff.reissue_badge(clerk.id, actor=owner)
    assert new != payload
    with pytest.raises(BadgeError):
        staff.verify_badge(payload)
    assert staff.verify_badge(new).id == clerk.id


def test_sessions_are_stored_hashed_and_expire(staff: StaffStore, owner: Principal, clock: FakeClock,
                                               db_path) -> None:
    session, _ = staff.login("OLIVIA", "owner-pass-1")
    stored = [r[0] for r in sqlite3.connect(db_path).execute("SELECT token_hash FROM staff_sessions")]
    assert session.token not in stored and len(stored) == 1
    assert staff.session_principal(session.token).id == owner.id
    clock.advance(hours=8)
    with pytest.raises(SessionError):
        staff.session_principal(session.token)


def test_logout_ends_the_session(staff: StaffStore, owner: Principal) -> None:
    session, _ = staff.login("olivia", "owner-pass-1")
    staff.logout(session.token)
    with pytest.raises(SessionError):
        staff.session_principal(session.token)


def test_timesheet_splits_a_shift_over_midnight_and_sums_iso_weeks() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    shifts = [
        Shift(datetime(2026, 3, 1, 14, 0, tzinfo=shanghai), datetime(2026, 3, 1, 22, 30, tzinfo=shanghai)),  # Sun
        Shift(datetime(2026, 3, 2, 20, 0, tzinfo=shanghai), datetime(2026, 3, 3, 2, 15, tzinfo=shanghai)),   # Mon-Tue
    ]
    now = datetime(2026, 3, 10, tzinfo=timezone.utc)
    sheet = timesheet(shifts, date(2026, 3, 1), date(2026, 3, 3), now=now, tz=shanghai)
    assert sheet.days == {date(2026, 3, 1): 510, date(2026, 3, 2): 240, date(2026, 3, 3): 135}
    assert sheet.weeks == {(2026, 9): 510, (2026, 10): 375}
    assert sheet.total_minutes == 885 and hours_text(885) == "14.75"
    assert not sheet.open_shift


def test_clock_in_and_out_build_the_timesheet_on_the_injected_clock(staff: StaffStore, owner: Principal,
                                                                    clock: FakeClock) -> None:
    clerk = staff.create(name="Ann", role="attendant", actor=owner)
    staff.clock_in(clerk.id)
    with pytest.raises(ClockingError):
        staff.clock_in(clerk.id)
    clock.advance(hours=7, minutes=30)
    staff.clock_out(clerk.id)
    with pytest.raises(ClockingError):
        staff.clock_out(clerk.id)
    clock.advance(hours=1)
    staff.clock_in(clerk.id)
    clock.advance(minutes=45)  # still open: counts up to now
    sheet = staff.timesheet(clerk.id, date(2026, 3, 2), date(2026, 3, 8))
    assert sheet.days == {date(2026, 3, 2): 495} and sheet.open_shift


def test_clocking_someone_else_in_needs_permission_and_is_audited(staff: StaffStore, owner: Principal) -> None:
    clerk = staff.principal(staff.create(name="Ann", role="attendant", actor=owner).id)
    other = staff.create(name="Bob", role="attendant", actor=owner)
    with pytest.raises(PermissionDeniedError):
        staff.clock_in(other.id, actor=clerk)
    staff.clock_in(other.id, actor=owner)
    assert staff.audit_entries(action="timesheet.clock_in_for")[0].target == f"staff:{other.id}"


def test_a_permission_added_by_newer_software_reaches_its_default_roles_without_undoing_an_owners_changes(
    db_path, clock, settings, owner  # noqa: ANN001
) -> None:
    import sqlite3

    from edge.staff import StaffStore

    # An edge seeded by older software: "dayclose.close" never existed there, and the owner
    # took "refunds.create" away from supervisors.
    StaffStore.open(db_path, clock=clock, settings=settings).revoke("supervisor", "refunds.create", actor=owner)
    with sqlite3.connect(db_path) as conn:
        conn.execute("DELETE FROM role_permissions WHERE permission = 'dayclose.close'")
        conn.execute("DELETE FROM known_permissions WHERE name = 'dayclose.close'")

    store = StaffStore.open(db_path, clock=clock, settings=settings)

    assert "dayclose.close" in store.permissions_of("manager")
    assert "dayclose.close" not in store.permissions_of("supervisor")
    assert "refunds.create" not in store.permissions_of("supervisor")  # the owner's change stands
