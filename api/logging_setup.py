"""Structured JSON logs, one object a line; callers pass fields through `extra`.

Every line logged while a request is served carries that request's id: the ASGI
middleware in `api.http` sets `REQUEST_ID` for the request's task, and both the
formatter and `RequestIdFilter` read it, so resolvers, `graph_model` and the driver
need not pass it along.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from contextvars import ContextVar
from typing import Any

import orjson

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}

REQUEST_ID: ContextVar[str | None] = ContextVar("creditlink_request_id", default=None)


def current_request_id() -> str | None:
    return REQUEST_ID.get()


class RequestIdFilter(logging.Filter):
    """Stamps `request_id` on records logged while a request is being served."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            request_id = REQUEST_ID.get()
            if request_id is not None:
                record.request_id = request_id
        return True


class JsonFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__()
        # a line's second, formatted once per second instead of once per line
        self._second = -1
        self._second_text = ""

    def format(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        if second != self._second:
            self._second_text = self.formatTime(record, "%Y-%m-%dT%H:%M:%S")
            self._second = second
        entry: dict[str, Any] = {
            "ts": f"{self._second_text}.{int(record.msecs):03d}",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id is not None:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key != "request_id":
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class TickBatchingHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes the lines logged during one event-loop tick with one write.

    Under load one tick serves many requests, each logging its line, and a write (a
    syscall) per line is a visible share of a check's cost. Lines wait at most
    until the loop's next iteration, never for a timer: a quiet server writes each line
    as soon as the request that logged it yields. Warnings and above, and lines logged
    outside a running loop, are written at once with everything before them.
    """

    MAX_PENDING = 512

    def __init__(self, stream: Any = None) -> None:
        super().__init__(stream)
        self._pending: list[str] = []
        self._scheduled = False

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self._pending.append(line)
        if record.levelno >= logging.WARNING or len(self._pending) >= self.MAX_PENDING:
            self.flush()
            return
        if self._scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        self._scheduled = True
        loop.call_soon(self.flush)

    def flush(self) -> None:
        self.acquire()
        try:
            self._scheduled = False
            if self._pending:
                text = "\n".join(self._pending) + "\n"
                self._pending.clear()
                self.stream.write(text)
            if hasattr(self.stream, "flush"):
                self.stream.flush()
        finally:
            self.release()


def configure_logging(level: str = "INFO") -> None:
    # No line shows the caller's file and line, thread or process, so the logging module
    # need not look them up for every record (its documented optimisations): every
    # request logs a line, so their cost is paid per request.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = TickBatchingHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # the driver logs connection failures at length; our own log says what matters
    logging.getLogger("neo4j").setLevel(logging.ERROR)
