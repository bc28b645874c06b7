"""A graphql-transport-ws client for the tests, and the signals that a socket is in step.

The server handles one socket's messages in order, answering a `ping` with a `pong`:
whatever it sends in answer to earlier messages (an `error` refusing a subscription, a
close) comes before that `pong` (`in_step`). A subscription's resolver runs in a task of
its own, though; it hears events from the moment the app's event broker holds it
(`holds_subscriptions`), the signal to wait for before writing what it should hear.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import websockets

PROTOCOL = [websockets.Subprotocol("graphql-transport-ws")]
EVENTS = """
subscription($ids: [ID!]!, $areas: [ApplicationArea!]) {
  sanctionEvents(subjectIds: $ids, areas: $areas) { kind sanctionId subjectId roles areas }
}"""


def ws_url(http_url: str) -> str:
    return http_url.replace("http", "ws", 1) + "/graphql"


@contextlib.asynccontextmanager
async def connected(http_url: str, key: str | None) -> AsyncIterator[Any]:
    """A socket to the API at `http_url` that has sent its connection_init with `key`
    (none without one); the caller reads the answer (`acked`, `closed_with`)."""
    async with websockets.connect(ws_url(http_url), subprotocols=PROTOCOL) as ws:
        payload = {"Authorization": f"Bearer {key}"} if key else {}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        yield ws


@contextlib.asynccontextmanager
async def admitted(http_url: str, key: str | None) -> AsyncIterator[Any]:
    """A socket `connected` with `key` that the server has acknowledged."""
    async with connected(http_url, key) as ws:
        await acked(ws)
        yield ws


async def received(ws: Any, timeout: float = 10.0) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return message


async def acked(ws: Any) -> None:
    assert await received(ws) == {"type": "connection_ack"}


async def closed_with(ws: Any) -> int | None:
    with pytest.raises(websockets.ConnectionClosed) as info:
        await asyncio.wait_for(ws.recv(), 10)
    return info.value.rcvd.code if info.value.rcvd else None


async def subscribe(ws: Any, op_id: str, variables: dict[str, Any], query: str = EVENTS) -> None:
    payload = {"query": query, "variables": variables}
    await ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": payload}))


async def error_of(ws: Any) -> dict[str, Any]:
    message = await received(ws)
    assert message["type"] == "error", message
    error: dict[str, Any] = message["payload"][0]
    return error


async def in_step(ws: Any) -> list[dict[str, Any]]:
    """Send a `ping` and return what the server sent before its `pong`: its answers to
    every message sent earlier on this socket."""
    await ws.send(json.dumps({"type": "ping"}))
    before = []
    while (message := await received(ws)) != {"type": "pong"}:
        before.append(message)
    return before


async def holds_subscriptions(app: Any, count: int, timeout: float = 10.0) -> None:
    """Return once the app (served in this process) has exactly `count` subscriptions
    listening for events: each one subscribed since hears every event published."""
    broker = app.state.creditlink.events
    deadline = time.monotonic() + timeout
    while broker.subscriber_count != count:
        assert time.monotonic() < deadline, (
            f"{broker.subscriber_count} subscriptions listening, not {count}"
        )
        await asyncio.sleep(0.01)
