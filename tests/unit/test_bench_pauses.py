"""bench.harness.pauses: the stop-the-world pauses inside a latency step, from Neo4j's
GC log and from two scrapes of the API's /metrics."""

from __future__ import annotations

import datetime as dt
import gc
from pathlib import Path

from api.metrics import Metrics
from bench.harness import pauses

LOG = """\
[2026-11-27T15:05:24.025+0000][0.003s] Using G1
[2026-11-27T15:05:25.100+0000][1.078s] GC(0) Pause Young (Normal) (G1 Evacuation Pause) 24M->3M(64M) 2.345ms
[2026-11-27T15:05:26.100+0000][2.078s] GC(1) Pause Young (Concurrent Start) (G1 Humongous Allocation) 30M->10M(64M) 11.500ms
[2026-11-27T15:05:27.100+0000][3.078s] GC(2) Concurrent Mark Cycle 45.123ms
[2026-11-27T15:05:27.200+0000][3.178s] GC(2) Pause Remark 20M->20M(64M) 1.200ms
"""
ROTATED = """\
[2026-11-27T15:05:28.300+0000][4.278s] GC(3) Pause Full (G1 Compaction Pause) 60M->30M(64M) 132.008ms
"""
T0 = dt.datetime(2026, 11, 27, 15, 5, 25, tzinfo=dt.UTC).timestamp()


def test_jvm_pauses_in_the_window_from_every_rotated_file(tmp_path: Path) -> None:
    log = tmp_path / "gc.log"
    log.write_text(LOG)
    (tmp_path / "gc.log.0").write_text(ROTATED)
    found = pauses.pauses(log, T0, T0 + 10)
    # the concurrent cycle is not a pause
    assert [(round(at - T0, 1), ms) for at, ms, _ in found] == [
        (0.1, 2.345),
        (1.1, 11.5),
        (2.2, 1.2),
        (3.3, 132.008),
    ]
    assert pauses.summary(log, T0 + 1, T0 + 3) == {
        "pauses": 2,
        "total_ms": 12.7,
        "max_ms": 11.5,
        "max_kind": "Pause Young (Concurrent Start) (G1 Humongous Allocation)",
    }
    assert pauses.summary(log, T0 + 20, T0 + 30)["pauses"] == 0


def test_api_gc_pauses_between_two_scrapes() -> None:
    metrics = Metrics()
    unwatch = metrics.watch_gc()
    try:
        before = metrics.render().decode()
        for _ in range(3):
            gc.collect(0)
        after = metrics.render().decode()
    finally:
        unwatch()
    found = pauses.python_gc_summary(before, after)
    # rendering the first scrape may itself have collected once
    assert 3 <= found["pauses"] <= 4 and found["over_10ms"] == 0
    assert found["max_under_ms"] is not None and found["max_under_ms"] <= 10
    assert pauses.python_gc_summary(after, after) == {
        "pauses": 0,
        "over_10ms": 0,
        "max_under_ms": 0.0,
    }
