"""The sanction feed: every change of this jurisdiction's entries, once, in commit order."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.exchange.page import parse_page
from api.exchange.signing import load_signing_key, verify
from graph_model import event_log
from graph_model.driver import Graph
from graph_model.exchange.apply import Incoming, apply_events
from graph_model.exchange.feed import read_feed
from graph_model.sanctions import Actor, SanctionRequest, impose, lift
from rules.loader import load_catalogue
from tests.conftest import TEST_DATA, ApiServer
from tests.integration.helpers import enterprise_id, error_code

CATALOGUE = load_catalogue()
COURT = Actor("court", "wz-intermediate-court", any_department=False)
FEED = """query($after: String, $first: Int) { sanctionFeed(after: $after, first: $first) {
  jurisdiction cursor hasMore keyId signature
  events { id kind at sanction { id listType subjectId subjectKind subjectName issuer
    jurisdiction decidedOn validFrom validTo status documentNo reason liftedAt } } } }"""
_serial = itertools.count(1)


def request(subject: str, *, jurisdiction: str = "wenzhou", **extra: Any) -> SanctionRequest:
    values: dict[str, Any] = {
        "client_id": None,
        "list_type": "DISHONEST_JUDGMENT_DEBTOR",
        "subject_id": subject,
        "issuer_id": "wz-intermediate-court",
        "decided_on": dt.date(2026, 3, 2),
        "valid_from": None,
        "valid_to": None,
        "document_no": f"（2026）浙03执{next(_serial)}号",
        "reason": "有履行能力而拒不履行",
        "jurisdiction": jurisdiction,
        "responsible_person_ids": (),
    }
    return SanctionRequest(**{**values, **extra})


async def lift_now(graph: Graph, sanction_id: str, kind: str) -> None:
    await lift(
        graph,
        CATALOGUE,
        sanction_id=sanction_id,
        kind=kind,
        reason="已履行或撤销",
        effective_at=None,
        actor=COURT,
    )


async def subjects(graph: Graph, count: int) -> list[str]:
    ids = [enterprise_id() for _ in range(count)]
    await graph.write(
        "UNWIND $ids AS id MERGE (s:Subject:Enterprise {id: id}) "
        "SET s.kind = 'ENTERPRISE', s.name = '温州某企业'",
        {"ids": ids},
    )
    return ids


def feed_page(api: ApiServer, after: str | None, first: int = 500) -> dict[str, Any]:
    body = api.post(FEED, {"after": after, "first": first}, key="admin-key")
    assert "errors" not in body, body
    page: dict[str, Any] = body["data"]["sanctionFeed"]
    return page


def whole_feed(api: ApiServer, first: int = 500) -> list[dict[str, Any]]:
    events, after = [], None
    while True:
        page = feed_page(api, after, first)
        events += page["events"]
        after = page["cursor"]
        if not page["hasMore"]:
            return events


async def test_the_feed_publishes_each_kind_of_change_with_the_entry_as_it_was_then(
    api_server: ApiServer, graph: Graph
) -> None:
    a, b, c, d = await subjects(graph, 4)
    imposed, _ = await impose(graph, CATALOGUE, request(a), COURT)
    repaired, _ = await impose(graph, CATALOGUE, request(b), COURT)
    await lift_now(graph, repaired["id"], "REPAIRED")
    revoked, _ = await impose(graph, CATALOGUE, request(c), COURT)
    await lift_now(graph, revoked["id"], "REVOKED")
    # decided and ended long ago: its expiry is published once, when the feed is read
    expired, _ = await impose(
        graph,
        CATALOGUE,
        request(d, decided_on=dt.date(2020, 1, 6), valid_to=dt.date(2022, 1, 6)),
        COURT,
    )
    # an entry relayed from a partner city is in the log, but never published again
    await impose(graph, CATALOGUE, request(a, jurisdiction="jiaxing"), COURT)

    events = whole_feed(api_server)
    assert [(e["sanction"]["id"], e["kind"]) for e in events] == [
        (imposed["id"], "IMPOSED"),
        (repaired["id"], "IMPOSED"),
        (repaired["id"], "LIFTED"),
        (revoked["id"], "IMPOSED"),
        (revoked["id"], "REVOKED"),
        (expired["id"], "IMPOSED"),
        (expired["id"], "EXPIRED"),
    ]
    first = events[1]["sanction"]
    # the IMPOSED event shows the entry as imposed, not as later lifted
    assert first["status"] == "ACTIVE" and first["liftedAt"] is None
    assert events[2]["sanction"]["status"] == "REPAIRED" and events[2]["sanction"]["liftedAt"]
    assert events[6]["at"].startswith("2022-01-05T16:00:00")  # midnight in the city, in UTC
    assert first["issuer"] == "温州市中级人民法院" and first["subjectName"] == "温州某企业"
    assert {e["sanction"]["jurisdiction"] for e in events} == {"wenzhou"}
    # read again: the same events, the expiry not published twice
    assert whole_feed(api_server) == events
    # page by page, one event a page: the same
    assert whole_feed(api_server, first=1) == events


async def test_pages_are_signed_with_the_instance_key(api_server: ApiServer, graph: Graph) -> None:
    [a] = await subjects(graph, 1)
    await impose(graph, CATALOGUE, request(a), COURT)
    served = feed_page(api_server, None)
    page, key_id, signature = parse_page(served, after=None)
    key = load_signing_key(TEST_DATA / "exchange-signing-key.pem", create=False).public
    assert verify(page.signed_bytes(), signature, key_id, [key]) == key
    assert page.jurisdiction == "wenzhou" and len(page.events) == 1


async def test_bad_cursors_and_page_sizes_are_refused_naming_them(
    api_server: ApiServer, graph: Graph
) -> None:
    [a] = await subjects(graph, 1)
    await impose(graph, CATALOGUE, request(a), COURT)
    cursor = feed_page(api_server, None)["cursor"]
    for after in ("yesterday", "1:2", cursor + "x"):
        body = api_server.post(FEED, {"after": after}, key="admin-key")
        assert error_code(body) == "BAD_USER_INPUT" and "after" in body["errors"][0]["message"]
    body = api_server.post(FEED, {"first": 5001}, key="admin-key")
    assert error_code(body) == "BAD_USER_INPUT"
    # a cursor of a log that was replaced (the database emptied and written again)
    await graph.write("MATCH (n) WHERE n:EventLog OR n:SanctionEvent DETACH DELETE n")
    await impose(graph, CATALOGUE, request(a), COURT)
    body = api_server.post(FEED, {"after": cursor}, key="admin-key")
    assert error_code(body) == "BAD_USER_INPUT" and "no longer has" in body["errors"][0]["message"]


async def test_entries_written_in_bulk_get_their_events_logged_once(
    api_server: ApiServer, graph: Graph
) -> None:
    a, b = await subjects(graph, 2)
    await graph.write(
        "MATCH (d:Department {id: 'wz-intermediate-court'}) "
        "UNWIND $rows AS row MATCH (p:Subject {id: row.subject}) "
        "CREATE (d)-[:ISSUED]->(s:Sanction)-[:AGAINST]->(p) "
        "SET s.id = row.id, s.listType = 'DISHONEST_JUDGMENT_DEBTOR', s.kind = 'BLACK', "
        "s.decidedOn = date('2026-01-05'), s.validFrom = date('2026-01-05'), "
        "s.validTo = date('2028-01-05'), s.status = 'ACTIVE', s.jurisdiction = 'wenzhou', "
        "s.recognized = true, s.documentNo = 'X', s.reason = 'Y', "
        "s.issuerId = 'wz-intermediate-court', s.subjectId = row.subject, "
        "s.liftedAt = row.liftedAt, s.liftKind = row.liftKind",
        {
            "rows": [
                {"id": "BULK-1", "subject": a, "liftedAt": None, "liftKind": None},
                {
                    "id": "BULK-2",
                    "subject": b,
                    "liftedAt": dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
                    "liftKind": "REPAIRED",
                },
            ]
        },
    )
    assert await event_log.log_unlogged(graph, "wenzhou") == 2
    assert await event_log.log_unlogged(graph, "wenzhou") == 0
    kinds = [(e["sanction"]["id"], e["kind"]) for e in whole_feed(api_server)]
    assert kinds == [("BULK-1", "IMPOSED"), ("BULK-2", "IMPOSED"), ("BULK-2", "LIFTED")]


@settings(
    max_examples=6,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    writers=st.integers(2, 6),
    per_writer=st.integers(1, 12),
    page=st.integers(1, 7),
    relayed_every=st.integers(2, 5),
)
async def test_following_the_cursor_under_concurrent_writers_yields_each_event_once(
    graph: Graph, writers: int, per_writer: int, page: int, relayed_every: int
) -> None:
    head = await event_log.head(graph)
    start = head.seq
    ids = await subjects(graph, writers * per_writer)
    done = asyncio.Event()

    async def writer(n: int) -> None:
        for i in range(per_writer):
            subject = ids[n * per_writer + i]
            jurisdiction = "jiaxing" if (n + i) % relayed_every == 0 else "wenzhou"
            sanction, _ = await impose(
                graph, CATALOGUE, request(subject, jurisdiction=jurisdiction), COURT
            )
            if i % 3 == 2:
                await lift_now(graph, sanction["id"], "REVOKED")

    async def reader() -> list[int]:
        seen: list[int] = []
        after = start
        while True:
            finished = done.is_set()  # read before the page: a last full pass after the end
            result = await read_feed(graph, "wenzhou", after, page)
            seen += [int(e["seq"]) for e in result.events]
            assert result.through >= after
            after = result.through
            if finished and not result.has_more:
                return seen
            await asyncio.sleep(0)

    async def write_all() -> None:
        await asyncio.gather(*(writer(n) for n in range(writers)))
        done.set()

    seen, _ = await asyncio.gather(reader(), write_all())
    rows = await graph.read(
        "MATCH (e:SanctionEvent) WHERE e.seq > $start AND e.jurisdiction = 'wenzhou' "
        "RETURN e.seq AS seq ORDER BY seq",
        {"start": start},
    )
    expected = [int(r["seq"]) for r in rows]
    assert seen == expected  # each once, none skipped, in commit order
    assert len(expected) > 0


async def test_events_that_cannot_be_applied_are_kept_aside_with_their_reason(
    api_server: ApiServer, graph: Graph
) -> None:
    subject = enterprise_id("330402")
    at = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)

    def event(event_id: str, kind: str = "IMPOSED", **sanction: Any) -> Incoming:
        entry = {
            "id": "S-" + event_id,
            "listType": "DISHONEST_JUDGMENT_DEBTOR",
            "subjectId": subject,
            "subjectKind": "ENTERPRISE",
            "subjectName": "嘉兴某公司",
            "issuer": "嘉兴市中级人民法院",
            "jurisdiction": "jiaxing",
            "decidedOn": dt.date(2026, 3, 2),
            "validFrom": dt.date(2026, 3, 2),
            "validTo": None,
            "status": "ACTIVE",
            "documentNo": "（2026）浙04执1号",
            "reason": "拒不履行",
            "liftedAt": None,
        }
        return Incoming(event_id, kind, at, {**entry, **sanction})

    done = await apply_events(
        graph,
        CATALOGUE,
        "jiaxing",
        [
            event("E1"),
            event("E2", listType="NOT_A_LIST"),
            event("E3", subjectId="91330402MA0000012X"),
            event("E4", jurisdiction="huzhou"),
            event("E5", kind="REVOKED", id="S-NEVER"),
            event("E6", kind="LIFTED", id="S-E2"),  # its imposition was kept aside
            event("E7", kind="REVOKED", id="S-E1"),
        ],
    )
    assert done.applied == 2
    reasons = {k["eventId"]: k["reason"] for k in done.kept_aside}
    assert set(reasons) == {"E2", "E3", "E4", "E5", "E6"}
    assert "NOT_A_LIST" in reasons["E2"] and "not in this catalogue" in reasons["E2"]
    assert "subjectId" in reasons["E3"]
    assert "huzhou" in reasons["E4"]
    assert "never received" in reasons["E5"]
    body = api_server.post(
        "{ exchangeStatus { jurisdiction keyId sources { jurisdiction applied keptAside entries }"
        " keptAside { source eventId kind reason } } }",
        key="regulator-key",
    )
    assert "errors" not in body, body
    status = body["data"]["exchangeStatus"]
    assert status["jurisdiction"] == "wenzhou"
    assert status["sources"] == [
        {"jurisdiction": "jiaxing", "applied": 2, "keptAside": 5, "entries": 1}
    ]
    assert {k["eventId"] for k in status["keptAside"]} == set(reasons)
    # the same events again: nothing new, nothing kept aside twice
    again = await apply_events(
        graph, CATALOGUE, "jiaxing", [event("E1"), event("E2", listType="NOT_A_LIST")]
    )
    # an imposition applied again changes nothing, not even the revocation that followed it
    assert again.applied == 0 and again.unchanged == 1
    # a change applied before is not applied again either (its event id is in the history)
    history = "MATCH (s:Sanction {id: 'jiaxing/S-E1'}) RETURN size(s.history) AS n"
    before = (await graph.read(history))[0]["n"]
    replayed = await apply_events(
        graph, CATALOGUE, "jiaxing", [event("E7", kind="REVOKED", id="S-E1")]
    )
    assert (replayed.applied, replayed.unchanged) == (0, 1)
    assert (await graph.read(history))[0]["n"] == before
    rows = await graph.read("MATCH (r:ExchangeRejection) RETURN count(r) AS n")
    assert rows[0]["n"] == 5
    entries = await graph.read(
        "MATCH (s:Sanction {sourceJurisdiction: 'jiaxing'}) RETURN s.liftKind AS k"
    )
    assert [r["k"] for r in entries] == ["REVOKED"]
