"""Small builders for integration tests: valid ids and GraphQL snippets; and for the
tests that stop Neo4j, an embedded Neo4j of their own and the probes they poll with."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import os
import shutil
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from graph_model.driver import open_graph
from graph_model.identifiers import make_resident_id, make_uscc
from graph_model.runtime.embedded import EmbeddedNeo4j
from tests.conftest import TEST_DATA, ApiServer, free_port

_serial = itertools.count(1)


def enterprise_id(district: str = "330302") -> str:
    return make_uscc("91", district, f"MA{next(_serial):06d}")


def business_id(district: str = "330302") -> str:
    return make_uscc("92", district, f"MA{next(_serial):06d}")


def institution_id(district: str = "330302") -> str:
    return make_uscc("12", district, f"MB{next(_serial):06d}")


def person_id(birth: dt.date = dt.date(1975, 5, 17), district: str = "330302") -> str:
    return make_resident_id(district, birth, next(_serial) % 1000)


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


# -- an embedded Neo4j of a test's own, to stop and start again --------------------------


@contextlib.contextmanager
def own_embedded_neo4j(name: str) -> Iterator[EmbeddedNeo4j]:
    """A fresh embedded Neo4j (own data dir, free Bolt port): stopping the session's
    would break every other test."""
    data_dir = TEST_DATA / f"{name}-{os.getpid()}"
    shutil.rmtree(data_dir, ignore_errors=True)
    neo4j = EmbeddedNeo4j(data_dir, free_port(), heap_mb=512, pagecache_mb=64)
    neo4j.start()
    try:
        yield neo4j
    finally:
        # its data is thrown away: no need to wait out a graceful shutdown (10 s and more);
        # past the timeout, stop() kills it and reaps it
        neo4j.stop(timeout=1.0)
        shutil.rmtree(data_dir, ignore_errors=True)


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
