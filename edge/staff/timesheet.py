"""Timesheet arithmetic: shifts (clock-in, clock-out) into minutes per day and per ISO week.

Pure. A shift that crosses midnight (in the shop's time zone) is split between the two days.
An open shift counts up to ``now``. Each day's time is summed first and then
cut to whole minutes (never rounded up); hours are shown as an exact decimal string.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable

from edge.staff.errors import ClockingError

__all__ = ["Shift", "Timesheet", "hours_text", "timesheet"]


@dataclass(frozen=True, slots=True)
class Shift:
    clock_in: datetime
    clock_out: datetime | None = None

    def __post_init__(self) -> None:
        if self.clock_in.tzinfo is None or (self.clock_out is not None and self.clock_out.tzinfo is None):
            raise ClockingError("shift times must be timezone-aware")
        if self.clock_out is not None and self.clock_out < self.clock_in:
            raise ClockingError("a shift cannot end before it starts")


@dataclass(frozen=True, slots=True)
class Timesheet:
    """Minutes worked per local day and per ISO week ``(year, week)`` in ``[start, end]``."""

    start: date
    end: date
    days: dict[date, int] = field(default_factory=dict)
    weeks: dict[tuple[int, int], int] = field(default_factory=dict)
    open_shift: bool = False

    @property
    def total_minutes(self) -> int:
        return sum(self.days.values())


def hours_text(minutes: int) -> str:
    """``450`` → ``"7.50"`` (hours, two decimals, half up)."""
    return str((Decimal(minutes) / Decimal(60)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _split_by_day(begin: datetime, end: datetime, tz: tzinfo) -> Iterable[tuple[date, timedelta]]:
    local_begin = begin.astimezone(tz)
    local_end = end.astimezone(tz)
    cursor = local_begin
    while cursor.date() < local_end.date():
        next_midnight = datetime.combine(cursor.date() + timedelta(days=1), time(0), tzinfo=tz)
        yield cursor.date(), next_midnight - cursor
        cursor = next_midnight
    yield cursor.date(), local_end - cursor


def timesheet(shifts: Iterable[Shift], start: date, end: date, *, now: datetime, tz: tzinfo) -> Timesheet:
    """Minutes per day and week between ``start`` and ``end`` (inclusive, local days)."""
    if end < start:
        raise ClockingError("a timesheet ends on or after its start")
    days: dict[date, timedelta] = {}
    open_shift = False
    for shift in shifts:
        finish = shift.clock_out
        if finish is None:
            open_shift = True
            finish = max(now, shift.clock_in)
        for day, span in _split_by_day(shift.clock_in, finish, tz):
            if start <= day <= end:
                days[day] = days.get(day, timedelta(0)) + span
    minutes = {day: int(span.total_seconds()) // 60 for day, span in sorted(days.items())}
    weeks: dict[tuple[int, int], int] = {}
    for day, mins in minutes.items():
        iso = day.isocalendar()
        weeks[(iso.year, iso.week)] = weeks.get((iso.year, iso.week), 0) + mins
    return Timesheet(start, end, minutes, weeks, open_shift)
