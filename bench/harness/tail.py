"""What a latency window's tail is made of: stall episodes, and who had the box's CPU.

A p99 over 10 s at ~600 requests/s rests on its ~60 slowest requests, and one stall of
the box or of a process can supply all of them. `episodes` groups the requests over the
target by when they were scheduled: a tail of a few bursts (stalls) reads differently
from one spread over the whole window (queueing). `box_cpu`/`box_share` give the whole
machine's busy share over a window, so the CPU of the processes measured can be set
against everything else that ran.
"""

from __future__ import annotations

import os
from typing import Any

_TICK = os.sysconf("SC_CLK_TCK")
# /proc/stat "cpu" columns: user nice system idle iowait irq softirq steal guest guest_nice
_IDLE, _IOWAIT, _STEAL = 3, 4, 7


def episodes(
    samples: list[tuple[float, float]], threshold_ms: float, gap_s: float = 0.05
) -> dict[str, Any]:
    """Requests slower than `threshold_ms`, grouped into episodes: runs of such requests
    whose scheduled starts lie less than `gap_s` apart.

    `samples` are (scheduled offset in s, latency in ms), in any order."""
    slow = sorted((at, ms) for at, ms in samples if ms > threshold_ms)
    groups: list[list[tuple[float, float]]] = []
    for at, ms in slow:
        if groups and at - groups[-1][-1][0] < gap_s:
            groups[-1].append((at, ms))
        else:
            groups.append([(at, ms)])
    largest = max(groups, key=len, default=[])
    return {
        "threshold_ms": threshold_ms,
        "requests": len(samples),
        "over": len(slow),
        "episodes": len(groups),
        "largest": len(largest),
        "largest_at_s": round(largest[0][0], 3) if largest else None,
        "largest_span_ms": round((largest[-1][0] - largest[0][0]) * 1000, 1) if largest else 0.0,
        "largest_worst_ms": round(max(ms for _, ms in largest), 3) if largest else 0.0,
    }


def box_cpu() -> list[int]:
    """The machine's CPU counters (clock ticks, all cores summed) from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as f:
        fields = f.readline().split()
    return [int(x) for x in fields[1:]]


def box_share(before: list[int], after: list[int]) -> dict[str, float]:
    """Over the window between two `box_cpu` readings: the share of all cores busy,
    the busy core-seconds, and the share stolen by the hypervisor."""
    delta = [a - b for a, b in zip(after, before, strict=False)]
    total = sum(delta[:8]) or 1  # guest time is already counted in user
    idle = delta[_IDLE] + delta[_IOWAIT]
    return {
        "busy_share": round((total - idle) / total, 3),
        "busy_core_s": round((total - idle) / _TICK, 2),
        "steal_share": round(delta[_STEAL] / total, 3),
    }
