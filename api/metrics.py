"""Prometheus metrics: one registry per app so several apps in one process stay apart."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

if TYPE_CHECKING:
    from graph_model.access_records import AccessRecorder
    from graph_model.check_records import CheckRecorder

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
GC_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.operation_latency = Histogram(
            "creditlink_graphql_operation_seconds",
            "GraphQL operation latency by operation name",
            ["operation"],
            registry=self.registry,
            buckets=LATENCY_BUCKETS,
        )
        self.query_latency = Histogram(
            "creditlink_neo4j_query_seconds",
            "Neo4j query latency by query name",
            ["query"],
            registry=self.registry,
            buckets=LATENCY_BUCKETS,
        )
        self.errors = Counter(
            "creditlink_graphql_errors_total",
            "GraphQL errors by extensions.code",
            ["code"],
            registry=self.registry,
        )
        self.compiled = Counter(
            "creditlink_graphql_compiled_total",
            "GraphQL operations answered by a compiled plan (api.compiled), by operation name",
            ["operation"],
            registry=self.registry,
        )
        self.decisions = Counter(
            "creditlink_check_decisions_total",
            "Joint sanction check decisions by area",
            ["area", "decision"],
            registry=self.registry,
        )
        self.records_pending = Gauge(
            "creditlink_check_records_pending",
            "Check records answered but not yet written to Neo4j",
            registry=self.registry,
        )
        self.records_refusing = Gauge(
            "creditlink_check_records_refusing",
            "1 while checks are refused (SERVICE_UNAVAILABLE) because their records cannot "
            "be written, else 0",
            registry=self.registry,
        )
        self.records_oldest = Gauge(
            "creditlink_check_records_oldest_seconds",
            "Seconds the oldest check record not yet written has waited",
            registry=self.registry,
        )
        self.access_pending = Gauge(
            "creditlink_access_records_pending",
            "Access records of personal-data reads not yet written to Neo4j",
            registry=self.registry,
        )
        self.access_refusing = Gauge(
            "creditlink_access_records_refusing",
            "1 while audited reads are refused because their access records cannot be "
            "written, else 0",
            registry=self.registry,
        )

        self.gc_pauses = Histogram(
            "creditlink_python_gc_pause_seconds",
            "Pauses of Python's cyclic garbage collector by generation",
            ["generation"],
            registry=self.registry,
            buckets=GC_BUCKETS,
        )

    def watch_gc(self) -> Callable[[], None]:
        """Time every collection of the cyclic GC, which stops the event loop while it
        runs, into `gc_pauses`; returns the function that stops watching."""
        by_generation = [self.gc_pauses.labels(str(generation)) for generation in range(3)]
        started = 0.0

        def on_gc(phase: str, info: dict[str, Any]) -> None:
            nonlocal started
            if phase == "start":
                started = time.perf_counter()
            else:
                by_generation[info["generation"]].observe(time.perf_counter() - started)

        gc.callbacks.append(on_gc)
        return lambda: gc.callbacks.remove(on_gc)

    def watch_records(self, recorder: CheckRecorder) -> None:
        """The check-record gauges read `recorder` at each scrape."""
        self.records_pending.set_function(lambda: recorder.pending)
        self.records_refusing.set_function(lambda: recorder.blocked is not None)
        self.records_oldest.set_function(lambda: recorder.oldest_age)

    def watch_access_records(self, recorder: AccessRecorder) -> None:
        """The access-record gauges read `recorder` at each scrape."""
        self.access_pending.set_function(lambda: recorder.pending)
        self.access_refusing.set_function(lambda: recorder.blocked is not None)

    def observe_query(self, name: str, seconds: float) -> None:
        self.query_latency.labels(name).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
