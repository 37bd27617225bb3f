"""Learnt bagging tolerances."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.checkout import WeightLearner, WeightLearnerError


def test_catalogue_weight_applies_until_enough_observations() -> None:
    learner = WeightLearner(min_samples=3)
    learner.observe("COKE", 360)
    learner.observe("COKE", 362)
    e = learner.expectation("COKE", catalogue_weight_g=350, configured_tolerance_g=20)
    assert (e.grams, e.tolerance_g, e.learnt) == (350, 20, False)
    learner.observe("COKE", 364)
    e = learner.expectation("COKE", catalogue_weight_g=350, configured_tolerance_g=20)
    assert e.learnt and e.grams == 362


def test_tolerance_grows_with_observed_spread() -> None:
    learner = WeightLearner(k=3, min_samples=3, max_tolerance_g=500)
    for g in (900, 1000, 1100, 950, 1050):
        learner.observe("BREAD", g)
    e = learner.expectation("BREAD", catalogue_weight_g=None, configured_tolerance_g=20)
    assert e.grams == 1000
    assert 200 <= e.tolerance_g <= 250  # σ ≈ 79 → 3σ ≈ 238, under the 25 % cap


def test_tolerance_is_capped_by_share_of_weight() -> None:
    learner = WeightLearner(k=3, min_samples=2, max_tolerance_g=1000, max_tolerance_share=Fraction(1, 10))
    for g in (50, 150, 60, 140):
        learner.observe("X", g)
    e = learner.expectation("X", catalogue_weight_g=None, configured_tolerance_g=5)
    assert e.tolerance_g == 10  # 10 % of 100 g


def test_observation_per_piece_scales_expectation() -> None:
    learner = WeightLearner(min_samples=2)
    learner.observe("C", 700, pieces=2)
    learner.observe("C", 1050, pieces=3)
    assert learner.expectation("C", catalogue_weight_g=None, configured_tolerance_g=10, pieces=4).grams == 1400


def test_state_round_trips() -> None:
    a = WeightLearner()
    for g in (100, 104, 98):
        a.observe("S", g)
    b = WeightLearner()
    b.load(a.to_dict())
    assert b.stats("S") == a.stats("S")


def test_bad_observation_is_refused() -> None:
    with pytest.raises(WeightLearnerError):
        WeightLearner().observe("S", 0)


@settings(max_examples=200, deadline=None)
@given(
    weights=st.lists(st.integers(min_value=1, max_value=50_000), min_size=0, max_size=30),
    configured=st.integers(min_value=0, max_value=400),
    pieces=st.integers(min_value=1, max_value=5),
)
def test_learnt_tolerance_never_below_configured_and_bounded(weights: list[int], configured: int, pieces: int) -> None:
    learner = WeightLearner(max_tolerance_g=200)
    for g in weights:
        learner.observe("SKU", g)
    e = learner.expectation("SKU", catalogue_weight_g=500, configured_tolerance_g=configured, pieces=pieces)
    assert e.tolerance_g >= configured
    assert e.tolerance_g <= max(configured, 200)
