"""The one AsyncDriver, and the two ways every query runs: as a read or as a write.

Driver exceptions never leave this module as such: unreachable servers become
`ServiceUnavailable`, constraint violations `Conflict`, anything else `InternalError`
(whose message is logged but never shown to callers).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import neo4j
from neo4j import AsyncDriver, AsyncGraphDatabase, AsyncManagedTransaction
from neo4j import exceptions as neo4j_errors

from graph_model.errors import (
    Conflict,
    CreditLinkError,
    InternalError,
    ServiceUnavailable,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

QueryObserver = Callable[[str, float], None]


@dataclass
class Graph:
    """The driver plus the database every session names (`database_` is always set)."""

    driver: AsyncDriver
    database: str
    observe: QueryObserver | None = None

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
        started = time.perf_counter()
        try:
            async with self.driver.session(database=self.database) as session:
                return await session.execute_write(work)
        except CreditLinkError:
            raise
        except Exception as exc:
            raise translate(exc) from exc
        finally:
            self._observe(name, started)

    async def _run(
        self, mode: str, query: str, params: dict[str, Any], name: str
    ) -> list[dict[str, Any]]:
        started = time.perf_counter()
        params = {k: _fixed_offset(v) for k, v in params.items()}

        async def work(tx: AsyncManagedTransaction) -> list[dict[str, Any]]:
            result = await tx.run(query, params)
            return [record.data() async for record in result]

        try:
            async with self.driver.session(database=self.database, default_access_mode=mode) as s:
                if mode == neo4j.READ_ACCESS:
                    return await s.execute_read(work)
                return await s.execute_write(work)
        except CreditLinkError:
            raise
        except Exception as exc:
            raise translate(exc) from exc
        finally:
            self._observe(name, started)

    def _observe(self, name: str, started: float) -> None:
        if self.observe is not None:
            self.observe(name, time.perf_counter() - started)

    async def ping(self) -> bool:
        try:
            await self.read("RETURN 1 AS ok", name="ping")
        except CreditLinkError:
            return False
        return True


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


def translate(exc: BaseException) -> CreditLinkError:
    if isinstance(exc, CreditLinkError):
        return exc
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
        max_transaction_retry_time=5.0,
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
