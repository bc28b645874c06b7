"""api.event_tail alone, over a stand-in for Neo4j's event log: every event is handed on once,
in seq order, whatever the reads see or fail with."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from api.event_tail import EventTailer
from api.events import EventBroker, Reach, SanctionEvent
from domain.errors import ServiceUnavailable
from graph_model import event_log

AT = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)


class _Log:
    """The event log as `graph_model.event_log` reads it: its head and the events after a seq.
    `hidden` events are committed but not yet seen by a read; `down` fails every read."""

    def __init__(self) -> None:
        self.log_id = "log-1"
        self.events: list[dict[str, Any]] = []
        self.hidden: set[int] = set()
        self.down = False
        self.failed_reads = 0

    def append(self, count: int = 1) -> list[int]:
        added = []
        for _ in range(count):
            seq = len(self.events) + 1
            sanction = {"id": f"S{seq}", "subjectId": f"P{seq}"}
            self.events.append(
                {
                    "seq": seq,
                    "kind": "IMPOSED",
                    "sanctionId": f"S{seq}",
                    "at": AT,
                    "sanction": sanction,
                }
            )
            added.append(seq)
        return added

    async def read(
        self, query: str, params: dict[str, Any] | None = None, *, name: str = ""
    ) -> list[dict[str, Any]]:
        if self.down:
            self.failed_reads += 1
            raise ServiceUnavailable("neo4j is unreachable: connection refused")
        head = {"logId": self.log_id, "seq": len(self.events)}
        if query == event_log.LAST_SEQ:
            return [head]
        assert query == event_log.TAIL and params is not None
        after = [e for e in self.events if e["seq"] > params["after"]][: params["limit"]]
        return [{**head, "events": [e for e in after if e["seq"] not in self.hidden]}]


class _Reach:
    def __init__(self) -> None:
        self.calls = 0
        self.fail_with: Exception | None = None

    async def __call__(self, sanction: dict[str, Any]) -> Reach:
        self.calls += 1
        if self.fail_with is not None:
            raise self.fail_with
        return {sanction["subjectId"]: []}


def _tailer(log: _Log, broker: EventBroker, reach: _Reach, page: int = 500) -> EventTailer:
    return EventTailer(log, broker, reach, poll_s=0.001, max_backoff_s=0.01, page=page)  # type: ignore[arg-type]


async def _until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.001)


class _Listener:
    """One subscriber of the broker, collecting what it hears."""

    def __init__(self, broker: EventBroker) -> None:
        self.heard: list[SanctionEvent] = []
        self._task = asyncio.create_task(self._listen(broker.subscribe()))

    async def _listen(self, events: AsyncIterator[SanctionEvent]) -> None:
        async for event in events:
            self.heard.append(event)

    @property
    def seqs(self) -> list[int]:
        return [e.seq for e in self.heard]

    async def close(self) -> None:
        self._task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self._task


async def _listening(broker: EventBroker) -> _Listener:
    listener = _Listener(broker)
    await _until(lambda: broker.subscriber_count == 1, "the listener never subscribed")
    return listener


async def _with_listener(
    log: _Log, run: Callable[[EventTailer, _Listener, _Reach], Awaitable[None]]
) -> None:
    broker, reach = EventBroker(), _Reach()
    tailer = _tailer(log, broker, reach)
    listener = await _listening(broker)
    try:
        await run(tailer, listener, reach)
    finally:
        await listener.close()


async def test_each_event_after_the_start_is_handed_on_once_in_seq_order() -> None:
    log = _Log()
    log.append(2)  # before the tailer starts: not news to anyone

    async def run(tailer: EventTailer, listener: _Listener, reach: _Reach) -> None:
        assert await tailer.step() == 0 and tailer.position == 2
        log.append(3)
        assert await tailer.step() == 3
        assert await tailer.step() == 0
        await _until(lambda: len(listener.heard) == 3, "three events")
        assert listener.seqs == [3, 4, 5]
        assert [e.sanction_id for e in listener.heard] == ["S3", "S4", "S5"]
        assert listener.heard[0].reach == {"P3": []} and listener.heard[0].at == AT

    await _with_listener(log, run)


async def test_a_page_is_read_at_a_time_and_followed_by_the_next() -> None:
    log, broker, reach = _Log(), EventBroker(), _Reach()
    tailer = _tailer(log, broker, reach, page=2)
    listener = await _listening(broker)
    await tailer.step()
    log.append(5)
    assert [await tailer.step() for _ in range(4)] == [2, 2, 1, 0]
    await _until(lambda: len(listener.heard) == 5, "five events")
    assert listener.seqs == [1, 2, 3, 4, 5]
    await listener.close()


async def test_a_seq_not_yet_seen_is_waited_for_once_then_skipped() -> None:
    log = _Log()

    async def run(tailer: EventTailer, listener: _Listener, reach: _Reach) -> None:
        await tailer.step()
        log.append(3)
        log.hidden = {2}  # committed before 3, but past this read's place in the index
        assert await tailer.step() == 1
        log.hidden = set()
        assert await tailer.step() == 2  # read again: nothing is skipped
        log.append(3)
        log.hidden = {5}
        assert await tailer.step() == 1
        assert await tailer.step() == 1  # still missing on the next read: deleted, not late
        await _until(lambda: len(listener.heard) == 5, "five events")
        assert listener.seqs == [1, 2, 3, 4, 6]

    await _with_listener(log, run)


async def test_neo4j_away_is_logged_once_and_nothing_is_lost(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = _Log()

    async def run(tailer: EventTailer, listener: _Listener, reach: _Reach) -> None:
        tailer.start()
        try:
            await _until(lambda: tailer.position == 0, "the start position")
            log.append(1)
            await _until(lambda: len(listener.heard) == 1, "the first event")
            log.down = True
            await _until(lambda: log.failed_reads >= 5, "five failed reads")
            log.append(2)  # committed while this process could not read
            log.down = False
            await _until(lambda: len(listener.heard) == 3, "the events written meanwhile")
            await _until(lambda: "reading the sanction event log again" in caplog.text, "back")
        finally:
            await tailer.stop()
        assert listener.seqs == [1, 2, 3]
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert [r.getMessage() for r in warnings] == [
            "cannot read the sanction event log; retrying"
        ]

    with caplog.at_level(logging.INFO, logger="creditlink.events"):
        await _with_listener(log, run)


async def test_a_failed_reach_keeps_the_event_until_neo4j_answers() -> None:
    log = _Log()

    async def run(tailer: EventTailer, listener: _Listener, reach: _Reach) -> None:
        await tailer.step()
        log.append(2)
        reach.fail_with = ServiceUnavailable("neo4j is unreachable")
        with pytest.raises(ServiceUnavailable):
            await tailer.step()
        assert tailer.position == 0
        reach.fail_with = None
        assert await tailer.step() == 2
        await _until(lambda: len(listener.heard) == 2, "both events")
        assert listener.seqs == [1, 2]

    await _with_listener(log, run)


async def test_an_event_whose_reach_cannot_be_computed_does_not_hold_up_the_rest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = _Log()

    async def run(tailer: EventTailer, listener: _Listener, reach: _Reach) -> None:
        await tailer.step()
        log.append(1)
        reach.fail_with = KeyError("listType")
        with caplog.at_level(logging.ERROR, logger="creditlink.events"):
            assert await tailer.step() == 1
        assert "not published" in caplog.text
        reach.fail_with = None
        log.append(1)
        assert await tailer.step() == 1
        await _until(lambda: len(listener.heard) == 1, "the second event")
        assert listener.seqs == [2]

    await _with_listener(log, run)


async def test_a_replaced_log_is_followed_from_its_start() -> None:
    log = _Log()
    log.append(7)

    async def run(tailer: EventTailer, listener: _Listener, reach: _Reach) -> None:
        await tailer.step()
        assert tailer.position == 7
        log.log_id, log.events = "log-2", []  # the database emptied and written again
        log.append(2)
        assert await tailer.step() == 2
        await _until(lambda: len(listener.heard) == 2, "the new log's events")
        assert listener.seqs == [1, 2]

    await _with_listener(log, run)


async def test_a_log_behind_the_position_is_followed_from_its_last_event() -> None:
    log = _Log()
    log.append(7)

    async def run(tailer: EventTailer, listener: _Listener, reach: _Reach) -> None:
        await tailer.step()
        del log.events[4:]  # the same log, restored from before events 5-7
        assert await tailer.step() == 0
        assert tailer.position == 4
        log.append(1)
        assert await tailer.step() == 1
        await _until(lambda: len(listener.heard) == 1, "the next event")
        assert listener.seqs == [5]

    await _with_listener(log, run)


async def test_without_subscribers_no_reach_is_computed_and_nothing_is_kept_back() -> None:
    log, broker, reach = _Log(), EventBroker(), _Reach()
    tailer = _tailer(log, broker, reach)
    await tailer.step()
    log.append(3)
    assert await tailer.step() == 0
    assert tailer.position == 3 and reach.calls == 0
    listener = await _listening(broker)
    log.append(1)
    assert await tailer.step() == 1
    await _until(lambda: len(listener.heard) == 1, "the event after subscribing")
    assert listener.seqs == [4] and reach.calls == 1
    await listener.close()


async def test_an_unexpected_error_reading_the_log_does_not_stop_the_tailer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log, broker, reach = _Log(), EventBroker(), _Reach()
    tailer = _tailer(log, broker, reach)
    calls = 0
    read = log.read

    async def faulty(query: str, params: dict[str, Any] | None = None, *, name: str = "") -> Any:
        nonlocal calls
        calls += 1
        if calls <= 3:
            raise RuntimeError("not a database error")
        return await read(query, params, name=name)

    log.read = faulty  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR, logger="creditlink.events"):
        tailer.start()
        try:
            await _until(lambda: tailer.position == 0, "the start position, read at last")
        finally:
            await tailer.stop()
    assert [r.getMessage() for r in caplog.records] == [
        "reading the sanction event log failed; retrying"
    ]


async def test_the_warm_up_runs_once_after_the_first_read_and_may_fail() -> None:
    log, broker, reach = _Log(), EventBroker(), _Reach()
    runs = 0

    async def warm_up() -> None:
        nonlocal runs
        runs += 1
        raise ServiceUnavailable("neo4j is unreachable")

    tailer = EventTailer(log, broker, reach, poll_s=0.001, warm_up=warm_up)  # type: ignore[arg-type]
    listener = await _listening(broker)
    tailer.start()
    try:
        await _until(lambda: runs == 1 and tailer.position == 0, "the warm-up")
        log.append(2)
        await _until(lambda: len(listener.heard) == 2, "the events after it")
    finally:
        await tailer.stop()
        await listener.close()
    assert runs == 1
