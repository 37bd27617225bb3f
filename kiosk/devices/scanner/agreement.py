"""Frame agreement: when a code seen by the camera becomes a scan. Pure logic, injected clock.

* A code becomes a scan once it was read in ``min_frames`` frames that lie within
  ``window_seconds`` of each other.
* A code held in view is scanned once. It is forgotten (and can be scanned again) only after
  it has been absent for ``leave_frames`` consecutive frames **and** ``leave_seconds``; so a
  few frames that fail to decode (motion blur, glare) do not cause a second scan, while
  taking the product away and bringing it back on purpose does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from retail.clock import Clock

__all__ = ["FrameAgreement"]

Code = tuple[str, str]
"""(text, symbology)"""


@dataclass(slots=True)
class _Track:
    hits: int
    first_hit: float
    last_seen: float
    missed: int = 0
    emitted: bool = False


class FrameAgreement:
    """Decides which per-frame reads become scans. Call :meth:`observe` once per frame."""

    def __init__(
        self,
        *,
        clock: Clock,
        min_frames: int = 2,
        window_seconds: float = 1.0,
        leave_frames: int = 3,
        leave_seconds: float = 0.3,
    ) -> None:
        if min_frames < 1:
            raise ValueError("min_frames must be at least 1")
        if leave_frames < 1:
            raise ValueError("leave_frames must be at least 1")
        if window_seconds <= 0 or leave_seconds < 0:
            raise ValueError("window_seconds must be positive and leave_seconds not negative")
        self._clock = clock
        self._min_frames = min_frames
        self._window = window_seconds
        self._leave_frames = leave_frames
        self._leave_seconds = leave_seconds
        self._tracks: dict[Code, _Track] = {}

    @property
    def in_view(self) -> frozenset[Code]:
        """Codes already scanned and not yet gone from view."""
        return frozenset(c for c, t in self._tracks.items() if t.emitted)

    def observe(self, codes: Iterable[Code]) -> list[Code]:
        """Record one frame's reads; return the codes that become scans with this frame."""
        now = self._clock.monotonic()
        seen = list(dict.fromkeys(codes))
        new_scans: list[Code] = []
        for code in seen:
            track = self._tracks.get(code)
            if track is None or (not track.emitted and now - track.first_hit > self._window):
                track = _Track(hits=0, first_hit=now, last_seen=now, emitted=False)
                self._tracks[code] = track
            track.hits += 1
            track.last_seen = now
            track.missed = 0
            if not track.emitted and track.hits >= self._min_frames:
                track.emitted = True
                new_scans.append(code)
        seen_set = set(seen)
        for code in list(self._tracks):
            if code in seen_set:
                continue
            track = self._tracks[code]
            track.missed += 1
            if track.missed >= self._leave_frames and now - track.last_seen >= self._leave_seconds:
                del self._tracks[code]
        return new_scans

    def reset(self) -> None:
        """Forget everything (for example when the scanner is stopped)."""
        self._tracks.clear()
