"""Lockout after repeated failed sign-ins: a pure rule over (failures, locked_until, now).

After ``max_attempts`` consecutive failures the account is locked for ``lock_for``; the
counter restarts after a success or once the lock has run out. PIN, password and badge
sign-ins share one counter per account, so switching method does not buy more guesses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from edge.staff.errors import InvalidCredentialError

__all__ = ["LockoutPolicy", "LockoutState", "is_locked", "record_failure", "record_success"]


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    max_attempts: int = 5
    lock_for: timedelta = timedelta(minutes=15)

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.lock_for <= timedelta(0):
            raise InvalidCredentialError("a lockout policy needs max_attempts >= 1 and a positive lock_for")


@dataclass(frozen=True, slots=True)
class LockoutState:
    failures: int = 0
    locked_until: datetime | None = None


def is_locked(state: LockoutState, now: datetime) -> bool:
    return state.locked_until is not None and now < state.locked_until


def record_failure(policy: LockoutPolicy, state: LockoutState, now: datetime) -> LockoutState:
    """The state after one more failed attempt at ``now``."""
    failures = state.failures
    if state.locked_until is not None and now >= state.locked_until:
        failures = 0  # the lock ran out: a fresh set of attempts
    failures += 1
    if failures >= policy.max_attempts:
        return LockoutState(failures, now + policy.lock_for)
    return LockoutState(failures, None)


def record_success() -> LockoutState:
    return LockoutState(0, None)
