"""Issue 18.2 (and the subscription half of 18.4): `WS /graphql` gets the HTTP path's
controls. Real app, real Neo4j, real sockets."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from api.settings import Settings
from testkit.keys import write_keys_file
from tests.conftest import TEST_KEYS, ApiServer, Neo4jServer, api_settings, serving
from tests.graphql_ws import (
    acked,
    admitted,
    closed_with,
    connected,
    error_of,
    holds_subscriptions,
    in_step,
    subscribe,
)
from tests.integration.helpers import enterprise_id


@contextlib.contextmanager
def app_with(neo4j_server: Neo4jServer, keys_file: Path, **overrides: Any) -> Iterator[ApiServer]:
    with serving(api_settings(neo4j_server, keys_file, **overrides)) as server:
        yield server


async def watch(ws: Any, op_id: str, **variables: Any) -> None:
    """Subscribe to the events of a fresh subject (and whatever else `variables` adds)."""
    await subscribe(ws, op_id, {"ids": [enterprise_id()], **variables})


# -- admission ------------------------------------------------------------------------------


async def test_anonymous_and_public_connections_are_closed_at_connection_init(
    api_server: ApiServer,
) -> None:
    async with connected(api_server.url, None) as ws:
        assert await closed_with(ws) == 4401
    async with connected(api_server.url, "public-key") as ws:
        assert await closed_with(ws) == 4403
    async with connected(api_server.url, "approval-key") as ws:
        await acked(ws)


async def test_queries_and_mutations_are_refused_over_the_socket(
    api_server: ApiServer, graph: Any
) -> None:
    subject = enterprise_id()
    async with admitted(api_server.url, "admin-key") as ws:
        mutation = (
            f'mutation {{ registerSubject(input: {{id: "{subject}", kind: ENTERPRISE, '
            'name: "经WebSocket"}) { id } }'
        )
        await ws.send(json.dumps({"id": "m", "type": "subscribe", "payload": {"query": mutation}}))
        error = await error_of(ws)
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert "POST /graphql" in error["message"]
        await ws.send(
            json.dumps(
                {"id": "q", "type": "subscribe", "payload": {"query": "{ departments { id } }"}}
            )
        )
        assert (await error_of(ws))["extensions"]["code"] == "BAD_USER_INPUT"
    assert await graph.read("MATCH (s:Subject {id: $id}) RETURN s", {"id": subject}) == []


async def test_argument_sizes_are_checked_over_the_socket(api_server: ApiServer) -> None:
    limit = api_server.settings.max_batch
    async with admitted(api_server.url, "approval-key") as ws:
        # a list the operation does not even use is refused, as over HTTP
        await watch(ws, "1", padding=list(range(limit + 1)))
        error = await error_of(ws)
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert f"{limit + 1} items; at most {limit}" in error["message"]
        await watch(ws, "2")
        await holds_subscriptions(api_server.app, 1)  # admitted, and listening


async def test_every_socket_operation_is_logged_and_counted(
    api_server: ApiServer, caplog: pytest.LogCaptureFixture
) -> None:
    def started() -> float:
        text = httpx.get(f"{api_server.url}/metrics").text
        found = re.search(
            r'^creditlink_graphql_operation_seconds_count\{operation="sanctionEvents"\} (\S+)$',
            text,
            re.M,
        )
        return float(found.group(1)) if found else 0.0

    before = started()
    with caplog.at_level(logging.INFO, logger="creditlink.http"):
        async with admitted(api_server.url, "approval-key") as ws:
            await watch(ws, "logged")
            assert await in_step(ws) == []  # admitted: logged and counted
            await ws.send(
                json.dumps({"id": "q", "type": "subscribe", "payload": {"query": "{ __typename }"}})
            )
            await error_of(ws)
    lines = [r for r in caplog.records if r.getMessage() == "graphql"]
    ws_lines = [r for r in lines if getattr(r, "transport", None) == "ws"]
    assert [(r.operation, r.key, r.error_codes) for r in ws_lines] == [  # type: ignore[attr-defined]
        ("sanctionEvents", "approval", []),
        ("invalid", "approval", ["BAD_USER_INPUT"]),
    ]
    assert started() == before + 1


# -- caps -----------------------------------------------------------------------------------


async def test_connections_are_capped_per_key_and_in_total(
    neo4j_server: Neo4jServer, keys_file: Path
) -> None:
    with app_with(
        neo4j_server, keys_file, max_ws_connections=3, max_ws_connections_per_key=2
    ) as api:
        async with contextlib.AsyncExitStack() as stack:
            for _ in range(2):
                await stack.enter_async_context(admitted(api.url, "approval-key"))
            third = await stack.enter_async_context(connected(api.url, "approval-key"))
            assert await closed_with(third) == 4429
            # another key still gets in, up to the total
            await stack.enter_async_context(admitted(api.url, "court-key"))
            with pytest.raises(websockets.InvalidStatus):
                await stack.enter_async_context(connected(api.url, "regulator-key"))


async def test_subscriptions_are_capped_per_key_across_connections(
    neo4j_server: Neo4jServer, keys_file: Path
) -> None:
    with app_with(neo4j_server, keys_file, max_subscriptions_per_key=3) as api:
        async with (
            admitted(api.url, "approval-key") as one,
            admitted(api.url, "approval-key") as two,
        ):
            await watch(one, "a")
            await watch(one, "b")
            await watch(two, "c")
            await holds_subscriptions(api.app, 3)
            await watch(two, "d")
            error = await error_of(two)
            assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
            assert "at most 3 subscriptions per key" in error["message"]
            # another key is not affected, and ending one frees a slot for this key
            async with admitted(api.url, "court-key") as other:
                await watch(other, "x")
                await holds_subscriptions(api.app, 4)
            await one.send(json.dumps({"id": "a", "type": "complete"}))
            await watch(one, "e")
            await holds_subscriptions(api.app, 3)  # b, c and e: x closed, a completed


async def test_a_message_over_the_body_cap_closes_the_socket(
    neo4j_server: Neo4jServer, keys_file: Path
) -> None:
    with app_with(neo4j_server, keys_file, max_body_bytes=4096) as api:
        async with admitted(api.url, "approval-key") as ws:
            await watch(ws, "big", padding="x" * 10_000)
            assert await closed_with(ws) == 1009  # message too big


def test_resolvers_cap_their_id_lists_whatever_the_caller(api_server: ApiServer) -> None:
    ids = [enterprise_id() for _ in range(21)]
    body = api_server.post(
        """query($in: SanctionPreviewInput!) { sanctionImpactPreview(input: $in) { role } }""",
        {
            "in": {
                "listType": "DISHONEST_JUDGMENT_DEBTOR",
                "subjectId": ids[0],
                "responsiblePersonIds": ids,
            }
        },
        key="regulator-key",
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
    assert "responsiblePersonIds: at most 20" in body["errors"][0]["message"]


# -- keys change under an open socket ------------------------------------------------------


async def test_an_open_socket_is_closed_when_its_key_is_revoked(
    neo4j_server: Neo4jServer, tmp_path: Path
) -> None:
    keys = tmp_path / "keys.toml"

    def write(names: list[str]) -> None:
        write_keys_file(keys, {name: (*TEST_KEYS[name], name) for name in names})

    write(["approval-key", "court-key"])
    settings: Settings = api_settings(neo4j_server, keys)
    with serving(settings) as api:
        async with (
            admitted(api.url, "approval-key") as revoked,
            admitted(api.url, "court-key") as kept,
        ):
            await watch(revoked, "1")
            await watch(kept, "1")
            write(["court-key"])
            with pytest.raises(websockets.ConnectionClosed) as info:
                await asyncio.wait_for(revoked.recv(), 10)  # the watcher polls every second
            assert info.value.rcvd is not None and info.value.rcvd.code == 4401
            assert await in_step(kept) == []  # still open, and told nothing
