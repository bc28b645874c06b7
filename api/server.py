"""The HTTP server's configuration, in one place for `creditlink serve` and the tests.

uvicorn caps connections (`limit_concurrency`, answered 503) and idle keep-alive time, but
has no deadline for a request's headers (a client that sends a request line a byte at a
time holds its connection for ever) and httptools no cap on the URL or the header block.
`LimitedHttpProtocol` adds them; the body's deadline is `api.http`'s, where the body is
read (a 408 with the contract's error body).
"""

from __future__ import annotations

import asyncio
import http
from dataclasses import dataclass
from typing import Any

import orjson
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.draining import DrainingWebSocketProtocol, graceful_stop
from api.errors import ErrorCode
from api.settings import Settings

# uvicorn's defaults, stated: a WebSocket peer that does not answer a ping within 20 s of
# it (sent every 20 s) is dropped
WS_PING_INTERVAL_S = 20.0
WS_PING_TIMEOUT_S = 20.0
# after a refusal, how long what the client still sends is read and dropped (see _linger)
LINGER_S = 2.0


@dataclass(frozen=True)
class HttpLimits:
    """The limits `LimitedHttpProtocol` enforces, from the settings."""

    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    max_url_bytes: int = 8192
    max_header_bytes: int = 32768

    @classmethod
    def of(cls, settings: Settings) -> HttpLimits:
        return cls(
            header_timeout_s=settings.header_timeout_s,
            body_timeout_s=settings.body_timeout_s,
            max_url_bytes=settings.max_url_bytes,
            max_header_bytes=settings.max_header_bytes,
        )


class ServerConfig(uvicorn.Config):
    """uvicorn's configuration carrying the HTTP limits as a plain value: the protocol
    reads them from its config, so the whole configuration pickles into the worker
    processes uvicorn spawns (`api.workers`)."""

    def __init__(self, app: Any, *, limits: HttpLimits, **options: Any) -> None:
        super().__init__(app, **options)
        self.limits = limits


class _Refused(Exception):
    """Raised from a parser callback to stop parsing a request already answered."""


def refusal(status: int, message: str, code: ErrorCode, extra: list[tuple[bytes, bytes]]) -> bytes:
    """A whole HTTP response with the contract's error body; the connection then closes."""
    body = orjson.dumps(
        {"data": None, "errors": [{"message": message, "extensions": {"code": code.value}}]}
    )
    head = [f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}".encode()]
    head += [name + b": " + value for name, value in extra]
    head += [
        b"content-type: application/json",
        b"content-length: " + str(len(body)).encode(),
        b"connection: close",
    ]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


class LimitedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header deadline and size caps.

    The deadline runs from the connection's start, and on a kept-alive connection from
    each request's first byte, until its headers are complete (the idle time between
    requests is uvicorn's keep-alive timeout). A request whose headers miss it is answered
    408 and the connection closed. The URL and the header block are capped as they arrive
    (414, 431), before httptools has buffered more than one read past the cap.
    A body the app answered without reading must still arrive within `body_timeout_s`, or
    the connection is closed. The limits come from the `ServerConfig` it is built with.
    """

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        limits = config.limits if isinstance(config, ServerConfig) else HttpLimits()
        self.header_timeout_s = limits.header_timeout_s
        self.body_timeout_s = limits.body_timeout_s
        self.max_url_bytes = limits.max_url_bytes
        self.max_header_bytes = limits.max_header_bytes
        self._head_timer: asyncio.TimerHandle | None = None
        self._drain_timer: asyncio.TimerHandle | None = None
        self._linger_timer: asyncio.TimerHandle | None = None
        self._reading_head = True
        self._head_bytes = 0  # bytes read since this request began, bodies aside
        self._header_bytes = 0  # completed header lines of this request
        self._body_bytes_in_read = 0
        self._refused = False

    # -- the header deadline

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._reading_head = True
        self._head_bytes = 0
        self._header_bytes = 0
        self._arm_head_timer()  # a no-op for a connection's first request: armed on connect

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._cancel_head_timer()
        super().on_headers_complete()

    def _arm_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.header_timeout_s, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _cancel_timers(self) -> None:
        self._cancel_head_timer()
        for timer in (self._drain_timer, self._linger_timer):
            if timer is not None:
                timer.cancel()
        self._drain_timer = self._linger_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        self._refuse(
            408,
            f"request headers not received within {self.header_timeout_s:g} s",
            ErrorCode.BAD_USER_INPUT,
        )

    # -- the caps

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        self._body_bytes_in_read = 0
        super().data_received(data)
        if self._refused or not self._reading_head:
            return
        # httptools buffers a header line until it ends, unseen: a bound on the bytes read
        # while in the head keeps that buffer bounded too. (A read in which this request
        # began may also hold a pipelined request before it: counted, an overestimate.)
        self._head_bytes += len(data) - self._body_bytes_in_read
        if self._head_bytes > self.max_url_bytes + self.max_header_bytes:
            self._refuse_headers()

    def on_body(self, body: bytes) -> None:
        self._body_bytes_in_read += len(body)
        super().on_body(body)

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > self.max_url_bytes:
            self._refuse(
                414,
                f"the request URL is over {self.max_url_bytes} bytes; send queries in a POST body",
                ErrorCode.QUERY_TOO_COMPLEX,
            )
            raise _Refused

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value) + 4
        if self._header_bytes > self.max_header_bytes:
            self._refuse_headers()
            raise _Refused
        super().on_header(name, value)

    def send_400_response(self, msg: str) -> None:
        # uvicorn answers a parser error with 400; a request stopped by `_Refused` is one
        # this class has already answered
        if not self._refused:
            super().send_400_response(msg)

    def _refuse_headers(self) -> None:
        self._refuse(
            431,
            f"the request's headers are over {self.max_header_bytes} bytes",
            ErrorCode.QUERY_TOO_COMPLEX,
        )

    def _refuse(self, status: int, message: str, code: ErrorCode) -> None:
        self._refused = True
        self._cancel_timers()
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # a pipelined request refused while the one before it is being answered: no
            # answer in the middle of that one; the connection ends after it, the rest unread
            self.cycle.keep_alive = False
            return
        extra = list(self.server_state.default_headers)
        self.transport.write(refusal(status, message, code, extra))
        self._linger()

    def _linger(self) -> None:
        """Closes the connection so the answer survives: a socket closed with unread input
        sends a reset, which can destroy the answer before the client reads it. So only
        this side is shut (the answer then EOF), and what still comes is read and dropped
        until the client closes or LINGER_S passes."""
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()
        self.flow.resume_reading()
        self._linger_timer = self.loop.call_later(LINGER_S, self.transport.close)

    # -- a body nobody reads

    def on_response_complete(self) -> None:
        super().on_response_complete()
        cycle = self.cycle
        if (
            cycle is not None
            and cycle.response_complete
            and cycle.more_body
            and not self.transport.is_closing()
        ):
            # answered before its body was read (405, 413, a route that takes none): the rest
            # may come, and is discarded, but not for ever
            self._drain_timer = self.loop.call_later(self.body_timeout_s, self._drain_timed_out)

    def on_message_complete(self) -> None:
        if self._drain_timer is not None:
            self._drain_timer.cancel()
            self._drain_timer = None
        super().on_message_complete()

    def _drain_timed_out(self) -> None:
        self._drain_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    # -- a graceful stop

    def shutdown(self) -> None:
        stop = graceful_stop(self.app)
        if stop is not None:
            stop.connections += 1
            stop.requests += int(self.cycle is not None and not self.cycle.response_complete)
        super().shutdown()


def server_config(app: Any, settings: Settings, **options: Any) -> ServerConfig:
    """The uvicorn configuration `creditlink serve` runs, and the tests with it; `options`
    are further uvicorn settings (`api.workers` passes its workers and app factory)."""
    return ServerConfig(
        app,
        limits=HttpLimits.of(settings),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        loop="uvloop",
        http=LimitedHttpProtocol,
        ws=DrainingWebSocketProtocol,
        ws_max_size=settings.max_body_bytes,
        ws_ping_interval=WS_PING_INTERVAL_S,
        ws_ping_timeout=WS_PING_TIMEOUT_S,
        # connections (open WebSockets and idle keep-alives included) past this get 503
        limit_concurrency=settings.max_connections,
        timeout_keep_alive=settings.keep_alive_timeout_s,
        # on SIGTERM, requests in flight get this long before they are cancelled
        timeout_graceful_shutdown=settings.shutdown_grace_s,
        # only the h11 protocol reads it; the same cap, should anyone switch to h11
        h11_max_incomplete_event_size=settings.max_url_bytes + settings.max_header_bytes,
        # the API answers its callers directly (loopback by default); trusting
        # X-Forwarded-* would let any caller claim an address, and costs CPU per request
        proxy_headers=False,
        server_header=False,
        # the app configures the logs itself (api.logging_setup), in every worker
        log_config=None,
        **options,
    )
