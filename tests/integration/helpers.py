"""Small builders for integration tests: valid ids and GraphQL snippets; a server of a
test's own whose metrics it reads; and for the tests that stop Neo4j, an embedded Neo4j
of their own and the probes they poll with."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import itertools
import os
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from api.settings import Settings
from domain.errors import InvalidId
from domain.identifiers import make_resident_id, make_uscc, validate_uscc
from graph_model.catalogue_sync import sync_departments
from graph_model.driver import Graph, open_graph
from graph_model.runtime.embedded import EmbeddedNeo4j
from rules.loader import load_catalogue
from testkit.neo4j import fresh_neo4j
from tests.conftest import TEST_DATA, ApiServer, run_app

_serial = itertools.count(1)


def enterprise_id(district: str = "330302") -> str:
    return make_uscc("91", district, f"MA{next(_serial):06d}")


def business_id(district: str = "330302") -> str:
    return make_uscc("92", district, f"MA{next(_serial):06d}")


def institution_id(district: str = "330302") -> str:
    return make_uscc("12", district, f"MB{next(_serial):06d}")


def person_id(birth: dt.date = dt.date(1975, 5, 17), district: str = "330302") -> str:
    """A resident ID that is not also a valid credit code (a few all-digit ones are: 33 is
    a type code), so a test's person is never taken for a unit, whatever ids came before."""
    while True:
        candidate = make_resident_id(district, birth, next(_serial) % 1000)
        try:
            validate_uscc(candidate)
        except InvalidId:
            return candidate


# The closed loop as an approval system and a regulator drive it: a check in
# CONVENIENCE_SERVICES, feedback APPLIED on it, and the statistics of the approval key's
# department since `$from` (tests of checks across processes and restarts).
CLOSED_LOOP_KEY = "approval-key"
CLOSED_LOOP_CHECK = (
    "query($s: ID!) { jointSanctionCheck(subjectId: $s, area: CONVENIENCE_SERVICES) { checkId } }"
)
CLOSED_LOOP_FEEDBACK = (
    "mutation($c: ID!) { recordFeedback(input: {checkId: $c, outcome: APPLIED}) { checkId } }"
)
CLOSED_LOOP_STATS = (
    "query($from: DateTime!) { linkageStats(from: $from, department: "
    '"wz-public-resources") { checks feedbacks } }'
)

REGISTER = """
mutation($input: SubjectInput!) {
  registerSubject(input: $input) { id kind name district }
}"""
HOUSEHOLD = """
mutation($input: HouseholdInput!) { registerHousehold(input: $input) { id district address } }"""
LINK = """
mutation($input: LinkInput!) {
  linkSubjects(input: $input) { id from to relation ratio role validFrom validTo }
}"""


def error_code(body: dict[str, Any]) -> str | None:
    errors = body.get("errors") or []
    return errors[0]["extensions"]["code"] if errors else None


def id_error(api: ApiServer, query: str, sid: str, key: str | None = None) -> str | None:
    """The error code `query` (taking `$id`) answers about `sid` to `key`'s caller."""
    return error_code(api.post(query, {"id": sid}, key=key))


def register(
    api: ApiServer, sid: str, kind: str, name: str, district: str | None = "330302"
) -> dict[str, Any]:
    body = api.post(
        REGISTER,
        {"input": {"id": sid, "kind": kind, "name": name, "district": district}},
        key="admin-key",
    )
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["registerSubject"]
    return result


def link(
    api: ApiServer, source: str, target: str, relation: str, valid_from: str, **extra: Any
) -> dict[str, Any]:
    payload = {"from": source, "to": target, "relation": relation, "validFrom": valid_from, **extra}
    body = api.post(LINK, {"input": payload}, key="admin-key")
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["linkSubjects"]
    return result


def household(api: ApiServer, hid: str, district: str = "330302") -> None:
    body = api.post(HOUSEHOLD, {"input": {"id": hid, "district": district}}, key="admin-key")
    assert "errors" not in body, body


def flush_check_records(api: ApiServer) -> None:
    """Return once the server has written every check record it holds: `linkageStats`
    flushes the recorder before it reads, where a sleep may be too short on a loaded box."""
    body = api.post(
        'query { linkageStats(from: "2020-01-01T00:00:00Z") { checks } }', key="regulator-key"
    )
    assert "errors" not in body, body


def flush_access_records(api: ApiServer) -> None:
    """Return once the server has written every access record it holds: `accessRecords`
    flushes its recorder before it reads."""
    body = api.post(
        "query { accessRecords(first: 1) { pageInfo { hasNextPage } } }", key="regulator-key"
    )
    assert "errors" not in body, body


WIPE = "MATCH (n) WHERE NOT n:Migration CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS"


async def wipe_graph(graph: Graph) -> None:
    """The graph as each integration test starts from: empty but for the schema's
    migration records and the catalogue's departments."""
    async with graph.driver.session(database=graph.database) as session:
        await (await session.run(WIPE)).consume()
    await sync_departments(graph, load_catalogue())


SNAPSHOT_NODES = "MATCH (n) WHERE NOT n:Migration RETURN labels(n) AS l, properties(n) AS p"
SNAPSHOT_RELS = "MATCH (a)-[r]->(b) RETURN type(r) AS t, properties(r) AS p, a.id AS a, b.id AS b"


async def snapshot(graph: Graph) -> tuple[int, int, str]:
    """Node count, relationship count, and a digest of every property: equal before and
    after a refused call when it changed nothing."""
    nodes = await graph.read(SNAPSHOT_NODES)
    rels = await graph.read(SNAPSHOT_RELS)
    digest = hashlib.sha256(
        repr(sorted(repr(sorted(r.items(), key=str)) for r in nodes + rels)).encode()
    ).hexdigest()
    return len(nodes), len(rels), digest


# -- an embedded Neo4j of a test's own, to stop and start again --------------------------


@contextlib.contextmanager
def own_embedded_neo4j(name: str) -> Iterator[EmbeddedNeo4j]:
    """A fresh embedded Neo4j (own data dir, free Bolt port): stopping the session's
    would break every other test. Its data is thrown away, so it is not waited on through
    a graceful shutdown."""
    with fresh_neo4j(
        TEST_DATA / f"{name}-{os.getpid()}", heap_mb=512, pagecache_mb=64, stop_timeout=1.0
    ) as neo4j:
        yield neo4j


async def neo4j_answers(neo4j: EmbeddedNeo4j) -> None:
    """Return once `neo4j` answers a query (a fresh driver of the caller's own)."""
    async with open_graph(neo4j.uri, *neo4j.auth, "neo4j") as graph:
        await graph.read("RETURN 1 AS ok")


async def count_by_id(neo4j: EmbeddedNeo4j, query: str, ids: list[str]) -> dict[str, int]:
    """`query` (taking `$ids`, returning `id` and `n`) read directly from `neo4j`."""
    async with open_graph(neo4j.uri, *neo4j.auth, "neo4j") as graph:
        rows = await graph.read(query, {"ids": ids})
    return {r["id"]: r["n"] for r in rows}


def send(client: httpx.Client, query: str, variables: dict[str, Any]) -> str:
    """ "ack", the error's code, "HTTP <status>" or "transport"."""
    try:
        response = client.post("/graphql", json={"query": query, "variables": variables})
    except httpx.HTTPError:
        return "transport"
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    body = response.json()
    if body.get("errors"):
        return str(body["errors"][0]["extensions"]["code"])
    return "ack" if body.get("data") else "no data"


def wait_for(predicate: Callable[[], Any], timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def readyz(url: str) -> httpx.Response | None:
    try:
        return httpx.get(f"{url}/readyz", timeout=15)
    except httpx.HTTPError:
        return None


# -- a server of a test's own ------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RunningApp(ApiServer):
    """A server of a test's own: `post` as the session's, and raw requests and counts."""

    def http(
        self,
        method: str,
        key: str | None = None,
        headers: dict[str, str] | None = None,
        **content: Any,
    ) -> httpx.Response:
        """A `method` request to /graphql carrying `content` as given (`json`, `content`,
        `params`), with `key` as its bearer token."""
        auth = {"Authorization": f"Bearer {key}"} if key else {}
        url = f"{self.url}/graphql"
        return httpx.request(
            method, url, headers={**auth, **(headers or {})}, timeout=60, **content
        )

    def request(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        key: str | None = None,
        **extra: Any,
    ) -> httpx.Response:
        body: dict[str, Any] = {"query": query, **extra}
        if variables is not None:
            body["variables"] = variables
        return self.http("POST", key, json=body)

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
            # what the app sends on its own around its start has no signal of its end:
            # wait until the count stops moving, so it moves only with what a test sends
            deadline = time.monotonic() + 60
            last, quiet_since = running.neo4j_queries(), time.monotonic()
            while time.monotonic() - quiet_since < 1.0 and time.monotonic() < deadline:
                time.sleep(0.2)
                now = running.neo4j_queries()
                if now != last:
                    last, quiet_since = now, time.monotonic()
        yield running
