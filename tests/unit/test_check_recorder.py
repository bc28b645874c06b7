"""graph_model.check_records.CheckRecorder with a stand-in graph: the buffer is
bounded by making callers wait for writes, batchCheck calls count as their checks and
are written whole, a flush writes what was buffered when it began (so the writer keeps
to its interval under load), a failed write's rows go again by the MERGE query, written
rows are not kept alive, the metrics gauge reads the backlog, and with a journal the
records are on disk until written and replayed by MERGE after a crash."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest

from api.metrics import Metrics
from domain.errors import ServiceUnavailable
from graph_model.check_records import WRITE_AGAIN, WRITE_BATCHES, WRITE_RECORDS, CheckRecorder
from graph_model.driver import Graph
from graph_model.journal import Journal, read_segment
from tests.waiting import reached


class _Graph:
    """Writes that wait for `gate` (closed when `gated`, until a test sets it) and take
    `seconds`, or fail while `failing`; with `landing_then_failing`, the next write fails
    once as if its commit's answer had been lost (which rows landed is the integration
    test's)."""

    def __init__(self, *, gated: bool = False) -> None:
        self.gate = asyncio.Event()
        if not gated:
            self.gate.set()
        self.seconds = 0.0
        self.failing = False
        self.landing_then_failing = False
        self.queries: list[str] = []
        self.sent: list[dict[str, Any]] = []
        self.rows_written = 0
        self.writes: list[tuple[str, int]] = []  # (query, checks) per transaction

    async def write(self, query: str, params: dict[str, Any], *, name: str) -> list[Any]:
        assert query in (WRITE_RECORDS, WRITE_BATCHES, *WRITE_AGAIN.values())
        self.queries.append(query)
        await self.gate.wait()
        await asyncio.sleep(self.seconds)
        if self.failing:
            raise ServiceUnavailable("neo4j is away")
        if self.landing_then_failing:
            self.landing_then_failing = False
            raise ServiceUnavailable("connection lost while committing")
        self.sent.append(params)
        self.rows_written += len(params["rows"])
        checks = sum(row.get("size", 1) for row in params["rows"])
        batches = query in (WRITE_BATCHES, WRITE_AGAIN[WRITE_BATCHES])
        self.writes.append(("batches" if batches else "records", checks))
        return []


def _recorder(graph: _Graph, **kwargs: Any) -> CheckRecorder:
    return CheckRecorder(cast(Graph, graph), **kwargs)


@contextlib.asynccontextmanager
async def _running(recorder: CheckRecorder) -> AsyncIterator[CheckRecorder]:
    """The recorder with its background writer started, stopped (a last flush) on exit."""
    recorder.start()
    try:
        yield recorder
    finally:
        await recorder.stop()


def _rows(count: int) -> list[dict[str, Any]]:
    return [{"id": f"C{n}"} for n in range(count)]


async def test_make_room_returns_at_once_while_the_buffer_has_room() -> None:
    graph = _Graph(gated=True)  # nothing could be written
    recorder = _recorder(graph, backlog=5)
    for row in _rows(5):
        recorder.record(row)
    await asyncio.wait_for(recorder.make_room(), 0.5)
    assert recorder.pending == 5


async def test_a_caller_over_the_bound_waits_until_the_writer_catches_up() -> None:
    graph = _Graph(gated=True)
    recorder = _recorder(graph, batch_size=4, interval=0.01, backlog=5)
    async with _running(recorder):
        for row in _rows(12):
            recorder.record(row)
        waiting = asyncio.create_task(recorder.make_room())
        await reached(lambda: len(graph.queries) == 1)  # the writer is held at the gate
        assert not waiting.done()  # 12 pending, none written
        graph.gate.set()
        await asyncio.wait_for(waiting, 1.0)
        assert recorder.pending <= 5
        assert graph.rows_written >= 7
    assert graph.rows_written == 12 and recorder.pending == 0


async def test_while_nothing_can_be_written_a_caller_goes_on_and_no_record_is_dropped() -> None:
    graph = _Graph()
    graph.failing = True
    recorder = _recorder(graph, interval=0.01, backlog=2, room_timeout=0.1)
    async with _running(recorder):
        for row in _rows(3):
            recorder.record(row)
        await asyncio.wait_for(recorder.make_room(), 1.0)
        assert recorder.pending == 3
        graph.failing = False
        await recorder.flush()
    assert graph.rows_written == 3 and recorder.pending == 0


async def test_batches_count_as_their_checks_and_are_written_whole() -> None:
    graph = _Graph()
    recorder = _recorder(graph, batch_size=5, backlog=8, room_timeout=0.05)
    for size in (3, 3, 3, 1):
        recorder.record_batch({"id": f"B{size}", "size": size})
    for row in _rows(2):
        recorder.record(row)
    assert recorder.pending == 12
    await asyncio.wait_for(recorder.make_room(), 1.0)  # nothing writes: it times out
    assert recorder.pending == 12
    await recorder.flush()
    assert recorder.pending == 0
    # the singles in one transaction; the batches whole, about `batch_size` checks each
    assert graph.writes == [("records", 2), ("batches", 6), ("batches", 4)]


async def test_a_batch_over_the_bound_waits_for_the_writer() -> None:
    graph = _Graph(gated=True)
    recorder = _recorder(graph, batch_size=4, interval=0.01, backlog=5)
    async with _running(recorder):
        recorder.record_batch({"id": "B1", "size": 6})
        waiting = asyncio.create_task(recorder.make_room())
        await reached(lambda: len(graph.queries) == 1)  # the writer is held at the gate
        assert not waiting.done()
        graph.gate.set()
        await asyncio.wait_for(waiting, 1.0)
        assert recorder.pending == 0 and graph.writes == [("batches", 6)]


async def test_records_buffered_during_a_write_wait_for_the_next_flush() -> None:
    # under steady load a flush that drained until empty would chase the arrivals:
    # back-to-back transactions of a few rows instead of one per interval
    graph = _Graph(gated=True)
    recorder = _recorder(graph)
    for row in _rows(3):
        recorder.record(row)
    writing = asyncio.create_task(recorder.flush())
    await reached(lambda: len(graph.queries) == 1)  # writing, held at the gate
    for row in _rows(2):
        recorder.record(row)
    graph.gate.set()
    await asyncio.wait_for(writing, 1.0)
    assert graph.writes == [("records", 3)] and recorder.pending == 2
    await recorder.flush()
    assert graph.writes == [("records", 3), ("records", 2)] and recorder.pending == 0


async def test_a_flush_called_during_a_write_writes_the_callers_records_too() -> None:
    # recordFeedback and linkageStats flush before they read: their caller's own check,
    # buffered while the background task was writing, must be written before they return
    graph = _Graph(gated=True)
    recorder = _recorder(graph)
    recorder.record({"id": "C-earlier"})
    background = asyncio.create_task(recorder.flush())
    await reached(lambda: len(graph.queries) == 1)  # writing, held at the gate
    recorder.record({"id": "C-mine"})
    mine = asyncio.create_task(recorder.flush())
    await asyncio.sleep(0)  # one step: it runs until it waits for the write under way
    assert not mine.done()
    graph.gate.set()
    await asyncio.wait_for(asyncio.gather(background, mine), 1.0)
    assert graph.writes == [("records", 1), ("records", 1)] and recorder.pending == 0


async def test_under_steady_arrivals_the_writer_keeps_to_its_interval() -> None:
    graph = _Graph()
    graph.seconds = 0.02  # each write outlasts the gap between arrivals
    recorder = _recorder(graph, interval=0.1)
    started = time.monotonic()
    recorder.start()
    try:
        for _ in range(50):  # 10 records every 10 ms
            for row in _rows(10):
                recorder.record(row)
            await asyncio.sleep(0.01)  # the arrivals' pace, what this test is about
    finally:
        elapsed = time.monotonic() - started
        await recorder.stop()
    assert graph.rows_written == 500
    # at most one write per interval plus the write's own 20 ms, and the final flush
    assert len(graph.writes) <= elapsed / 0.12 + 2, (elapsed, graph.writes)


async def test_rows_of_a_failed_write_are_written_again_without_duplicating() -> None:
    # a connection lost during COMMIT: the rows may have landed, so the retry merges
    # on their ids; once a write succeeds, plain creates again
    graph = _Graph()
    graph.landing_then_failing = True
    recorder = _recorder(graph)
    recorder.record_batch({"id": "B1", "size": 2})
    for row in _rows(2):
        recorder.record(row)
    with pytest.raises(ServiceUnavailable):
        await recorder.flush()
    assert recorder.pending == 4
    await recorder.flush()
    recorder.record({"id": "C9"})
    await recorder.flush()
    assert graph.queries == [
        WRITE_RECORDS,
        WRITE_AGAIN[WRITE_RECORDS],
        WRITE_BATCHES,
        WRITE_RECORDS,
    ]
    assert recorder.pending == 0


async def test_a_disabled_recorder_buffers_nothing() -> None:
    recorder = _recorder(_Graph())
    recorder.enabled = False
    recorder.record({"id": "C1"})
    recorder.record_batch({"id": "B1", "size": 3})
    assert recorder.pending == 0


async def test_written_rows_are_not_held_by_the_parameters_sent() -> None:
    # the driver keeps the parameters in reference cycles; emptied, the rows are freed
    graph = _Graph()
    recorder = _recorder(graph, batch_size=2)
    for row in _rows(5):
        recorder.record(row)
    await recorder.flush()
    assert graph.rows_written == 5
    assert [len(p["rows"]) for p in graph.sent] == [0, 0, 0]


async def test_the_pending_gauge_reads_the_recorder_at_each_scrape() -> None:
    graph = _Graph()
    recorder = _recorder(graph)
    metrics = Metrics()
    metrics.watch_records(recorder)
    for row in _rows(7):
        recorder.record(row)
    assert b"\ncreditlink_check_records_pending 7.0\n" in metrics.render()
    await recorder.flush()
    assert b"\ncreditlink_check_records_pending 0.0\n" in metrics.render()


# -- with a journal ------------------------------------------------------------------------


async def test_journaled_records_are_on_disk_until_written_then_gone(tmp_path: Path) -> None:
    graph = _Graph(gated=True)
    recorder = _recorder(graph, journal=Journal(tmp_path, "checkRecords"))
    for row in _rows(3):
        recorder.record(row)
    await recorder.durable()
    [segment] = tmp_path.glob("*.wal")
    assert [e.row["id"] for e in read_segment(segment.read_bytes()).entries] == ["C0", "C1", "C2"]
    graph.gate.set()
    await recorder.flush()
    await recorder.stop()
    assert graph.rows_written == 3
    assert list(tmp_path.glob("*.wal")) == []


async def test_records_not_written_at_stop_stay_in_the_journal(tmp_path: Path) -> None:
    graph = _Graph()
    graph.failing = True
    recorder = _recorder(graph, journal=Journal(tmp_path, "checkRecords"))
    recorder.record({"id": "C1"})
    await recorder.durable()
    await recorder.stop()  # Neo4j away: the last flush fails
    [segment] = tmp_path.glob("*.wal")
    assert [e.row for e in read_segment(segment.read_bytes()).entries] == [{"id": "C1"}]


async def test_recover_replays_what_a_stopped_process_left_by_merge(tmp_path: Path) -> None:
    left = Journal(tmp_path, "checkRecords")
    left.append(0, {"id": "C1"})
    left.append(1, {"id": "B1", "size": 2})
    await left.close()  # none written: the segment stays, unlocked, as after a crash
    graph = _Graph()
    recorder = _recorder(graph, journal=Journal(tmp_path, "checkRecords"))
    assert await recorder.recover() == 2
    assert graph.queries == [WRITE_AGAIN[WRITE_RECORDS], WRITE_AGAIN[WRITE_BATCHES]]
    assert [p["rows"] for p in graph.sent] == [[{"id": "C1"}], [{"id": "B1", "size": 2}]]
    assert list(tmp_path.glob("*.wal")) == []
    assert await recorder.recover() == 0  # nothing twice


async def test_a_segment_that_cannot_be_replayed_now_stays_for_the_next_try(
    tmp_path: Path,
) -> None:
    left = Journal(tmp_path, "checkRecords")
    left.append(0, {"id": "C1"})
    await left.close()
    graph = _Graph()
    graph.failing = True
    recorder = _recorder(graph, journal=Journal(tmp_path, "checkRecords"))
    with pytest.raises(ServiceUnavailable):
        await recorder.recover()
    graph.failing = False
    assert await recorder.recover() == 1
    assert graph.sent == [{"rows": [{"id": "C1"}]}]


async def test_make_room_waits_while_the_oldest_record_is_past_the_lag() -> None:
    now = [0.0]
    graph = _Graph(gated=True)
    recorder = _recorder(graph, backlog=100, max_lag=1.0, clock=lambda: now[0])
    recorder.record({"id": "C1"})
    await asyncio.wait_for(recorder.make_room(), 0.5)  # fresh: no wait
    now[0] = 1.5
    async with _running(recorder):
        waiting = asyncio.create_task(recorder.make_room())
        await reached(lambda: len(graph.queries) == 1)
        assert not waiting.done()  # one record, but late: the caller waits for the writer
        graph.gate.set()
        await asyncio.wait_for(waiting, 1.0)
    assert graph.rows_written == 1
