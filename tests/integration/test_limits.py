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
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets
from graphql import GraphQLObjectType, get_named_type

from api.limits import LARGE_PAGES
from api.schema import build_schema
from api.settings import Settings
from graph_model.driver import Graph
from tests.conftest import Neo4jServer, api_settings
from tests.graphql_ws import acked, admitted, connected, in_step, subscribe, ws_url
from tests.integration.authz import minimal_arguments
from tests.integration.helpers import RunningApp, enterprise_id, person_id, serve_app


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


JSON = {"content-type": "application/json"}
HTML = {"accept": "text/html"}


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
    for call in _paged_fields():
        # a feed page may be larger than other pages (api.limits.LARGE_PAGES)
        field_limit = max(limited.settings.max_page, LARGE_PAGES.get(call.split("(")[0], 0))
        for first in (field_limit + 1, 10**6, -1):
            body, elapsed = refused_before_neo4j(
                limited, f"query($n: Int) {{ {call} }}", {"n": first}
            )
            assert codes(body) == ["BAD_USER_INPUT"], (call, body)
            assert elapsed < FAST
            literal = f"{{ {call.replace('$n', str(first))} }}"
            body, _ = refused_before_neo4j(limited, literal)
            assert codes(body) == ["BAD_USER_INPUT"], (call, body)
    # the rule holds for any field, so one added later is covered before it is written
    limit = limited.settings.max_page
    body, _ = refused_before_neo4j(limited, f"{{ departments(first: {limit + 1}) {{ id }} }}")
    assert codes(body) == ["BAD_USER_INPUT"]
    assert f"between 0 and {limit}" in body["errors"][0]["message"]


def test_request_body_over_the_limit_is_413_json(limited: RunningApp) -> None:
    limit = limited.settings.max_body_bytes
    padding = " " * (limit + 1)
    query = "{ departments { id } }" + padding
    before = limited.neo4j_queries()
    response = limited.http("POST", "admin-key", json={"query": query})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert response.headers["x-request-id"]

    # without a Content-Length (chunked): refused while reading, not after
    def chunks() -> Iterator[bytes]:
        yield b'{"query": "{ departments { id } }", "pad": "'
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536
        yield b'"}'

    response = limited.http("POST", "admin-key", JSON, content=chunks())
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
    response = limited.http("POST", "admin-key", JSON, content=content)
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
    response = limited.http("GET", "admin-key", params={"query": mutation})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert codes(response.json()) == ["BAD_USER_INPUT"]
    assert limited.neo4j_queries() == before
    assert await graph.read("MATCH (s:Subject {id: $id}) RETURN s", {"id": subject}) == []
    # a query over GET is fine
    response = limited.http("GET", params={"query": "{ departments { id } }"})
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
    response = limited.http("POST", "admin-key", json=body)
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
    page = limited.http("GET", headers=HTML)
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
    page = locked.http("GET", headers=HTML)
    assert page.status_code == 404
    assert "<html" not in page.text.lower()
    assert page.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert locked.request("{ departments { id } }").json()["data"]["departments"]
    assert locked.request("{ __typename }").json() == {"data": {"__typename": "Query"}}


# -- WebSocket: protocol and subscription cap ------------------------------------------------


async def test_only_graphql_transport_ws_is_accepted(limited: RunningApp) -> None:
    # the legacy graphql-ws protocol, and no subprotocol at all
    for offered in ([websockets.Subprotocol("graphql-ws")], None):
        refused = False
        try:
            async with websockets.connect(ws_url(limited.url), subprotocols=offered) as ws:
                await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
                await asyncio.wait_for(ws.recv(), 5)
        except websockets.ConnectionClosed as closed:
            refused = closed.rcvd is not None and closed.rcvd.code == 4406
        except websockets.InvalidHandshake:
            refused = True
        assert refused, f"a client offering {offered} must be refused"
    async with connected(limited.url, "approval-key") as ws:
        assert ws.subprotocol == "graphql-transport-ws"
        await acked(ws)


async def test_subscriptions_per_connection_are_capped(limited: RunningApp) -> None:
    cap = limited.settings.max_subscriptions_per_connection
    async with admitted(limited.url, "approval-key") as ws:
        for n in range(cap + 2):
            await subscribe(ws, str(n), {"ids": [enterprise_id()]})
        refused = {}
        for message in await in_step(ws):
            assert message["type"] == "error", message
            refused[message["id"]] = message["payload"]
        assert set(refused) == {str(cap), str(cap + 1)}
        for payload in refused.values():
            assert payload[0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
            assert f"at most {cap}" in payload[0]["message"]
        # ending one frees a slot
        await ws.send(json.dumps({"id": "0", "type": "complete"}))
        await subscribe(ws, "again", {"ids": [enterprise_id()]})
        assert await in_step(ws) == []  # accepted: no error came back
