"""The one AsyncDriver, and the two ways every query runs: as a read or as a write.

Driver exceptions never leave this module as such: unreachable servers become
`ServiceUnavailable`, constraint violations `Conflict`, a transaction past its time limit
`QueryTooComplex`, anything else `InternalError` (whose message is logged but never shown
to callers).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import neo4j
from neo4j import AsyncDriver, AsyncGraphDatabase, AsyncManagedTransaction
from neo4j import exceptions as neo4j_errors

from domain.errors import (
    Conflict,
    CreditLinkError,
    InternalError,
    QueryTooComplex,
    ServiceUnavailable,
)
from graph_model.values import native

log = logging.getLogger(__name__)
T = TypeVar("T")

QueryObserver = Callable[[str, float], None]

# How long a statement is retried on a retryable error (Neo4j restarting, a leader
# switch, a deadlock) before the caller gets SERVICE_UNAVAILABLE: long enough to ride
# out a blip, short enough that an approval system is answered within seconds when
# Neo4j is down (the driver's own default is 30 s).
RETRY_SECONDS = 2.0
RETRY_FIRST_DELAY = 0.05

# Every transaction's time limit, sent with it (so an external Neo4j enforces it too, not
# only the embedded one, whose own `db.transaction.timeout` of 60 s stays the backstop for
# work outside `Graph`). CREDITLINK_NEO4J_QUERY_TIMEOUT_S sets the app's.
QUERY_TIMEOUT_SECONDS = 30.0
# what Neo4j answers when a transaction outlives its limit (the server's or the client's)
TIMED_OUT_CODES = frozenset(
    {
        "Neo.ClientError.Transaction.TransactionTimedOut",
        "Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration",
    }
)


async def single_map(
    tx: AsyncManagedTransaction,
    query: str,
    column: str,
    params: dict[str, Any] | None = None,
    **kwparams: Any,
) -> dict[str, Any]:
    """The map in `column` of the one row `query` returns (a statement that always returns
    exactly one), as plain values."""
    record = await (await tx.run(query, params, **kwparams)).single()
    assert record is not None
    return dict(native(record[column]))


@dataclass
class Graph:
    """The driver plus the database every session names (`database_` is always set)."""

    driver: AsyncDriver
    database: str
    observe: QueryObserver | None = None
    # seconds each transaction may run before Neo4j ends it; None leaves the server's limit
    query_timeout: float | None = QUERY_TIMEOUT_SECONDS

    async def read(
        self, query: str, params: dict[str, Any] | None = None, *, name: str = "read"
    ) -> list[dict[str, Any]]:
        return await self._run(neo4j.READ_ACCESS, query, params or {}, name)

    async def write(
        self, query: str, params: dict[str, Any] | None = None, *, name: str = "write"
    ) -> list[dict[str, Any]]:
        return await self._run(neo4j.WRITE_ACCESS, query, params or {}, name)

    async def write_tx(
        self, work: Callable[[AsyncManagedTransaction], Awaitable[T]], *, name: str = "write_tx"
    ) -> T:
        """Several statements in one transaction: all of them land, or none."""
        return await self._guarded(self._write_tx(work), name)

    async def _write_tx(self, work: Callable[[AsyncManagedTransaction], Awaitable[T]]) -> T:
        async with self.driver.session(database=self.database) as session:
            return await session.execute_write(self._timed(work))

    def _timed(
        self, work: Callable[[AsyncManagedTransaction], Awaitable[T]]
    ) -> Callable[[AsyncManagedTransaction], Awaitable[T]]:
        """`work` as a transaction function carrying the time limit (`neo4j.unit_of_work`)."""
        return neo4j.unit_of_work(timeout=self.query_timeout)(work)

    async def _run(
        self, mode: str, query: str, params: dict[str, Any], name: str
    ) -> list[dict[str, Any]]:
        params = {k: _fixed_offset(v) for k, v in params.items()}
        work = self._read if mode == neo4j.READ_ACCESS else self._write
        return await self._guarded(work(query, params), name)

    async def _guarded(self, work: Coroutine[Any, Any, T], name: str) -> T:
        """`work` shielded from cancellation, its driver errors translated, its time observed."""
        started = time.perf_counter()
        try:
            return await _uncancellable(work)
        except CreditLinkError:
            raise
        except Exception as exc:
            raise translate(exc, name=name, timeout=self.query_timeout) from exc
        finally:
            self._observe(name, started)

    async def _read(self, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """One statement as an auto-commit transaction.

        `execute_read` would send BEGIN, RUN+PULL and COMMIT: three writes to the socket
        and three server round trips; `session.run` sends RUN+PULL in one. A read has no
        effects, so retrying it by hand on a retryable error is as safe as the managed
        transaction's retry, which it replaces (docs/adr/0002-auto-commit-reads.md).
        """
        deadline = time.monotonic() + RETRY_SECONDS
        delay = RETRY_FIRST_DELAY
        while True:
            try:
                async with self.driver.session(
                    database=self.database, default_access_mode=neo4j.READ_ACCESS
                ) as session:
                    result = await session.run(
                        neo4j.Query(_Statement(query), timeout=self.query_timeout), params
                    )
                    return await _rows(result)
            except (neo4j_errors.Neo4jError, neo4j_errors.DriverError) as exc:
                if not exc.is_retryable() or time.monotonic() + delay > deadline:
                    raise
            await asyncio.sleep(delay)
            delay *= 2

    async def _write(self, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        async def work(tx: AsyncManagedTransaction) -> list[dict[str, Any]]:
            result = await tx.run(_Statement(query), params)
            return await _rows(result)

        async with self.driver.session(database=self.database) as session:
            return await session.execute_write(self._timed(work))

    def _observe(self, name: str, started: float) -> None:
        if self.observe is not None:
            self.observe(name, time.perf_counter() - started)

    async def ping(self) -> None:
        """One query, one attempt: readiness must say at once when Neo4j is away (as the
        translated error), where a read would wait out its retries."""
        try:
            async with self.driver.session(
                database=self.database, default_access_mode=neo4j.READ_ACCESS
            ) as session:
                await (await session.run("RETURN 1 AS ok")).consume()
        except Exception as exc:
            raise translate(exc) from exc


async def _uncancellable(work: Coroutine[Any, Any, T]) -> T:
    """Run the database work to its end even when the caller is cancelled.

    graphql-core cancels a request's sibling resolvers when one of them fails; a driver
    session cancelled mid-message cannot hand its connection back and drops the socket
    unclosed. Shielded, the work finishes (or fails) in its own task and releases its
    connection; the cancelled caller just stops waiting. A write that was already sent
    still commits, which is what its client would see on a retry anyway.
    """
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        task.add_done_callback(_consume_outcome)
        raise


def _consume_outcome(task: asyncio.Future[Any]) -> None:
    # nobody awaits an abandoned task: fetch its error so asyncio does not log it
    if not task.cancelled():
        task.exception()


class _Statement(str):
    """A query text whose repr is short.

    The driver formats `" ".join(map(repr, (query, params, extra)))` for a debug line on
    every RUN, logging on or off, and the repr of a check query several thousand
    characters long is paid on every check. `str()` of it is itself, so the driver
    sends exactly the text it was given.
    """

    __slots__ = ()

    def __str__(self) -> str:
        return self

    def __repr__(self) -> str:
        return f"<cypher {len(self)} chars>"


async def _rows(result: neo4j.AsyncResult) -> list[dict[str, Any]]:
    """Records as plain dicts.

    Every query returns shaped data (maps, lists, scalars; never nodes, relationships or
    paths), so `Record.data()`'s recursive walk for graph types would only copy it.
    """
    keys = result.keys()
    return [dict(zip(keys, record, strict=True)) async for record in result]


def _fixed_offset(value: Any) -> Any:
    """A datetime with a named zone goes to the driver as UTC.

    The driver's packing of ZoneInfo datetimes can crash CPython's C zoneinfo; an instant
    with a fixed offset means the same and is safe.
    """
    if (
        isinstance(value, dt.datetime)
        and value.tzinfo is not None
        and not isinstance(value.tzinfo, dt.timezone)
    ):
        return value.astimezone(dt.UTC)
    return value


def translate(
    exc: BaseException, *, name: str | None = None, timeout: float | None = None
) -> CreditLinkError:
    """The CreditLinkError for a driver exception; `name` (the operation) and `timeout` (the
    limit it ran under) only word a timed-out transaction's message."""
    if isinstance(exc, CreditLinkError):
        return exc
    if isinstance(exc, neo4j_errors.Neo4jError) and exc.code in TIMED_OUT_CODES:
        # the caller's request is more work than one answer may take: asking again would
        # time out again, so not SERVICE_UNAVAILABLE (which says "try again shortly")
        log.warning(
            "a query ran past its time limit", extra={"operation": name, "limit_s": timeout}
        )
        what = f"{name}: " if name else ""
        limit = f"its {timeout:g} s" if timeout else "its"
        return QueryTooComplex(
            f"{what}the database query ran past {limit} time limit and was stopped; "
            "ask for less (a narrower filter, a smaller depth, fewer ids)"
        )
    if isinstance(exc, neo4j_errors.ConstraintError):
        return Conflict("the write conflicts with an existing record")
    if isinstance(exc, neo4j_errors.ServiceUnavailable | neo4j_errors.SessionExpired | OSError):
        return ServiceUnavailable("Neo4j is unreachable; try again shortly")
    if isinstance(exc, neo4j_errors.TransientError):
        return ServiceUnavailable("Neo4j is busy; try again shortly")
    log.error("unexpected database error", exc_info=exc)
    return InternalError("internal error")


def create_driver(uri: str, user: str, password: str) -> AsyncDriver:
    auth = (user, password) if password else None
    return AsyncGraphDatabase.driver(
        uri,
        auth=auth,
        max_connection_pool_size=64,
        connection_acquisition_timeout=5.0,
        connection_timeout=3.0,
        max_transaction_retry_time=RETRY_SECONDS,
        liveness_check_timeout=30.0,
        notifications_min_severity="OFF",
    )


@asynccontextmanager
async def open_graph(uri: str, user: str, password: str, database: str) -> AsyncIterator[Graph]:
    driver = create_driver(uri, user, password)
    try:
        yield Graph(driver, database)
    finally:
        await driver.close()
