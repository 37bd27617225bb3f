"""Which journal sales to send now: a small in-flight window, live sales ahead of the backlog,
re-sends after a timeout. Pure logic: no network, no database, time passed in."""

from __future__ import annotations

from collections import deque
from typing import Callable, Iterable

__all__ = ["DeliveryPlanner"]

# backlog(limit, exclude) -> pending seqs in ascending order, not in ``exclude``
Backlog = Callable[[int, set[int]], Iterable[int]]


class DeliveryPlanner:
    """Keeps at most ``window`` sales unacknowledged; a sale unacknowledged for
    ``resend_after_s`` is sent again. Sales recorded while the bus runs (``note_live``) go
    ahead of the backlog, so a queue of old sales never delays the shopper in front of the
    kiosk; the backlog then drains in sequence order."""

    def __init__(self, *, window: int = 20, resend_after_s: float = 10.0) -> None:
        if window < 1:
            raise ValueError("the in-flight window holds at least one sale")
        if resend_after_s <= 0:
            raise ValueError("resend_after_s must be positive")
        self.window = window
        self.resend_after_s = resend_after_s
        self._inflight: dict[int, float] = {}
        self._live: deque[int] = deque()

    @property
    def inflight(self) -> dict[int, float]:
        return dict(self._inflight)

    def note_live(self, seq: int) -> None:
        self._live.append(seq)

    def acked(self, seq: int) -> None:
        self._inflight.pop(seq, None)

    def reset(self) -> None:
        """The connection dropped: nothing is in flight any more (all goes out again)."""
        self._inflight.clear()

    def expedite(self, now: float, from_seq: int = 1, min_age_s: float = 0.0) -> int:
        """Make in-flight sales from ``from_seq`` on, sent at least ``min_age_s`` ago, due now
        (the edge came back, or asked for a resync). Returns how many."""
        n = 0
        for seq, sent in self._inflight.items():
            if seq >= from_seq and now - sent >= min_age_s:
                self._inflight[seq] = now - self.resend_after_s
                n += 1
        return n

    def next_deadline(self) -> float | None:
        """Monotonic time at which the oldest in-flight sale is due again."""
        if not self._inflight:
            return None
        return min(self._inflight.values()) + self.resend_after_s

    def plan(self, now: float, backlog: Backlog) -> list[int]:
        """Seqs to (re)send now, in order: overdue re-sends, live sales, then backlog."""
        out = [seq for seq, sent in sorted(self._inflight.items()) if now - sent >= self.resend_after_s]
        free = self.window - len(self._inflight)
        while free > 0 and self._live:
            seq = self._live.popleft()
            if seq in self._inflight:
                continue
            out.append(seq)
            self._inflight[seq] = now
            free -= 1
        if free > 0:
            for seq in backlog(free, set(self._inflight)):
                if seq in self._inflight:
                    continue
                out.append(seq)
                self._inflight[seq] = now
                free -= 1
                if free == 0:
                    break
        for seq in out:
            self._inflight[seq] = now
        return out
