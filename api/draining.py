"""A graceful stop, counted.

On SIGTERM uvicorn stops listening, asks each connection to shut down (an idle one is
closed, a request in flight finishes with `connection: close`, a WebSocket gets close
1012 "service restart" and its app sees the disconnect), waits up to
`timeout_graceful_shutdown` for them, cancels what still runs, then runs the app's
lifespan shutdown, which writes the buffered records and logs `log_drained`'s line.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

log = logging.getLogger("creditlink.server")


@dataclass
class GracefulStop:
    """What a graceful stop found open, tallied as uvicorn asks each connection to shut
    down, on the app's state (`graceful_stop`) for the line its lifespan logs."""

    began: float = field(default_factory=time.monotonic)
    connections: int = 0
    requests: int = 0  # HTTP requests in flight among them, left to finish
    websockets: int = 0


def graceful_stop(app: Any) -> GracefulStop | None:
    """The stop under way of `app` (uvicorn's loaded app), begun when the first
    connection is told of it; None for an app wrapped by uvicorn (its trace logging)."""
    state = getattr(app, "state", None)
    if state is None:
        return None
    stop = getattr(state, "graceful_stop", None)
    if not isinstance(stop, GracefulStop):
        stop = state.graceful_stop = GracefulStop()
    return stop


class DrainingWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O WebSocket protocol, counted when a graceful stop closes it."""

    def shutdown(self) -> None:
        stop = graceful_stop(self.app)
        if stop is not None:
            stop.connections += 1
            stop.websockets += 1
        super().shutdown()


class DrainingServer(uvicorn.Server):
    """uvicorn's server for one process: SIGTERM stops it gracefully and the process then
    exits 0. (uvicorn raises a SIGTERM it handled again once stopped, so the process would
    end killed by the signal, as if it had not stopped cleanly.)"""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig == signal.SIGTERM:
            self.should_exit = True
        else:
            super().handle_exit(sig, frame)


def log_drained(app: Any, written: Mapping[str, int], unwritten: int) -> None:
    """The graceful stop's one log line, once the app has written what it held: the
    connections drained, and the records written at the end by name (`unwritten`: those
    that could not be, a warning)."""
    stop = graceful_stop(app) or GracefulStop()
    fields: dict[str, Any] = {
        "connections": stop.connections,
        "requests": stop.requests,
        "websockets": stop.websockets,
        "seconds": round(time.monotonic() - stop.began, 3),
        **{f"{name}_written": count for name, count in written.items()},
        "records_unwritten": unwritten,
    }
    log.log(logging.WARNING if unwritten else logging.INFO, "drained", extra=fields)
