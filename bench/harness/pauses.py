"""Neo4j's JVM pauses in a window of wall-clock time, from its GC log.

The embedded runtime logs every collection (`EmbeddedNeo4j.gc_log`); a latency step
reads the pauses that fell inside it, so a tail can be told apart from the JVM's
stop-the-world collections.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

# [2026-11-27T15:05:24.025+0000][12.345s] GC(7) Pause Young (Normal) (G1 Evacuation Pause) 300M->40M(6144M) 12.345ms
PAUSE = re.compile(
    r"^\[(?P<at>[^\]]+)\]\[[0-9.]+s\] GC\(\d+\) (?P<what>Pause [A-Za-z]+(?: \([^)]*\))*)"
    r".* (?P<ms>[0-9.]+)ms$"
)


def pauses(log: Path, start: float, end: float) -> list[tuple[float, float, str]]:
    """(epoch seconds, milliseconds, kind) of each pause that began in [start, end]."""
    found: list[tuple[float, float, str]] = []
    for path in sorted(log.parent.glob(log.name + "*")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            match = PAUSE.match(line)
            if match is None:
                continue
            at = dt.datetime.strptime(match["at"], "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
            if start <= at <= end:
                found.append((at, float(match["ms"]), match["what"]))
    return sorted(found)


def summary(log: Path, start: float, end: float) -> dict[str, Any]:
    """Count, total and longest of the pauses in [start, end]."""
    found = pauses(log, start, end)
    longest = max(found, key=lambda p: p[1], default=None)
    return {
        "pauses": len(found),
        "total_ms": round(sum(p[1] for p in found), 1),
        "max_ms": round(longest[1], 1) if longest else 0.0,
        "max_kind": longest[2] if longest else None,
    }


GC_BUCKET = re.compile(
    r'^creditlink_python_gc_pause_seconds_bucket\{generation="(\d)",le="([^"]+)"\} ([0-9.e+]+)$',
    re.MULTILINE,
)


def python_gc_buckets(metrics_text: str) -> dict[float, float]:
    """Cumulative count of the API's cyclic-GC pauses per bucket bound, all generations."""
    buckets: dict[float, float] = {}
    for _generation, bound, count in GC_BUCKET.findall(metrics_text):
        key = float(bound)  # "+Inf" becomes inf
        buckets[key] = buckets.get(key, 0.0) + float(count)
    return buckets


def python_gc_summary(before: str, after: str) -> dict[str, Any]:
    """The API's GC pauses between two scrapes of its /metrics: how many, how many over
    10 ms, and the bucket bound the longest stayed under."""
    start, end = python_gc_buckets(before), python_gc_buckets(after)
    grew = {bound: end[bound] - start.get(bound, 0.0) for bound in end}
    count = grew.get(float("inf"), 0.0)
    longest = min((b for b, n in grew.items() if n >= count), default=float("inf"))
    if count == 0:
        longest = 0.0
    return {
        "pauses": int(count),
        "over_10ms": int(count - grew.get(0.01, 0.0)),
        "max_under_ms": None if longest == float("inf") else round(longest * 1000, 1),
    }
