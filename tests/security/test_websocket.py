"""Issue 18.2 (and the subscription half of 18.4): `WS /graphql` gets the HTTP path's
controls. Real app, real Neo4j, real sockets."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from api.settings import Settings
from tests.conftest import TEST_KEYS, ApiServer, Neo4jServer, api_settings, serving
from tests.integration.helpers import enterprise_id

SUBSCRIBE = "subscription($ids: [ID!]!) { sanctionEvents(subjectIds: $ids) { kind sanctionId } }"
PROTOCOL = [websockets.Subprotocol("graphql-transport-ws")]


@contextlib.contextmanager
def app_with(neo4j_server: Neo4jServer, keys_file: Path, **overrides: Any) -> Iterator[ApiServer]:
    with serving(api_settings(neo4j_server, keys_file, **overrides)) as server:
        yield server


def ws_url(api: ApiServer) -> str:
    return api.url.replace("http", "ws") + "/graphql"


@contextlib.asynccontextmanager
async def connected(api: ApiServer, key: str | None) -> AsyncIterator[Any]:
    """A socket after connection_init with `key`; the first message it got is checked by
    the caller through `ws.first`."""
    async with websockets.connect(ws_url(api), subprotocols=PROTOCOL) as ws:
        payload = {"Authorization": f"Bearer {key}"} if key else {}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        yield ws


async def acked(ws: Any) -> None:
    assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == {"type": "connection_ack"}


async def closed_with(ws: Any) -> int | None:
    with pytest.raises(websockets.ConnectionClosed) as info:
        await asyncio.wait_for(ws.recv(), 10)
    return info.value.rcvd.code if info.value.rcvd else None


async def subscribe(ws: Any, op_id: str, variables: dict[str, Any] | None = None) -> None:
    payload = {"query": SUBSCRIBE, "variables": variables or {"ids": [enterprise_id()]}}
    await ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": payload}))


async def quiet(ws: Any) -> bool:
    """True when nothing comes back for a moment: the subscription is running."""
    try:
        await asyncio.wait_for(ws.recv(), 0.5)
    except TimeoutError:
        return True
    return False


async def error_of(ws: Any) -> dict[str, Any]:
    message = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert message["type"] == "error", message
    error: dict[str, Any] = message["payload"][0]
    return error


# -- admission ------------------------------------------------------------------------------


async def test_anonymous_and_public_connections_are_closed_at_connection_init(
    api_server: ApiServer,
) -> None:
    async with connected(api_server, None) as ws:
        assert await closed_with(ws) == 4401
    async with connected(api_server, "public-key") as ws:
        assert await closed_with(ws) == 4403
    async with connected(api_server, "approval-key") as ws:
        await acked(ws)


async def test_queries_and_mutations_are_refused_over_the_socket(
    api_server: ApiServer, graph: Any
) -> None:
    subject = enterprise_id()
    async with connected(api_server, "admin-key") as ws:
        await acked(ws)
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
    async with connected(api_server, "approval-key") as ws:
        await acked(ws)
        # a list the operation does not even use is refused, as over HTTP
        await subscribe(ws, "1", {"ids": [enterprise_id()], "padding": list(range(limit + 1))})
        error = await error_of(ws)
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert f"{limit + 1} items; at most {limit}" in error["message"]
        await subscribe(ws, "2")
        assert await quiet(ws)


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
        async with connected(api_server, "approval-key") as ws:
            await acked(ws)
            await subscribe(ws, "logged")
            assert await quiet(ws)
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
                await acked(await stack.enter_async_context(connected(api, "approval-key")))
            third = await stack.enter_async_context(connected(api, "approval-key"))
            assert await closed_with(third) == 4429
            # another key still gets in, up to the total
            await acked(await stack.enter_async_context(connected(api, "court-key")))
            with pytest.raises(websockets.InvalidStatus):
                await stack.enter_async_context(connected(api, "regulator-key"))


async def test_subscriptions_are_capped_per_key_across_connections(
    neo4j_server: Neo4jServer, keys_file: Path
) -> None:
    with app_with(neo4j_server, keys_file, max_subscriptions_per_key=3) as api:
        async with connected(api, "approval-key") as one, connected(api, "approval-key") as two:
            await acked(one)
            await acked(two)
            await subscribe(one, "a")
            await subscribe(one, "b")
            await subscribe(two, "c")
            assert await quiet(one) and await quiet(two)
            await subscribe(two, "d")
            error = await error_of(two)
            assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
            assert "at most 3 subscriptions per key" in error["message"]
            # another key is not affected, and ending one frees a slot for this key
            async with connected(api, "court-key") as other:
                await acked(other)
                await subscribe(other, "x")
                assert await quiet(other)
            await one.send(json.dumps({"id": "a", "type": "complete"}))
            await subscribe(one, "e")
            assert await quiet(one)


async def test_a_message_over_the_body_cap_closes_the_socket(
    neo4j_server: Neo4jServer, keys_file: Path
) -> None:
    with app_with(neo4j_server, keys_file, max_body_bytes=4096) as api:
        async with connected(api, "approval-key") as ws:
            await acked(ws)
            await subscribe(ws, "big", {"ids": [enterprise_id()], "padding": "x" * 10_000})
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
        lines = []
        for name in names:
            role, department = TEST_KEYS[name]
            lines += [
                "[[keys]]",
                f'name = "{name}"',
                f'key_sha256 = "{hashlib.sha256(name.encode()).hexdigest()}"',
                f'role = "{role}"',
            ]
            if department:
                lines.append(f'department = "{department}"')
        keys.write_text("\n".join(lines) + "\n", encoding="utf-8")

    write(["approval-key", "court-key"])
    settings: Settings = api_settings(neo4j_server, keys)
    with serving(settings) as api:
        async with connected(api, "approval-key") as revoked, connected(api, "court-key") as kept:
            await acked(revoked)
            await acked(kept)
            await subscribe(revoked, "1")
            await subscribe(kept, "1")
            write(["court-key"])
            with pytest.raises(websockets.ConnectionClosed) as info:
                await asyncio.wait_for(revoked.recv(), 10)  # the watcher polls every second
            assert info.value.rcvd is not None and info.value.rcvd.code == 4401
            assert await quiet(kept)
