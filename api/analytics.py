"""CPU-heavy analytics (Louvain communities, graph exports) in worker processes.

Pure-Python work in a thread would still hold the GIL, slowing the event loop and the
work alike; in a worker process the loop pays only for pickling the job's input and
result. Each job is bounded: at most `workers` run at once (one per worker; more are
refused with SERVICE_UNAVAILABLE rather than queued behind work of unknown length), and a
job past `timeout` seconds is stopped by killing its worker (QUERY_TOO_COMPLEX); the next
job starts a fresh one. Workers are spawned (not forked: the API process has threads) on
first use and live until `close`.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import multiprocessing
import signal
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

from domain.errors import QueryTooComplex, ServiceUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

# what a worker imports before it says it is ready, so no job pays for the imports
PRELOAD = ("domain.scoring.clusters", "api.export")
# a worker that has not started within this is given up on (spawning imports networkx)
START_SECONDS = 60.0
_READY = "ready"


def _serve(conn: Connection, preload: tuple[str, ...]) -> None:
    """A worker's life: run each (function, args) received, send back (ok, value)."""
    # Ctrl-C reaches the whole process group: stopping the worker is the parent's to decide
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in preload:
        importlib.import_module(name)
    conn.send(_READY)
    while True:
        try:
            fn, args = conn.recv()
        except (EOFError, OSError):
            return  # the parent closed the pipe or is gone
        try:
            reply: tuple[bool, Any] = (True, fn(*args))
        except Exception as exc:
            reply = (False, exc)
        try:
            conn.send(reply)
        except Exception as exc:  # an unpicklable result or error
            conn.send((False, RuntimeError(f"analytics result could not be sent: {exc!r}")))


class _Worker:
    def __init__(self, process: BaseProcess, conn: Connection) -> None:
        self.process = process
        self.conn = conn

    @classmethod
    def start(cls, preload: tuple[str, ...]) -> _Worker:
        """A new worker, returned once it has imported `preload` (blocking)."""
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(
            target=_serve, args=(child, preload), name="creditlink-analytics", daemon=True
        )
        process.start()
        child.close()
        worker = cls(process, parent)
        try:
            if not parent.poll(START_SECONDS) or parent.recv() != _READY:
                raise EOFError("no ready message")
        except (EOFError, OSError):
            worker.kill()
            parent.close()
            raise
        return worker

    def call(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[bool, Any]:
        """Send one job and wait for its reply (blocking: run in a thread)."""
        try:
            self.conn.send((fn, args))
            reply: tuple[bool, Any] = self.conn.recv()
        except (EOFError, OSError):
            self.conn.close()  # the worker died or was killed: this end is no use now
            raise
        return reply

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)

    def stop(self) -> None:
        """Ends an idle worker: its pipe closes, its loop returns."""
        self.conn.close()
        self.process.join(5)
        if self.process.is_alive():
            self.kill()


class AnalyticsPool:
    def __init__(self, workers: int, timeout: float, preload: tuple[str, ...] = PRELOAD) -> None:
        self.workers = workers
        self.timeout = timeout
        self.preload = preload
        self.running = 0  # jobs computing in a worker right now
        self._busy = 0  # jobs admitted: starting a worker or computing
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._closed = False

    def worker_pids(self) -> list[int]:
        return sorted(w.process.pid for w in self._all if w.process.pid is not None)

    async def run(self, what: str, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in a worker (`fn` and `args` must pickle); `what` names the field
        asking, for the caller's error messages."""
        if self._closed:
            raise ServiceUnavailable(f"{what}: the API is shutting down")
        if self._busy >= self.workers:
            raise ServiceUnavailable(
                f"{what}: all {self.workers} analytics worker(s) are busy "
                "(CREDITLINK_ANALYTICS_WORKERS); try again shortly"
            )
        self._busy += 1
        try:
            worker = await self._take(what)
            ok, value = await self._call(what, worker, fn, args)
        finally:
            self._busy -= 1
        if not ok:
            raise value
        result: T = value
        return result

    async def _take(self, what: str) -> _Worker:
        if self._idle:
            return self._idle.pop()
        try:
            worker = await asyncio.to_thread(_Worker.start, self.preload)
        except (EOFError, OSError) as exc:
            log.error("an analytics worker did not start", exc_info=exc)
            raise ServiceUnavailable(f"{what}: no analytics worker could be started") from exc
        self._all.add(worker)
        return worker

    async def _call(
        self, what: str, worker: _Worker, fn: Callable[..., Any], args: tuple[Any, ...]
    ) -> tuple[bool, Any]:
        self.running += 1
        deadline = asyncio.timeout(self.timeout)
        try:
            async with deadline:
                reply = await asyncio.to_thread(worker.call, fn, args)
        except TimeoutError:
            if not deadline.expired():
                raise
            self._discard(worker)
            raise QueryTooComplex(
                f"{what}: the computation ran past its {self.timeout:g} s limit "
                "(CREDITLINK_ANALYTICS_TIMEOUT_S) and was stopped; ask for less"
            ) from None
        except (EOFError, OSError) as exc:
            self._discard(worker)
            log.error("an analytics worker stopped", exc_info=exc)
            raise ServiceUnavailable(f"{what}: the analytics worker stopped; try again") from exc
        except BaseException:
            # the caller was cancelled: the work it waited for is no one's any more
            self._discard(worker)
            raise
        finally:
            self.running -= 1
        if self._closed:
            self._discard(worker)
        else:
            self._idle.append(worker)
        return reply

    def _discard(self, worker: _Worker) -> None:
        self._all.discard(worker)
        worker.kill()

    async def close(self) -> None:
        """Stops every worker; jobs still running fail with SERVICE_UNAVAILABLE."""
        self._closed = True
        idle, self._idle = self._idle, []
        busy = self._all.difference(idle)
        self._all.clear()
        for worker in busy:
            worker.process.kill()

        def stop_all() -> None:
            for worker in idle:
                worker.stop()
            for worker in busy:
                with contextlib.suppress(Exception):
                    worker.process.join(5)

        await asyncio.to_thread(stop_all)


async def compute(pool: AnalyticsPool | None, what: str, fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)` in `pool` when there is one, else here (an app built without workers)."""
    if pool is None:
        return fn(*args)
    return await pool.run(what, fn, *args)
