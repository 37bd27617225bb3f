"""The edge process's GC settings (applied by ``tillpi edge run`` only)."""

from __future__ import annotations

import gc

from edge.runtime import GC_YOUNG_THRESHOLD, tune_gc


def test_tune_gc_freezes_start_up_and_collects_the_young_generation_less_often() -> None:
    before = gc.get_threshold()
    try:
        tune_gc()
        assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, *before[1:])
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
