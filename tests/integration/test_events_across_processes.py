"""Sanction events across API processes: every change is one event of the log in Neo4j, in
the change's transaction and in commit order, and every process's subscribers hear the
changes made through any other (a `creditlink serve` process beside the session's API)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.errors import Conflict
from domain.time import utc_now
from graph_model import event_log
from graph_model.driver import Graph
from graph_model.event_log import EventKind
from testkit.api import api_process
from tests.conftest import ApiServer, Neo4jServer
from tests.graphql_ws import admitted, holds_subscriptions, received, subscribe
from tests.integration.helpers import enterprise_id, error_code, register
from tests.integration.scenario import IMPOSE, LIFT, LISTS, build_shoe_world, impose

OBJECT = "mutation($id: ID!, $r: String!) { fileObjection(sanctionId: $id, reason: $r) { id } }"
RESOLVE = (
    "mutation($id: ID!, $u: Boolean!) { resolveObjection(sanctionId: $id, upheld: $u) { id } }"
)
# the contract's bound between a change committed through one process and its event on another
CONTRACT_S = 2.0


@pytest.fixture(scope="module")
def other_api(
    neo4j_server: Neo4jServer,
    keys_file: Path,
    api_server: ApiServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ApiServer]:
    """A second API, `creditlink serve` in a process of its own with a data dir of its own,
    over the session's Neo4j with the session API's keys."""
    data_dir = tmp_path_factory.mktemp("second-api")
    log = tmp_path_factory.mktemp("second-api-log") / "serve.log"
    one = {"CREDITLINK_WORKERS": "1"}  # one process more is what these tests need
    with api_process(
        neo4j_server, keys_file=keys_file, data_dir=data_dir, log=log, extra=one
    ) as process:
        # an ApiServer only to `post` to its URL: the settings it carries are the session API's
        yield dataclasses.replace(api_server, url=process.url, app=None)


@contextlib.asynccontextmanager
async def watching(api: ApiServer, ids: list[str], areas: list[str] | None) -> AsyncIterator[Any]:
    """An approval system's socket on `api` (served in this process) with one subscription,
    yielded once it listens."""
    async with admitted(api.url, "approval-key") as ws:
        await subscribe(ws, "1", {"ids": ids, "areas": areas})
        await holds_subscriptions(api.app, 1)
        yield ws


async def next_event(ws: Any, within: float) -> dict[str, Any]:
    message = await received(ws, timeout=within)
    assert message["type"] == "next", message
    event: dict[str, Any] = message["payload"]["data"]["sanctionEvents"]
    return event


async def test_a_subscriber_hears_what_another_process_imposes_and_lifts(
    api_server: ApiServer, other_api: ApiServer
) -> None:
    w = build_shoe_world(api_server)
    first = enterprise_id()
    register(api_server, first, "ENTERPRISE", "温州市鹿城区先行鞋业有限公司")
    async with watching(api_server, [w.child, first], None) as ws:
        # a process's first event pays Neo4j's planning of the queries it runs, which a
        # process just started may still be doing: the bound is for the events after it
        warm = await asyncio.to_thread(impose, other_api, subjectId=first)
        assert (await next_event(ws, within=60))["sanctionId"] == warm["id"]
        sanction = await asyncio.to_thread(impose, other_api, subjectId=w.company)
        event = await next_event(ws, within=CONTRACT_S)
        assert {k: event[k] for k in ("kind", "sanctionId", "subjectId", "roles")} == {
            "kind": "IMPOSED",
            "sanctionId": sanction["id"],
            "subjectId": w.child,
            "roles": ["HOUSEHOLD_CHILD"],
        }
        lift = {"sanctionId": sanction["id"], "kind": "REVOKED", "reason": "错误"}
        body = await asyncio.to_thread(other_api.post, LIFT, {"input": lift}, "court-key")
        assert "errors" not in body, body
        event = await next_event(ws, within=CONTRACT_S)
        assert (event["kind"], event["sanctionId"], event["subjectId"]) == (
            "LIFTED",
            sanction["id"],
            w.child,
        )


async def _impose_async(client: httpx.AsyncClient, url: str, subject: str) -> dict[str, Any]:
    issuer, document, reason = LISTS["DISHONEST_JUDGMENT_DEBTOR"]
    payload = {
        "listType": "DISHONEST_JUDGMENT_DEBTOR",
        "issuerId": issuer,
        "subjectId": subject,
        "decidedOn": "2025-01-10",
        "documentNo": document,
        "reason": reason,
    }
    response = await client.post(
        f"{url}/graphql",
        json={"query": IMPOSE, "variables": {"input": payload}},
        headers={"Authorization": "Bearer court-key"},
    )
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    sanction: dict[str, Any] = body["data"]["imposeSanction"]
    return sanction


async def test_concurrent_changes_through_two_processes_are_heard_once_each_in_commit_order(
    api_server: ApiServer, other_api: ApiServer, graph: Graph
) -> None:
    per_process = 25
    subjects = [enterprise_id() for _ in range(2 * per_process)]
    for i, subject in enumerate(subjects):
        await asyncio.to_thread(register, api_server, subject, "ENTERPRISE", f"瓯海第{i}鞋厂")
    async with watching(api_server, subjects, None) as ws:
        async with httpx.AsyncClient(timeout=60) as client:
            imposed = await asyncio.gather(
                *(
                    _impose_async(client, (api_server, other_api)[i % 2].url, subject)
                    for i, subject in enumerate(subjects)
                )
            )
            # one more, committed after all of them: anything heard twice comes before it
            last = await _impose_async(client, other_api.url, subjects[0])
        heard: list[dict[str, Any]] = []
        deadline = time.monotonic() + 60
        while not heard or heard[-1]["sanctionId"] != last["id"]:
            heard.append(await next_event(ws, within=max(deadline - time.monotonic(), 0.01)))
    page = await event_log.tail(graph, 0, 1000)
    seq_of = {e["sanctionId"]: e["seq"] for e in page.events}
    assert sorted(e["sanctionId"] for e in heard) == sorted(
        [s["id"] for s in imposed] + [last["id"]]
    )
    heard_seqs = [seq_of[e["sanctionId"]] for e in heard]
    assert heard_seqs == sorted(set(heard_seqs)), "heard out of commit order, or twice"
    # the log itself has no hole: every seq from its first to its last is an event
    assert sorted(seq_of.values()) == list(range(page.events[0]["seq"], page.head.seq + 1))
    assert {e["kind"] for e in page.events} == {"IMPOSED"}


async def test_each_change_is_one_event_committed_with_it(
    api_server: ApiServer, other_api: ApiServer, graph: Graph
) -> None:
    subject = enterprise_id()
    register(api_server, subject, "ENTERPRISE", "温州市瓯海区事件测试有限公司")
    start = (await event_log.head(graph)).seq
    sanction = impose(api_server, subjectId=subject, id="S-event-test")
    impose(other_api, subjectId=subject, id="S-event-test")  # the same again: no change
    for query, variables, key in (
        (OBJECT, {"id": sanction["id"], "r": "主体认为认定有误"}, "court-key"),
        (RESOLVE, {"id": sanction["id"], "u": False}, "court-key"),
    ):
        assert "errors" not in api_server.post(query, variables, key), query
    lift = {"input": {"sanctionId": sanction["id"], "kind": "REVOKED", "reason": "撤销"}}
    # two processes lift it at once: one lifts, the other is refused, and one event is logged
    answers = await asyncio.gather(
        asyncio.to_thread(api_server.post, LIFT, lift, "court-key"),
        asyncio.to_thread(other_api.post, LIFT, lift, "court-key"),
    )
    assert sorted(str(error_code(a)) for a in answers) == ["CONFLICT", "None"]
    page = await event_log.tail(graph, start, 100)
    assert [
        (e["seq"], e["kind"], e["sanctionId"], e["subjectId"], e.get("liftKind"), e.get("upheld"))
        for e in page.events
    ] == [
        (start + 1, "IMPOSED", "S-event-test", subject, None, None),
        (start + 2, "OBJECTION_FILED", "S-event-test", subject, None, None),
        (start + 3, "OBJECTION_RESOLVED", "S-event-test", subject, None, False),
        (start + 4, "LIFTED", "S-event-test", subject, "REVOKED", None),
    ]
    assert len({e["id"] for e in page.events}) == 4
    assert all(e["jurisdiction"] == "wenzhou" for e in page.events)
    assert page.events[-1]["sanction"]["liftKind"] == "REVOKED"


SANCTION = {"id": "S-log", "subjectId": "91330302MA0000001X", "jurisdiction": "wenzhou"}


async def _append(graph: Graph, kind: EventKind = EventKind.IMPOSED) -> int:
    return await graph.write_tx(
        lambda tx: event_log.append(tx, kind, SANCTION, utc_now()), name="test.append"
    )


async def test_transactions_racing_on_the_log_take_consecutive_seqs(graph: Graph) -> None:
    start = (await event_log.head(graph)).seq
    seqs = await asyncio.gather(*(_append(graph) for _ in range(20)))
    assert sorted(seqs) == list(range(start + 1, start + 21))
    page = await event_log.tail(graph, start, 100)
    assert [e["seq"] for e in page.events] == sorted(seqs)
    assert page.head.seq == start + 20


async def test_a_change_rolled_back_leaves_no_event_and_no_hole(graph: Graph) -> None:
    first = await _append(graph)
    before = await event_log.head(graph)

    async def change_then_fail(tx: Any) -> None:
        await event_log.append(tx, EventKind.LIFTED, SANCTION, utc_now(), lift_kind="REVOKED")
        raise Conflict("sanctionId: changed meanwhile", field="sanctionId")

    with pytest.raises(Conflict):
        await graph.write_tx(change_then_fail, name="test.rollback")
    assert await event_log.head(graph) == before
    assert [e["kind"] for e in (await event_log.tail(graph, first - 1, 10)).events] == ["IMPOSED"]
    assert await _append(graph) == first + 1
