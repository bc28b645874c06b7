"""CPU time of a process (user + system, its threads included) from /proc/<pid>/stat.

On a shared, loaded box wall-clock rates say as much about the neighbours as about us;
CPU-milliseconds per request do not, and turn into a capacity estimate for an idle box.
"""

from __future__ import annotations

import os

_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # after "pid (comm)": state is fields[0], utime fields[11], stime fields[12]
    return (int(fields[11]) + int(fields[12])) / _TICK


def snapshot(pids: dict[str, int]) -> dict[str, float | None]:
    return {name: cpu_seconds(pid) for name, pid in pids.items()}


def per_request_ms(
    before: dict[str, float | None], after: dict[str, float | None], requests: int
) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for name, b in before.items():
        a = after.get(name)
        out[name] = (
            None if a is None or b is None or not requests else round((a - b) * 1000 / requests, 3)
        )
    return out
