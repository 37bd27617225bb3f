"""Bagging-area tolerances learnt per item from the weights actually observed.

:class:`WeightLearner` keeps, per SKU, a running mean and variance (Welford's algorithm) of the
weight one piece added to the bagging scale. Once an item has ``min_samples`` observations, its
expected weight is the learnt mean and its tolerance is ``max(configured, k·σ)``, bounded by
``max_tolerance_g`` and by ``max_tolerance_share`` of the expected weight (but never below the
configured tolerance). Before that, the catalogue's ``unit_weight_g`` and
``weight_tolerance_g`` apply. Pure logic: no I/O, no clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Mapping

from kiosk.checkout.errors import WeightLearnerError

__all__ = ["WeightExpectation", "WeightLearner", "WeightStats"]


@dataclass(frozen=True, slots=True)
class WeightStats:
    """Running statistics of one SKU's observed piece weight (grams)."""

    count: int = 0
    mean: float = 0.0
    m2: float = 0.0  # sum of squared deviations from the mean

    @property
    def variance(self) -> float:
        """Sample variance (0 below two observations)."""
        return self.m2 / (self.count - 1) if self.count > 1 else 0.0

    @property
    def stdev(self) -> float:
        return math.sqrt(self.variance)

    def add(self, grams: float) -> WeightStats:
        count = self.count + 1
        delta = grams - self.mean
        mean = self.mean + delta / count
        m2 = self.m2 + delta * (grams - mean)
        return WeightStats(count, mean, m2)


@dataclass(frozen=True, slots=True)
class WeightExpectation:
    """What the bagging scale should show for ``pieces`` of an item: ``grams`` ± ``tolerance_g``.

    ``grams`` is None when nothing is known yet (any weight above the lane's minimum is
    accepted, and learnt). ``learnt`` says whether the figures come from observations.
    """

    grams: int | None
    tolerance_g: int
    learnt: bool

    def accepts(self, observed_g: int) -> bool:
        if self.grams is None:
            return False
        return abs(observed_g - self.grams) <= self.tolerance_g


class WeightLearner:
    """Learns the piece weight of each SKU (see the module docstring)."""

    def __init__(
        self,
        *,
        k: Fraction | int = 3,
        min_samples: int = 3,
        max_tolerance_g: int = 200,
        max_tolerance_share: Fraction = Fraction(1, 4),
        max_pieces_per_observation: int = 20,
    ) -> None:
        if isinstance(k, bool) or not isinstance(k, (int, Fraction)) or k <= 0:
            raise WeightLearnerError(f"k must be a positive int or Fraction, not {k!r}")
        if isinstance(min_samples, bool) or not isinstance(min_samples, int) or min_samples < 2:
            raise WeightLearnerError("min_samples must be an int of at least 2")
        if isinstance(max_tolerance_g, bool) or not isinstance(max_tolerance_g, int) or max_tolerance_g < 1:
            raise WeightLearnerError("max_tolerance_g must be a positive int")
        if not isinstance(max_tolerance_share, Fraction) or not 0 < max_tolerance_share <= 1:
            raise WeightLearnerError("max_tolerance_share must be a Fraction in (0, 1]")
        self._k = Fraction(k)
        self._min_samples = min_samples
        self._max_tol = max_tolerance_g
        self._max_share = max_tolerance_share
        self._max_pieces = max_pieces_per_observation
        self._stats: dict[str, WeightStats] = {}

    # -- learning ------------------------------------------------------------------------------
    def observe(self, sku: str, observed_g: int, pieces: int = 1) -> None:
        """Record that ``pieces`` of ``sku`` weighed ``observed_g`` on the bagging scale."""
        if isinstance(observed_g, bool) or not isinstance(observed_g, int) or observed_g <= 0:
            raise WeightLearnerError(f"an observed weight is a positive whole number of grams, not {observed_g!r}")
        if isinstance(pieces, bool) or not isinstance(pieces, int) or not 1 <= pieces <= self._max_pieces:
            raise WeightLearnerError(f"pieces must be 1..{self._max_pieces}, not {pieces!r}")
        per_piece = observed_g / pieces
        self._stats[sku] = self._stats.get(sku, WeightStats()).add(per_piece)

    def stats(self, sku: str) -> WeightStats:
        return self._stats.get(sku, WeightStats())

    def forget(self, sku: str) -> None:
        self._stats.pop(sku, None)

    # -- expectations ----------------------------------------------------------------------------
    def expectation(
        self, sku: str, *, catalogue_weight_g: int | None, configured_tolerance_g: int, pieces: int = 1
    ) -> WeightExpectation:
        """Expected weight and tolerance for ``pieces`` of ``sku``.

        The tolerance is never below ``configured_tolerance_g`` and never above
        ``max(configured_tolerance_g, min(max_tolerance_g, share·expected))``.
        """
        if isinstance(configured_tolerance_g, bool) or not isinstance(configured_tolerance_g, int) or configured_tolerance_g < 0:
            raise WeightLearnerError("configured tolerance is a non-negative int")
        if isinstance(pieces, bool) or not isinstance(pieces, int) or pieces < 1:
            raise WeightLearnerError("pieces is a positive int")
        stats = self._stats.get(sku)
        if stats is None or stats.count < self._min_samples:
            grams = catalogue_weight_g * pieces if catalogue_weight_g else None
            return WeightExpectation(grams, configured_tolerance_g, False)
        expected = round(stats.mean * pieces)
        # σ of a sum of n independent pieces is √n·σ
        spread = float(self._k) * stats.stdev * math.sqrt(pieces)
        upper = max(configured_tolerance_g, min(self._max_tol, math.floor(expected * self._max_share)))
        tolerance = min(max(configured_tolerance_g, math.ceil(spread)), upper)
        return WeightExpectation(expected, tolerance, True)

    # -- persistence -----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, list[float]]:
        """JSON-safe state: SKU → ``[count, mean, m2]``."""
        return {sku: [s.count, s.mean, s.m2] for sku, s in sorted(self._stats.items())}

    def load(self, data: Mapping[str, list[float]]) -> None:
        """Replace the learnt state with :meth:`to_dict` output."""
        loaded: dict[str, WeightStats] = {}
        for sku, values in data.items():
            try:
                count, mean, m2 = values
                stats = WeightStats(int(count), float(mean), float(m2))
            except (TypeError, ValueError):
                raise WeightLearnerError(f"bad learnt weights for {sku!r}: {values!r}") from None
            if stats.count < 0 or stats.m2 < 0:
                raise WeightLearnerError(f"bad learnt weights for {sku!r}: {values!r}")
            loaded[sku] = stats
        self._stats = loaded
