"""graph_model.driver.Graph alone, with a stand-in driver: auto-commit reads and their
retries, database work that outlives a cancelled caller, and the time limit every
transaction carries."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from neo4j import exceptions as neo4j_errors

from domain.errors import InternalError, QueryTooComplex, ServiceUnavailable
from graph_model import driver as driver_module
from graph_model.driver import Graph
from tests.waiting import reached


class _Result:
    """Records as the driver gives them: tuples of values, the keys on the result."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self._keys = tuple(rows[0]) if rows else ()
        self._rows = iter(rows)

    def keys(self) -> tuple[str, ...]:
        return self._keys

    def __aiter__(self) -> _Result:
        return self

    async def __anext__(self) -> Any:
        try:
            row = next(self._rows)
        except StopIteration:
            raise StopAsyncIteration from None
        return tuple(row[k] for k in self._keys)


class _Driver:
    """Sessions whose `run` follows a script: an exception to raise, or rows to return,
    optionally after `gate` is set."""

    def __init__(self, script: list[Exception | list[dict[str, Any]]]) -> None:
        self.script = script
        self.runs = 0
        self.sessions_closed = 0
        self.completed = 0  # runs that got past the gate: not cancelled half-way
        self.gate: asyncio.Event | None = None
        self.queries: list[Any] = []  # what each run was given (a Query, with its timeout)
        self.work_timeouts: list[float | None] = []  # of transaction functions

    def session(self, **_: Any) -> _Driver:
        return self

    async def __aenter__(self) -> _Driver:
        return self

    async def __aexit__(self, *_: Any) -> None:
        self.sessions_closed += 1

    async def execute_write(self, work: Any) -> Any:
        self.work_timeouts.append(getattr(work, "timeout", None))
        return await work(self)  # the stand-in is its own transaction: tx.run is run

    async def run(self, query: Any, params: dict[str, Any] | None = None) -> _Result:
        self.queries.append(query)
        step = self.script[min(self.runs, len(self.script) - 1)]
        self.runs += 1
        if self.gate is not None:
            await self.gate.wait()
        self.completed += 1
        if isinstance(step, Exception):
            raise step
        return _Result(step)


def _graph(script: list[Exception | list[dict[str, Any]]]) -> tuple[Graph, _Driver]:
    fake = _Driver(script)
    return Graph(fake, "neo4j"), fake  # type: ignore[arg-type]


async def test_a_read_is_one_auto_commit_run() -> None:
    graph, fake = _graph([[{"ok": 1}]])
    assert await graph.read("RETURN 1 AS ok") == [{"ok": 1}]
    assert fake.runs == 1
    assert fake.sessions_closed == 1


async def test_a_retryable_error_is_retried_until_it_passes() -> None:
    graph, fake = _graph([neo4j_errors.ServiceUnavailable("away"), [{"ok": 1}]])
    assert await graph.read("RETURN 1 AS ok") == [{"ok": 1}]
    assert fake.runs == 2


async def test_a_read_gives_up_after_the_retry_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(driver_module, "RETRY_SECONDS", 0.2)
    graph, fake = _graph([neo4j_errors.ServiceUnavailable("away")])
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(ServiceUnavailable):
        await graph.read("RETURN 1 AS ok")
    assert loop.time() - started < 1.0
    assert 2 <= fake.runs <= 4  # 0.05 + 0.1 s of backoff fit in 0.2 s, 0.2 more do not


async def test_an_error_that_is_not_retryable_is_not_retried() -> None:
    graph, fake = _graph([neo4j_errors.CypherSyntaxError("bad"), [{"ok": 1}]])
    with pytest.raises(InternalError):
        await graph.read("RETRUN 1")
    assert fake.runs == 1


async def test_a_cancelled_caller_leaves_the_query_to_finish_and_close_its_session() -> None:
    graph, fake = _graph([[{"ok": 1}]])
    fake.gate = asyncio.Event()
    caller = asyncio.create_task(graph.read("RETURN 1 AS ok"))
    await reached(lambda: fake.runs == 1)  # the query is running, held at the gate
    assert fake.sessions_closed == 0
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    fake.gate.set()
    await reached(lambda: fake.sessions_closed > 0)
    assert fake.completed == 1  # the query ran to its end, not cancelled mid-message
    assert fake.sessions_closed == 1  # and its session ended, handing the connection back


async def test_a_cancelled_caller_whose_query_then_fails_logs_nothing_unretrieved() -> None:
    graph, fake = _graph([neo4j_errors.CypherSyntaxError("bad")])
    fake.gate = asyncio.Event()
    caller = asyncio.create_task(graph.read("RETRUN 1"))
    await reached(lambda: fake.runs == 1)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    seen: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: seen.append(context))
    try:
        fake.gate.set()
        await reached(lambda: fake.sessions_closed > 0)
        import gc

        gc.collect()  # an unretrieved task exception is reported when the task is freed
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(previous)
    assert fake.completed == 1 and fake.sessions_closed == 1
    assert seen == []


def test_a_statement_is_sent_as_its_text_and_logged_short() -> None:
    from neo4j._codec.packstream.v1 import PackableBuffer, Packer

    from graph_model.driver import _Statement

    text = "MATCH (x:Subject {id: $id}) RETURN x.id AS id"
    statement = _Statement(text)
    assert str(statement) is statement
    assert statement == text
    assert repr(statement) == f"<cypher {len(text)} chars>"

    def packed(value: str) -> bytes:
        buffer = PackableBuffer()
        Packer(buffer).pack(value)
        return bytes(buffer.data)

    assert packed(statement) == packed(text)


async def test_every_transaction_carries_the_time_limit() -> None:
    graph, fake = _graph([[{"ok": 1}]])
    graph.query_timeout = 1.5
    await graph.read("RETURN 1 AS ok")
    await graph.write("RETURN 1 AS ok")

    async def work(tx: Any) -> int:
        await tx.run("RETURN 1 AS ok")
        return 1

    assert await graph.write_tx(work) == 1
    assert [getattr(q, "timeout", None) for q in fake.queries[:1]] == [1.5]  # the read
    assert fake.work_timeouts == [1.5, 1.5]  # the write and the transaction function


@pytest.mark.parametrize(
    "code",
    [
        "Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration",
        "Neo.ClientError.Transaction.TransactionTimedOut",
    ],
)
async def test_a_timed_out_query_is_query_too_complex_and_not_retried(code: str) -> None:
    timed_out = neo4j_errors.Neo4jError._hydrate_neo4j(code=code, message="timed out")
    graph, fake = _graph([timed_out, [{"ok": 1}]])
    graph.query_timeout = 2.0
    with pytest.raises(QueryTooComplex) as raised:
        await graph.read("MATCH (n) RETURN count(n) AS n", name="riskClusters")
    assert raised.value.message == (
        "riskClusters: the database query ran past its 2 s time limit and was stopped; "
        "ask for less (a narrower filter, a smaller depth, fewer ids)"
    )
    assert fake.runs == 1
