"""Garbage collection for a worker whose state is millions of long-lived Python objects.

CPython's full collection walks every tracked object; the tables of a worker hold millions of them (each
attribution, record and activity entry), so each full collection paused the worker for up to a second and
cost ~10 % of its CPU while state grew (profiles attributed it to whatever allocated at that moment). What
survives a full collection is live: moving it to the permanent generation (`gc.freeze`) right after such a
collection keeps the next ones to the objects created since. Garbage among frozen objects is still freed by
reference counting; only a reference cycle that dies after being frozen would stay (our state holds none).
"""
from __future__ import annotations

import gc
import logging

log = logging.getLogger("relstream.worker")
YOUNG_THRESHOLD = 10_000  # container allocations between young collections (CPython's default: 700)


def _freeze_after_full_collection(phase: str, info: dict) -> None:
    if phase == "stop" and info.get("generation") == 2:
        gc.freeze()


def install() -> None:
    """Idempotent: fewer young collections, and full collections that skip what earlier ones kept."""
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
    if _freeze_after_full_collection not in gc.callbacks:
        gc.callbacks.append(_freeze_after_full_collection)
    log.info("garbage collection: young threshold %d, survivors of full collections frozen", YOUNG_THRESHOLD)
