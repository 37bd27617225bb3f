"""Process-wide settings of the edge service's process, applied by its entry point only
(``tillpi edge run``), never by a component: a library must not change its host process.

The sale ingest decides hundreds of sales in one transaction, and each keeps a few dozen
objects alive until the batch is answered. With CPython's default threshold (700 allocations)
the collector's youngest generation ran every dozen sales, re-walking everything still alive;
measured in the bus benchmark, the edge spent about 8 % less CPU per sale with the threshold
below (cyclic garbage is still collected, only less often). ``gc.freeze()`` after start-up
keeps what start-up built (modules, schemas, the web app) out of every later collection.
"""

from __future__ import annotations

import gc

__all__ = ["GC_YOUNG_THRESHOLD", "tune_gc"]

GC_YOUNG_THRESHOLD = 50_000


def tune_gc() -> None:
    """Freeze what is alive now and collect the youngest generation less often."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)
