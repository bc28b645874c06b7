"""sanctionEvents over graphql-transport-ws: a watcher hears of sanctions that reach it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from tests.conftest import ApiServer
from tests.graphql_ws import (
    admitted,
    closed_with,
    connected,
    holds_subscriptions,
    received,
    subscribe,
)
from tests.integration.scenario import LIFT, build_shoe_world, impose


@contextlib.asynccontextmanager
async def watching(api: ApiServer, variables: dict[str, Any]) -> AsyncIterator[Any]:
    """An approval system's socket with one subscription, yielded once it listens: it
    hears every sanction written from then on."""
    async with admitted(api.url, "approval-key") as ws:
        await subscribe(ws, "1", variables)
        await holds_subscriptions(api.app, 1)  # the session's server has no other
        yield ws


async def _event(ws: Any) -> dict[str, Any]:
    """The next event's payload (the socket's `next` message)."""
    message = await received(ws, timeout=20)
    assert message["type"] == "next", message
    event: dict[str, Any] = message["payload"]["data"]["sanctionEvents"]
    return event


async def test_watcher_hears_impose_objection_and_lift_through_a_role(
    api_server: ApiServer,
) -> None:
    w = build_shoe_world(api_server)
    async with watching(api_server, {"ids": [w.child], "areas": ["CONVENIENCE_SERVICES"]}) as ws:
        sanction = await asyncio.to_thread(impose, api_server, subjectId=w.company)
        assert await _event(ws) == {
            "kind": "IMPOSED",
            "sanctionId": sanction["id"],
            "subjectId": w.child,
            "roles": ["HOUSEHOLD_CHILD"],
            "areas": ["CONVENIENCE_SERVICES"],
        }
        lift = {"sanctionId": sanction["id"], "kind": "REVOKED", "reason": "错误"}
        await asyncio.to_thread(api_server.post, LIFT, {"input": lift}, "court-key")
        assert (await _event(ws))["kind"] == "LIFTED"


async def test_unwatched_subjects_hear_nothing_and_bad_keys_are_refused(
    api_server: ApiServer,
) -> None:
    w = build_shoe_world(api_server)
    async with watching(api_server, {"ids": [w.spouse], "areas": None}) as ws:
        await asyncio.to_thread(impose, api_server, subjectId=w.company)
        # a sanction on the spouse herself: the events reach the subscription in the order
        # they were published, so hearing this one first means the company's brought nothing
        own = await asyncio.to_thread(impose, api_server, subjectId=w.spouse)
        event = await _event(ws)
        assert (event["sanctionId"], event["subjectId"]) == (own["id"], w.spouse)
    async with connected(api_server.url, "wrong") as ws:
        assert await closed_with(ws) == 4401
    # PUBLIC may not subscribe: closed at connection_init, before any subscription
    async with connected(api_server.url, None) as ws:
        assert await closed_with(ws) == 4401
