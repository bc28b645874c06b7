"""Limits answered before Neo4j: depth, aliases, tokens, list and page sizes, body size,
introspection and GraphiQL switches, the WebSocket protocol and its subscription cap,
malformed requests and mutations over GET.

"Without touching the database" is proven with the app's own metrics: every query the
app sends to Neo4j goes through `Graph.observe`, which counts it in
`creditlink_neo4j_query_seconds_count`; a request refused by a limit leaves that sum
unchanged. The servers here are this module's own (sharing the session's Neo4j), so no
other test's traffic moves their counters.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from graphql import GraphQLObjectType, get_named_type

from api.schema import build_schema
from api.settings import Settings
from graph_model.driver import Graph
from tests.conftest import Neo4jServer, api_settings, run_app
from tests.integration.helpers import enterprise_id, person_id

# -- a server of our own -------------------------------------------------------------------


@dataclasses.dataclass
class RunningApp:
    url: str
    settings: Settings
    app: Any

    def request(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        key: str | None = None,
        **extra: Any,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        body: dict[str, Any] = {"query": query, **extra}
        if variables is not None:
            body["variables"] = variables
        return httpx.post(f"{self.url}/graphql", json=body, headers=headers, timeout=60)

    def neo4j_queries(self) -> int:
        """Queries this app has sent to Neo4j (readiness pings aside)."""
        text = httpx.get(f"{self.url}/metrics", timeout=10).text
        total = 0.0
        for match in re.finditer(
            r'^creditlink_neo4j_query_seconds_count\{query="([^"]*)"\} (\S+)$', text, re.M
        ):
            if match.group(1) != "ping":
                total += float(match.group(2))
        return int(total)


@contextlib.contextmanager
def serve_app(
    settings: Settings, *, wait_ready: bool = True, quiet: bool = False
) -> Iterator[RunningApp]:
    """The real app, as conftest's `run_app` serves it, ready (or only alive without
    `wait_ready`). `quiet`: also wait for the app's own start-up queries to Neo4j to end."""
    ready_path = "/readyz" if wait_ready else "/healthz"
    with run_app(settings, ready_path=ready_path, timeout=60) as app:
        running = RunningApp(f"http://127.0.0.1:{settings.port}", settings, app)
        if wait_ready and quiet:
            # once ready, the app warms its check plans in the background: let that
            # finish, so the Neo4j query count moves only with what a test sends
            deadline = time.monotonic() + 60
            last, quiet_since = running.neo4j_queries(), time.monotonic()
            while time.monotonic() - quiet_since < 1.0 and time.monotonic() < deadline:
                time.sleep(0.2)
                now = running.neo4j_queries()
                if now != last:
                    last, quiet_since = now, time.monotonic()
        yield running


@pytest.fixture(scope="module")
def limited(neo4j_server: Neo4jServer, keys_file: Path) -> Iterator[RunningApp]:
    """The default limits (Settings()), introspection and GraphiQL on."""
    with serve_app(api_settings(neo4j_server, keys_file), quiet=True) as running:
        yield running


@pytest.fixture(scope="module")
def locked(neo4j_server: Neo4jServer, keys_file: Path) -> Iterator[RunningApp]:
    """As a production deployment: CREDITLINK_INTROSPECTION=false, CREDITLINK_GRAPHIQL=false."""
    env = {"CREDITLINK_INTROSPECTION": "false", "CREDITLINK_GRAPHIQL": "false"}
    parsed = Settings.from_env(env)
    assert parsed.introspection is False and parsed.graphiql is False
    settings = api_settings(
        neo4j_server, keys_file, introspection=parsed.introspection, graphiql=parsed.graphiql
    )
    with serve_app(settings) as running:
        yield running


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors") or []]


def refused_before_neo4j(
    app: RunningApp,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    key: str = "admin-key",
    status: int = 200,
) -> tuple[dict[str, Any], float]:
    """Send; assert the status, no data, and not a single Neo4j query; return body, seconds."""
    before = app.neo4j_queries()
    started = time.perf_counter()
    response = app.request(query, variables, key)
    elapsed = time.perf_counter() - started
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body.get("data") is None, body
    assert app.neo4j_queries() == before, f"Neo4j was queried for a refused request: {body}"
    return body, elapsed


FAST = 1.0  # seconds: these answers take milliseconds; the margin is for a loaded shared host


# -- depth, aliases, tokens ------------------------------------------------------------------


def test_depth_over_the_limit_is_refused_before_neo4j(limited: RunningApp) -> None:
    limit = limited.settings.max_query_depth
    nested = "id"
    for _ in range(limit):  # each round adds two levels: sanctions { subject { ... } }
        nested = f"sanctions {{ subject {{ {nested} }} }}"
    query = f'{{ subject(id: "{enterprise_id()}") {{ {nested} }} }}'
    body, elapsed = refused_before_neo4j(limited, query)
    assert codes(body) == ["QUERY_TOO_COMPLEX"], body
    assert "levels deep" in body["errors"][0]["message"]
    assert elapsed < FAST
    # a query within the limit runs (and does query Neo4j)
    before = limited.neo4j_queries()
    ok = limited.request(f'{{ subject(id: "{enterprise_id()}") {{ id }} }}', key="admin-key")
    assert ok.json() == {"data": {"subject": None}}
    assert limited.neo4j_queries() > before


def test_aliases_are_counted_inside_fragments(limited: RunningApp) -> None:
    # one aliased check in a fragment, spread 40 times: 40 aliases against a limit of 30;
    # executed, it would run 40 checks against Neo4j
    subject = enterprise_id()
    spreads = " ".join("...F" for _ in range(40))
    query = (
        "fragment F on Query { "
        f'a: jointSanctionCheck(subjectId: "{subject}", area: SOCIAL_GOVERNANCE) {{ decision }} }}'
        f" query Spread {{ {spreads} }}"
    )
    body, elapsed = refused_before_neo4j(limited, query, key="approval-key")
    assert codes(body) == ["QUERY_TOO_COMPLEX"], body
    assert "more than 30 aliases" in body["errors"][0]["message"]
    assert elapsed < FAST
    # 40 aliases written out, nested in fragments two deep, are refused the same way
    inner = " ".join(f"a{n}: departments {{ id }}" for n in range(20))
    query = (
        f"fragment Inner on Query {{ {inner} }} fragment Outer on Query {{ ...Inner }} "
        "query Twice { ...Outer ... on Query { ...Inner } }"
    )
    body, _ = refused_before_neo4j(limited, query)
    assert codes(body) == ["QUERY_TOO_COMPLEX"]
    assert "more than 30 aliases" in body["errors"][0]["message"]
    # the same fragment spread once is fine
    ok = limited.request(
        query.replace("... on Query { ...Inner }", "").replace("Twice", "Once"), key="admin-key"
    )
    assert "errors" not in ok.json()


def test_too_many_tokens_is_refused_before_neo4j(limited: RunningApp) -> None:
    fields = " ".join("id" for _ in range(limited.settings.max_tokens + 50))
    query = f'{{ subject(id: "{enterprise_id()}") {{ {fields} }} }}'
    body, elapsed = refused_before_neo4j(limited, query)
    assert codes(body) == ["QUERY_TOO_COMPLEX"], body
    assert elapsed < FAST


# -- list and page sizes ---------------------------------------------------------------------

BATCH = """query($ids: [ID!]!) {
  batchCheck(subjectIds: $ids, area: PUBLIC_RESOURCE_TRANSACTIONS) { decision }
}"""


def test_batch_over_the_limit_is_bad_user_input_before_neo4j(limited: RunningApp) -> None:
    limit = limited.settings.max_batch
    ids = [person_id() for _ in range(limit + 1)]
    body, elapsed = refused_before_neo4j(limited, BATCH, {"ids": ids}, key="approval-key")
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert f"{limit + 1} items; at most {limit}" in body["errors"][0]["message"]
    assert elapsed < FAST
    # written inline rather than as a variable
    literal = "[" + ",".join(json.dumps(i) for i in ids) + "]"
    inline = f"{{ batchCheck(subjectIds: {literal}, area: FINANCING_SERVICES) {{ decision }} }}"
    body, _ = refused_before_neo4j(limited, inline, key="approval-key")
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert f"batchCheck(subjectIds): {limit + 1} items" in body["errors"][0]["message"]
    # a list nested in an input object counts too
    impose = """mutation($input: SanctionInput!) { imposeSanction(input: $input) { id } }"""
    payload = {
        "listType": "DISHONEST_JUDGMENT_DEBTOR",
        "subjectId": enterprise_id(),
        "issuerId": "wz-intermediate-court",
        "decidedOn": "2025-01-10",
        "documentNo": "x",
        "reason": "y",
        "responsiblePersonIds": ids,
    }
    body, _ = refused_before_neo4j(limited, impose, {"input": payload})
    assert codes(body) == ["BAD_USER_INPUT"]
    assert "responsiblePersonIds" in body["errors"][0]["message"]


def _paged_fields() -> list[str]:
    """A call (required arguments filled in) of every root field taking `first`, without it."""
    from tests.integration.test_authz_matrix import minimal_arguments

    schema = build_schema()._schema
    calls = []
    for root in (schema.query_type, schema.mutation_type):
        assert isinstance(root, GraphQLObjectType)
        for name, field in root.fields.items():
            if "first" in field.args:
                args = minimal_arguments(field.args, skip={"first"})
                named = get_named_type(field.type)
                selection = "{ __typename }" if isinstance(named, GraphQLObjectType) else ""
                calls.append(f"{name}({args}{', ' if args else ''}first: $n) {selection}")
    return calls


def test_page_sizes_over_the_limit_are_bad_user_input_before_neo4j(limited: RunningApp) -> None:
    limit = limited.settings.max_page
    for call in _paged_fields():
        for first in (limit + 1, 10**6, -1):
            body, elapsed = refused_before_neo4j(
                limited, f"query($n: Int) {{ {call} }}", {"n": first}
            )
            assert codes(body) == ["BAD_USER_INPUT"], (call, body)
            assert elapsed < FAST
            literal = f"{{ {call.replace('$n', str(first))} }}"
            body, _ = refused_before_neo4j(limited, literal)
            assert codes(body) == ["BAD_USER_INPUT"], (call, body)
    # the rule holds for any field, so one added later is covered before it is written
    body, _ = refused_before_neo4j(limited, f"{{ departments(first: {limit + 1}) {{ id }} }}")
    assert codes(body) == ["BAD_USER_INPUT"]
    assert f"between 0 and {limit}" in body["errors"][0]["message"]


def test_request_body_over_the_limit_is_413_json(limited: RunningApp) -> None:
    limit = limited.settings.max_body_bytes
    padding = " " * (limit + 1)
    query = "{ departments { id } }" + padding
    before = limited.neo4j_queries()
    response = httpx.post(
        f"{limited.url}/graphql",
        json={"query": query},
        headers={"Authorization": "Bearer admin-key"},
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert response.headers["x-request-id"]

    # without a Content-Length (chunked): refused while reading, not after
    def chunks() -> Iterator[bytes]:
        yield b'{"query": "{ departments { id } }", "pad": "'
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536
        yield b'"}'

    response = httpx.post(
        f"{limited.url}/graphql",
        content=chunks(),
        headers={"content-type": "application/json", "Authorization": "Bearer admin-key"},
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert limited.neo4j_queries() == before


# -- malformed requests, GET mutations, operations that cannot run ----------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"query": "{ departments { id } }"', "not valid JSON"),
        (b"\xff\xfe\x00", "not valid JSON"),
        (b"", "not valid JSON"),
        (b'["{ departments { id } }"]', "JSON object"),
        (b'{"query": 42}', "'query'"),
        (b'{"query": "{ departments { id } }", "variables": "x"}', "'variables'"),
        (b'{"query": "{ departments { id } }", "operationName": ["A"]}', "'operationName'"),
    ],
)
def test_malformed_requests_are_400_json(limited: RunningApp, content: bytes, message: str) -> None:
    before = limited.neo4j_queries()
    response = httpx.post(
        f"{limited.url}/graphql",
        content=content,
        headers={"content-type": "application/json", "Authorization": "Bearer admin-key"},
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert codes(body) == ["BAD_USER_INPUT"] and message in body["errors"][0]["message"]
    assert limited.neo4j_queries() == before


async def test_a_mutation_over_get_is_refused_and_not_run(
    limited: RunningApp, graph: Graph
) -> None:
    subject = enterprise_id()
    mutation = (
        f'mutation {{ registerSubject(input: {{id: "{subject}", kind: ENTERPRISE, '
        'name: "GET 注册"}) { id } }'
    )
    before = limited.neo4j_queries()
    response = httpx.get(
        f"{limited.url}/graphql",
        params={"query": mutation},
        headers={"Authorization": "Bearer admin-key"},
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert codes(response.json()) == ["BAD_USER_INPUT"]
    assert limited.neo4j_queries() == before
    assert await graph.read("MATCH (s:Subject {id: $id}) RETURN s", {"id": subject}) == []
    # a query over GET is fine
    response = httpx.get(f"{limited.url}/graphql", params={"query": "{ departments { id } }"})
    assert response.status_code == 200 and response.json()["data"]["departments"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"query": "query A { departments { id } }", "operationName": "B"}, "no operation named"),
        ({"query": "query A { departments { id } } query B { listTypes { id } }"}, "2 operations"),
        ({"query": "fragment F on Query { departments { id } }"}, "no operation"),
        (
            {"query": 'subscription { sanctionEvents(subjectIds: ["x"]) { kind } }'},
            "WebSocket",
        ),
        ({"query": "{ departments { id "}, "Syntax Error"),
    ],
)
def test_operations_that_cannot_run_are_graphql_errors_not_500(
    limited: RunningApp, body: dict[str, Any], message: str
) -> None:
    before = limited.neo4j_queries()
    response = httpx.post(
        f"{limited.url}/graphql", json=body, headers={"Authorization": "Bearer admin-key"}
    )
    assert response.status_code == 200, response.text
    assert codes(response.json()) == ["BAD_USER_INPUT"]
    assert message in response.json()["errors"][0]["message"]
    assert limited.neo4j_queries() == before


# -- introspection and GraphiQL --------------------------------------------------------------

INTROSPECTION = "{ __schema { queryType { name } types { name } } }"


def test_introspection_and_graphiql_can_be_switched_off(
    limited: RunningApp, locked: RunningApp
) -> None:
    # on by default
    body = limited.request(INTROSPECTION).json()
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"
    page = httpx.get(f"{limited.url}/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    # off in production settings: no schema to read, no IDE, and queries still run
    for key in (None, "admin-key"):
        response = locked.request(INTROSPECTION, key=key)
        assert response.status_code == 200
        assert response.json()["data"] is None
        assert set(codes(response.json())) == {"BAD_USER_INPUT"}, response.text
        assert "introspection has been disabled" in response.json()["errors"][0]["message"]
    typed = locked.request('{ t: __type(name: "Subject") { name } }', key="admin-key")
    assert typed.json()["data"] is None
    page = httpx.get(f"{locked.url}/graphql", headers={"accept": "text/html"})
    assert page.status_code == 404
    assert "<html" not in page.text.lower()
    assert page.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert locked.request("{ departments { id } }").json()["data"]["departments"]
    assert locked.request("{ __typename }").json() == {"data": {"__typename": "Query"}}


# -- WebSocket: protocol and subscription cap ------------------------------------------------

SUBSCRIBE = """subscription($ids: [ID!]!) {
  sanctionEvents(subjectIds: $ids) { kind sanctionId subjectId }
}"""


async def test_only_graphql_transport_ws_is_accepted(limited: RunningApp) -> None:
    url = limited.url.replace("http", "ws") + "/graphql"
    refused = False
    try:
        async with websockets.connect(
            url, subprotocols=[websockets.Subprotocol("graphql-ws")]
        ) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            await asyncio.wait_for(ws.recv(), 5)
    except websockets.ConnectionClosed as closed:
        refused = closed.rcvd is not None and closed.rcvd.code == 4406
    except websockets.InvalidHandshake:
        refused = True
    assert refused, "a graphql-ws (legacy protocol) client must be refused"
    # no subprotocol at all: refused the same way
    refused = False
    try:
        async with websockets.connect(url) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            await asyncio.wait_for(ws.recv(), 5)
    except websockets.ConnectionClosed as closed:
        refused = closed.rcvd is not None and closed.rcvd.code == 4406
    except websockets.InvalidHandshake:
        refused = True
    assert refused
    async with websockets.connect(
        url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
    ) as ws:
        assert ws.subprotocol == "graphql-transport-ws"
        await ws.send(
            json.dumps(
                {"type": "connection_init", "payload": {"Authorization": "Bearer approval-key"}}
            )
        )
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "connection_ack"


async def test_subscriptions_per_connection_are_capped(limited: RunningApp) -> None:
    cap = limited.settings.max_subscriptions_per_connection
    url = limited.url.replace("http", "ws") + "/graphql"
    async with websockets.connect(
        url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
    ) as ws:
        await ws.send(
            json.dumps(
                {"type": "connection_init", "payload": {"Authorization": "Bearer approval-key"}}
            )
        )
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "connection_ack"
        for n in range(cap + 2):
            variables = {"ids": [enterprise_id()]}
            await ws.send(
                json.dumps(
                    {
                        "id": str(n),
                        "type": "subscribe",
                        "payload": {"query": SUBSCRIBE, "variables": variables},
                    }
                )
            )
        refused: dict[str, Any] = {}
        while len(refused) < 2:
            message = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert message["type"] == "error", message
            refused[message["id"]] = message["payload"]
        assert set(refused) == {str(cap), str(cap + 1)}
        for payload in refused.values():
            assert payload[0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
            assert f"at most {cap}" in payload[0]["message"]
        # ending one frees a slot
        await ws.send(json.dumps({"id": "0", "type": "complete"}))
        await asyncio.sleep(0.2)
        await ws.send(
            json.dumps(
                {
                    "id": "again",
                    "type": "subscribe",
                    "payload": {"query": SUBSCRIBE, "variables": {"ids": [enterprise_id()]}},
                }
            )
        )
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(ws.recv(), 0.5)  # accepted: no error comes back
