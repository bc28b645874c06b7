"""api.metrics.Metrics.watch_gc: every collection of the cyclic GC is timed, and the
watch can be undone (apps come and go in one test process)."""

from __future__ import annotations

import gc

from api.metrics import Metrics


def _count(metrics: Metrics, generation: str) -> float:
    value = metrics.registry.get_sample_value(
        "creditlink_python_gc_pause_seconds_count", {"generation": generation}
    )
    return value or 0.0


def test_collections_are_timed_by_generation_until_unwatched() -> None:
    metrics = Metrics()
    callbacks = len(gc.callbacks)
    unwatch = metrics.watch_gc()
    try:
        gc.collect(0)
        gc.collect()
        assert _count(metrics, "0") >= 1 and _count(metrics, "2") >= 1
        total = metrics.registry.get_sample_value(
            "creditlink_python_gc_pause_seconds_sum", {"generation": "2"}
        )
        assert total is not None and 0 < total < 10
    finally:
        unwatch()
    assert len(gc.callbacks) == callbacks
    seen = _count(metrics, "2")
    gc.collect()
    assert _count(metrics, "2") == seen
