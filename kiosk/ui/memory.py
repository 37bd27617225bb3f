"""Settling the kiosk process's heap once the app is built, so it stays small and GC stays quick.

A kiosk runs for weeks with one long-lived heap: the Kivy widget tree, the ``.kv`` rules, the
catalogue replica. Python's full (generation 2) garbage collection walks every tracked object
each time it runs, and it runs every so often while a shopper scans — a pause of 50–500 ms on a
Pi-class CPU in the middle of drawing a basket line. :func:`settle_heap` runs after start-up,
and again after each screen the app builds when it is first shown:

* ``gc.collect()`` frees what start-up left behind (e.g. ``pypinyin``'s dictionaries, see
  :mod:`kiosk.catalogue_replica`);
* glibc's ``malloc_trim(0)`` hands freed heap pages back to the system (where glibc is the
  C library; elsewhere this step is skipped);
* ``gc.freeze()`` moves every object alive now into the permanent generation, so later
  collections look only at what was made since (the objects a sale creates). Frozen objects
  are still freed by reference counting; only a reference cycle among them would be kept.

The app trims again each time the welcome screen is back after a sale: a sale's screens
allocate and free label pixels and textures, and glibc keeps what was freed in its heap,
scattered between live blocks, unless asked to return it (about 10 MB on the kiosk bench).

Nothing runs at import.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["HeapReport", "settle_heap", "trim_malloc"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HeapReport:
    collected: int  # unreachable objects freed
    trimmed: bool  # malloc_trim ran
    frozen: int  # objects moved to the permanent generation


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, looked up once (``find_library`` runs ``ldconfig``)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # musl and others have no malloc_trim
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def trim_malloc() -> bool:
    """Ask glibc to return freed heap memory to the system; False where that is not possible."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)  # 1 when memory went back, 0 when there was none to give: it ran either way
    return True


def settle_heap(*, freeze: bool = True, trim: bool = True) -> HeapReport:
    """Collect, trim and (by default) freeze the heap; see the module docstring."""
    collected = gc.collect()
    trimmed = trim_malloc() if trim else False
    frozen = 0
    if freeze:
        gc.freeze()
        frozen = gc.get_freeze_count()
    logger.info("heap settled: %d objects freed, %d frozen, malloc trimmed: %s", collected, frozen, trimmed)
    return HeapReport(collected, trimmed, frozen)
