"""Reporting periods and the period before each (pure: no I/O, no clock)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from hq.errors import InvalidRequestError

__all__ = ["DateRange", "PeriodKind", "periods"]

PeriodKind = Literal["day", "week", "month", "year", "range"]


@dataclass(frozen=True, slots=True)
class DateRange:
    """Business dates from ``start`` to ``end``, both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidRequestError(f"period ends ({self.end}) before it starts ({self.start})")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _month(year: int, month: int) -> DateRange:
    return DateRange(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))


def periods(kind: PeriodKind, anchor: date | None = None, *, start: date | None = None,
            end: date | None = None) -> tuple[DateRange, DateRange]:
    """The period ``kind`` holding ``anchor`` and the period just before it.

    Weeks are ISO weeks (Monday to Sunday); a month or year compares with the whole previous
    month or year; a ``range`` compares with the same number of days just before it.
    """
    if kind == "range":
        if start is None or end is None:
            raise InvalidRequestError("a range needs start and end")
        current = DateRange(start, end)
        prev_end = current.start - timedelta(days=1)
        return current, DateRange(prev_end - timedelta(days=current.days - 1), prev_end)
    if anchor is None:
        raise InvalidRequestError(f"a {kind} period needs a date")
    if kind == "day":
        return DateRange(anchor, anchor), DateRange(anchor - timedelta(days=1), anchor - timedelta(days=1))
    if kind == "week":
        monday = anchor - timedelta(days=anchor.weekday())
        current = DateRange(monday, monday + timedelta(days=6))
        return current, DateRange(monday - timedelta(days=7), monday - timedelta(days=1))
    if kind == "month":
        py, pm = (anchor.year - 1, 12) if anchor.month == 1 else (anchor.year, anchor.month - 1)
        return _month(anchor.year, anchor.month), _month(py, pm)
    if kind == "year":
        return (DateRange(date(anchor.year, 1, 1), date(anchor.year, 12, 31)),
                DateRange(date(anchor.year - 1, 1, 1), date(anchor.year - 1, 12, 31)))
    raise InvalidRequestError(f"unknown period {kind!r}; use day, week, month, year or range")
