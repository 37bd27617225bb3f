"""The day close: the Z report per kiosk and per shop, recorded once, immutable, queued for HQ,
with late sales shown as an addendum.

Nothing runs at import; build a :class:`DayCloseService` over the edge database.
"""

from edge.dayclose.errors import DayCloseClosedError, DayCloseError, InvalidDayError
from edge.dayclose.report import LABELS, RefundFacts, SaleFacts, build_report, missing_ranges, render_text
from edge.dayclose.service import DayCloseService

__all__ = [
    "DayCloseClosedError", "DayCloseError", "DayCloseService", "InvalidDayError", "LABELS", "RefundFacts",
    "SaleFacts", "build_report", "missing_ranges", "render_text",
]
