"""graph_model.check_records.CheckRecorder with a stand-in graph: the buffer is
bounded by making callers wait for writes, written rows are not kept alive, and the
metrics gauge reads the backlog."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from api.metrics import Metrics
from graph_model.check_records import WRITE_RECORDS, CheckRecorder
from graph_model.driver import Graph
from graph_model.errors import ServiceUnavailable


class _Graph:
    """Writes that wait for `gate` (when set up), or fail while `failing`."""

    def __init__(self) -> None:
        self.gate: asyncio.Event | None = None
        self.failing = False
        self.sent: list[dict[str, Any]] = []
        self.rows_written = 0

    async def write(self, query: str, params: dict[str, Any], *, name: str) -> list[Any]:
        assert query == WRITE_RECORDS
        if self.gate is not None:
            await self.gate.wait()
        if self.failing:
            raise ServiceUnavailable("neo4j is away")
        self.sent.append(params)
        self.rows_written += len(params["rows"])
        return []


def _recorder(graph: _Graph, **kwargs: Any) -> CheckRecorder:
    return CheckRecorder(cast(Graph, graph), **kwargs)


def _rows(count: int) -> list[dict[str, Any]]:
    return [{"id": f"C{n}"} for n in range(count)]


async def test_make_room_returns_at_once_while_the_buffer_has_room() -> None:
    graph = _Graph()
    graph.gate = asyncio.Event()  # nothing could be written
    recorder = _recorder(graph, max_pending=5)
    for row in _rows(5):
        recorder.record(row)
    await asyncio.wait_for(recorder.make_room(), 0.5)
    assert recorder.pending == 5


async def test_a_caller_over_the_bound_waits_until_the_writer_catches_up() -> None:
    graph = _Graph()
    graph.gate = asyncio.Event()
    recorder = _recorder(graph, batch_size=4, interval=0.01, max_pending=5)
    recorder.start()
    try:
        for row in _rows(12):
            recorder.record(row)
        waiting = asyncio.create_task(recorder.make_room())
        await asyncio.sleep(0.05)
        assert not waiting.done()  # 12 pending, none written
        graph.gate.set()
        await asyncio.wait_for(waiting, 1.0)
        assert recorder.pending <= 5
        assert graph.rows_written >= 7
    finally:
        await recorder.stop()
    assert graph.rows_written == 12 and recorder.pending == 0


async def test_while_nothing_can_be_written_a_caller_goes_on_and_no_record_is_dropped() -> None:
    graph = _Graph()
    graph.failing = True
    recorder = _recorder(graph, interval=0.01, max_pending=2, room_timeout=0.1)
    recorder.start()
    try:
        for row in _rows(3):
            recorder.record(row)
        await asyncio.wait_for(recorder.make_room(), 1.0)
        assert recorder.pending == 3
        graph.failing = False
        await recorder.flush()
    finally:
        await recorder.stop()
    assert graph.rows_written == 3 and recorder.pending == 0


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
