"""sanctionEvents over graphql-transport-ws: a watcher hears of sanctions that reach it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets

from tests.conftest import ApiServer
from tests.integration.scenario import build_shoe_world, impose

SUBSCRIBE = """
subscription($ids: [ID!]!, $areas: [ApplicationArea!]) {
  sanctionEvents(subjectIds: $ids, areas: $areas) { kind sanctionId subjectId roles areas }
}"""


async def _next(ws: Any) -> dict[str, Any]:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 20))
        if message["type"] in {"next", "error", "complete"}:
            return dict(message)


async def test_watcher_hears_impose_objection_and_lift_through_a_role(
    api_server: ApiServer,
) -> None:
    w = build_shoe_world(api_server)
    url = api_server.url.replace("http", "ws") + "/graphql"
    async with websockets.connect(
        url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
    ) as ws:
        await ws.send(
            json.dumps(
                {"type": "connection_init", "payload": {"Authorization": "Bearer approval-key"}}
            )
        )
        ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert ack["type"] == "connection_ack"
        variables = {"ids": [w.child], "areas": ["CONVENIENCE_SERVICES"]}
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": SUBSCRIBE, "variables": variables},
                }
            )
        )
        await asyncio.sleep(0.3)  # the subscription is registered before the write
        sanction = await asyncio.to_thread(impose, api_server, subjectId=w.company)
        event = await _next(ws)
        assert event["type"] == "next", event
        payload = event["payload"]["data"]["sanctionEvents"]
        assert payload == {
            "kind": "IMPOSED",
            "sanctionId": sanction["id"],
            "subjectId": w.child,
            "roles": ["HOUSEHOLD_CHILD"],
            "areas": ["CONVENIENCE_SERVICES"],
        }
        await asyncio.to_thread(
            api_server.post,
            'mutation($id: ID!) { liftSanction(input: {sanctionId: $id, kind: REVOKED, reason: "错误"}) { id } }',
            {"id": sanction["id"]},
            "court-key",
        )
        lifted = await _next(ws)
        assert lifted["payload"]["data"]["sanctionEvents"]["kind"] == "LIFTED"


async def test_unwatched_subjects_hear_nothing_and_bad_keys_are_refused(
    api_server: ApiServer,
) -> None:
    w = build_shoe_world(api_server)
    url = api_server.url.replace("http", "ws") + "/graphql"
    async with websockets.connect(
        url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
    ) as ws:
        await ws.send(
            json.dumps(
                {"type": "connection_init", "payload": {"Authorization": "Bearer approval-key"}}
            )
        )
        await asyncio.wait_for(ws.recv(), 10)
        variables = {"ids": [w.spouse], "areas": None}
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": SUBSCRIBE, "variables": variables},
                }
            )
        )
        await asyncio.sleep(0.3)
        await asyncio.to_thread(impose, api_server, subjectId=w.company)
        try:
            message = await asyncio.wait_for(ws.recv(), 1.5)
        except TimeoutError:
            message = None
        assert message is None
    async with websockets.connect(
        url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
    ) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": "Bearer wrong"}})
        )
        try:
            await asyncio.wait_for(ws.recv(), 5)
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 4401
        else:
            raise AssertionError("an unknown key must close the connection")
    # PUBLIC may not subscribe: closed at connection_init, before any subscription
    async with websockets.connect(
        url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        try:
            await asyncio.wait_for(ws.recv(), 10)
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 4401
        else:
            raise AssertionError("a connection without a key must be closed")
