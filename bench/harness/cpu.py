"""CPU time of a server from /proc: the process named and every process below it.

On a shared, loaded box wall-clock rates say as much about the neighbours as about us;
CPU-milliseconds per request do not, and turn into a capacity estimate for an idle box.

A server is a tree of processes: `creditlink serve` with several workers is uvicorn's
supervisor with one spawned child per worker (and multiprocessing's resource tracker
beside them), and each worker may have analytics processes of its own. A server's CPU is
the sum over that tree. Each process counts its own time (user + system, its threads
included) and that of its children already reaped (`cutime`, `cstime`), so a process that
ended between two readings still counts, in its parent, and nothing counts twice.
The resource tracker is left out: it serves multiprocessing's bookkeeping, not requests.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

_TICK = os.sysconf("SC_CLK_TCK")
RESOURCE_TRACKER = b"multiprocessing.resource_tracker"


@dataclass(frozen=True)
class Stat:
    """What /proc/<pid>/stat says of one process."""

    pid: int
    ppid: int
    started: int  # clock ticks after boot: with the pid, names one process for good
    own_s: float  # user + system of its threads
    reaped_s: float  # user + system of its children that have ended and been waited for


def read_stat(pid: int) -> Stat | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after it
    fields = text.rsplit(")", 1)[1].split()
    # fields[0] is the state: ppid fields[1], utime/stime/cutime/cstime [11:15], starttime [19]
    return Stat(
        pid=pid,
        ppid=int(fields[1]),
        started=int(fields[19]),
        own_s=(int(fields[11]) + int(fields[12])) / _TICK,
        reaped_s=(int(fields[13]) + int(fields[14])) / _TICK,
    )


def _all_stats() -> dict[int, Stat]:
    found: dict[int, Stat] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            stat = read_stat(int(entry.name))
            if stat is not None:
                found[stat.pid] = stat
    return found


def _is_resource_tracker(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return RESOURCE_TRACKER in f.read()
    except OSError:
        return False


def _tree(root: int, stats: dict[int, Stat], tracker: bool) -> list[Stat]:
    if root not in stats:
        return []
    children: dict[int, list[int]] = {}
    for stat in stats.values():
        children.setdefault(stat.ppid, []).append(stat.pid)
    out: list[Stat] = []
    todo = [root]
    while todo:
        pid = todo.pop()
        if pid != root and not tracker and _is_resource_tracker(pid):
            continue  # and its children, of which it has none
        out.append(stats[pid])
        todo.extend(children.get(pid, []))
    return out


def tree(root: int, *, tracker: bool = False) -> list[Stat]:
    """`root` and its descendants as they are now (none if `root` is gone); without
    multiprocessing's resource tracker unless `tracker`."""
    return _tree(root, _all_stats(), tracker)


def tree_seconds(root: int) -> dict[int, float]:
    """CPU seconds so far of each process of `root`'s tree, by pid."""
    return {s.pid: s.own_s + s.reaped_s for s in tree(root)}


def cpu_seconds(pid: int) -> float | None:
    """CPU seconds so far of the tree under `pid` (None if `pid` is gone)."""
    per = tree_seconds(pid)
    return sum(per.values()) if per else None


def snapshot(pids: dict[str, int]) -> dict[str, float | None]:
    """`cpu_seconds` of each named server, from one reading of /proc."""
    stats = _all_stats()
    out: dict[str, float | None] = {}
    for name, pid in pids.items():
        found = _tree(pid, stats, tracker=False)
        out[name] = sum(s.own_s + s.reaped_s for s in found) if found else None
    return out


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


def cores_by_process(
    before: dict[int, float], after: dict[int, float], seconds: float
) -> list[float]:
    """Cores each process of a tree kept busy between two `tree_seconds` readings
    `seconds` apart, busiest first: how evenly a server's workers shared the load."""
    if seconds <= 0:
        return []
    spent = [after[pid] - before.get(pid, 0.0) for pid in after]
    return sorted((round(s / seconds, 2) for s in spent), reverse=True)


def rss_mb(root: int) -> float:
    """Resident memory of `root`'s tree (the resource tracker included), summed: pages
    the processes share count once per process, so this is an upper bound."""
    total_kib = 0
    for stat in tree(root, tracker=True):
        try:
            with open(f"/proc/{stat.pid}/status", encoding="ascii", errors="replace") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total_kib += int(line.split()[1])
                        break
        except OSError:
            continue
    return round(total_kib / 1024, 1)
