"""Prometheus metrics, for one API process or for the workers of one port.

One process (the default): one registry per app, so several apps in one process (the tests)
stay apart, and the record gauges read their buffer at each scrape.

Several workers: the process that spawns them sets `PROMETHEUS_MULTIPROC_DIR` to a fresh
directory before they start, and prometheus_client (which chooses at import) then keeps
each worker's values in files there. `/metrics` of any worker renders all of them: counters
and histograms summed over every worker that has run there (a worker that died keeps its
counts in the sum, so totals never go back), gauges one sample per live worker, labelled
with its `pid`. A gauge cannot be read from another process at scrape time, so each worker
sets its own from a task every `REFRESH_S` seconds, and the rendering worker again just
before it renders; the gauges of a worker that is gone are removed at render.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gc
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
GC_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
MULTIPROCESS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
REFRESH_S = 1.0

log = logging.getLogger("creditlink.metrics")


class Backlog(Protocol):
    """What a record buffer (graph_model.check_records.RecordBuffer) tells the gauges."""

    @property
    def pending(self) -> int: ...

    @property
    def oldest_age(self) -> float: ...

    @property
    def blocked(self) -> str | None: ...


def multiprocess_dir() -> Path | None:
    """The directory shared with the other workers when this process runs in
    prometheus_client's multiprocess mode, else None."""
    if not getattr(values.ValueClass, "_multiprocess", False):
        if os.environ.get(MULTIPROCESS_DIR_ENV):
            log.warning(
                f"{MULTIPROCESS_DIR_ENV} was set after prometheus_client was imported: "
                "this process's metrics are its own, not summed with other workers'"
            )
        return None
    found = os.environ.get(MULTIPROCESS_DIR_ENV)
    if not found:
        raise RuntimeError(
            f"{MULTIPROCESS_DIR_ENV} was set when prometheus_client was imported and is "
            "unset now: the workers' metrics have nowhere to go"
        )
    return Path(found)


def _alive(pid: int) -> bool:
    """Whether process `pid` runs. A zombie (killed, not yet reaped by its parent) does not."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: it exists, which is all that can be told
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        # gone since, or a system without /proc, where existence is all that can be told
        return not Path("/proc/self/stat").exists()
    except OSError:
        return True
    # "pid (command) state ...": the command may hold spaces and parentheses
    return stat.rsplit(")", 1)[-1].split()[:1] != ["Z"]


def forget_dead_workers(directory: Path) -> list[int]:
    """Remove the live gauges of the workers in `directory` that no longer run (killed,
    without the clean stop that removes them); their counters and histograms stay, so
    totals never go back. Returns the pids removed."""
    pids: set[int] = set()
    for path in directory.glob("gauge_live*_*.db"):
        suffix = path.stem.rsplit("_", 1)[-1]
        if suffix.isdigit():
            pids.add(int(suffix))
    dead = sorted(pid for pid in pids if not _alive(pid))
    for pid in dead:
        _mark_dead(pid, directory)
    return dead


def _mark_dead(pid: int, directory: Path) -> None:
    """Remove the live gauges `pid` left in `directory`."""
    mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]  # untyped upstream


class Metrics:
    """The API's metrics. In multi-worker mode call `start()` in the running loop once the
    `watch_*` calls are made, and `await stop()` at shutdown."""

    def __init__(self) -> None:
        self.multiprocess_dir = multiprocess_dir()
        own: CollectorRegistry | None = None
        if self.multiprocess_dir is None:
            own = self.registry = CollectorRegistry()
        else:
            # the values are files there, opened as the metrics below are made
            self.multiprocess_dir.mkdir(parents=True, exist_ok=True)
            # what render() shows: the files of every worker, this one's included
            self.registry = CollectorRegistry()
            MultiProcessCollector(self.registry, path=str(self.multiprocess_dir))  # type: ignore[no-untyped-call]
        self._readings: list[tuple[Gauge, Callable[[], float]]] = []
        self._gc_pauses: collections.deque[tuple[int, float]] = collections.deque()
        self._refreshing: asyncio.Task[None] | None = None

        self.operation_latency = Histogram(
            "creditlink_graphql_operation_seconds",
            "GraphQL operation latency by operation name",
            ["operation"],
            registry=own,
            buckets=LATENCY_BUCKETS,
        )
        self.query_latency = Histogram(
            "creditlink_neo4j_query_seconds",
            "Neo4j query latency by query name",
            ["query"],
            registry=own,
            buckets=LATENCY_BUCKETS,
        )
        self.errors = Counter(
            "creditlink_graphql_errors_total",
            "GraphQL errors by extensions.code",
            ["code"],
            registry=own,
        )
        self.compiled = Counter(
            "creditlink_graphql_compiled_total",
            "GraphQL operations answered by a compiled plan (api.compiled), by operation name",
            ["operation"],
            registry=own,
        )
        self.decisions = Counter(
            "creditlink_check_decisions_total",
            "Joint sanction check decisions by area",
            ["area", "decision"],
            registry=own,
        )
        # gauges are per worker: with several, each sample is labelled with its worker's pid
        self.records_pending = Gauge(
            "creditlink_check_records_pending",
            "Check records answered but not yet written to Neo4j",
            registry=own,
            multiprocess_mode="liveall",
        )
        self.records_refusing = Gauge(
            "creditlink_check_records_refusing",
            "1 while checks are refused (SERVICE_UNAVAILABLE) because their records cannot "
            "be written, else 0",
            registry=own,
            multiprocess_mode="liveall",
        )
        self.records_oldest = Gauge(
            "creditlink_check_records_oldest_seconds",
            "Seconds the oldest check record not yet written has waited",
            registry=own,
            multiprocess_mode="liveall",
        )
        self.access_pending = Gauge(
            "creditlink_access_records_pending",
            "Access records of personal-data reads not yet written to Neo4j",
            registry=own,
            multiprocess_mode="liveall",
        )
        self.access_refusing = Gauge(
            "creditlink_access_records_refusing",
            "1 while audited reads are refused because their access records cannot be "
            "written, else 0",
            registry=own,
            multiprocess_mode="liveall",
        )
        self.worker_started = Gauge(
            "creditlink_worker_started_seconds",
            "Unix time this API process started serving; with several workers one sample "
            "per live worker, labelled with its pid",
            registry=own,
            multiprocess_mode="liveall",
        )
        self.worker_started.set(time.time())

        self.gc_pauses = Histogram(
            "creditlink_python_gc_pause_seconds",
            "Pauses of Python's cyclic garbage collector by generation",
            ["generation"],
            registry=own,
            buckets=GC_BUCKETS,
        )

    def watch_gc(self) -> Callable[[], None]:
        """Time every collection of the cyclic GC, which stops the event loop while it
        runs, into `gc_pauses`; returns the function that stops watching."""
        by_generation = [self.gc_pauses.labels(str(generation)) for generation in range(3)]
        deferred = self.multiprocess_dir is not None
        started = 0.0

        def on_gc(phase: str, info: dict[str, Any]) -> None:
            nonlocal started
            if phase == "start":
                started = time.perf_counter()
            elif deferred:
                # A collection can start inside prometheus_client's one non-reentrant
                # multiprocess lock (it allocates while holding it); observing here would
                # wait for that lock forever, so the pause is observed at the next refresh.
                self._gc_pauses.append((info["generation"], time.perf_counter() - started))
            else:
                by_generation[info["generation"]].observe(time.perf_counter() - started)

        gc.callbacks.append(on_gc)
        return lambda: gc.callbacks.remove(on_gc)

    def watch_records(self, recorder: Backlog) -> None:
        """The check-record gauges follow `recorder`."""
        self._watch(self.records_pending, lambda: recorder.pending)
        self._watch(self.records_refusing, lambda: recorder.blocked is not None)
        self._watch(self.records_oldest, lambda: recorder.oldest_age)

    def watch_access_records(self, recorder: Backlog) -> None:
        """The access-record gauges follow `recorder`."""
        self._watch(self.access_pending, lambda: recorder.pending)
        self._watch(self.access_refusing, lambda: recorder.blocked is not None)

    def _watch(self, gauge: Gauge, read: Callable[[], float]) -> None:
        if self.multiprocess_dir is None:
            gauge.set_function(read)  # read at each scrape
        else:
            self._readings.append((gauge, read))
            gauge.set(read())

    def refresh(self) -> None:
        """Set this worker's gauges from what they watch and observe the GC pauses since the
        last refresh (multi-worker mode; in one process the gauges are read at scrape)."""
        for gauge, read in self._readings:
            gauge.set(read())
        while self._gc_pauses:
            generation, seconds = self._gc_pauses.popleft()
            self.gc_pauses.labels(str(generation)).observe(seconds)

    def start(self) -> None:
        """In multi-worker mode, refresh every `REFRESH_S` seconds until `stop()`; call it in
        the running event loop. Does nothing in one process."""
        if self.multiprocess_dir is not None and self._refreshing is None:
            self._refreshing = asyncio.create_task(self._refresh_forever())

    async def stop(self) -> None:
        """Stop refreshing. In multi-worker mode this worker's gauges leave /metrics with it;
        its counts stay in the sums."""
        if self._refreshing is not None:
            self._refreshing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refreshing
            self._refreshing = None
        if self.multiprocess_dir is not None:
            _mark_dead(os.getpid(), self.multiprocess_dir)

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_S)
            try:
                self.refresh()
            except Exception:
                # a gauge that cannot be read this time must not stop the others for good
                log.exception("refreshing the metrics failed")

    def observe_query(self, name: str, seconds: float) -> None:
        self.query_latency.labels(name).observe(seconds)

    def render(self) -> bytes:
        if self.multiprocess_dir is not None:
            self.refresh()
            forget_dead_workers(self.multiprocess_dir)
        return generate_latest(self.registry)
