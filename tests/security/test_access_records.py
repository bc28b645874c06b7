"""Issue 18.4, its first half: reads of personal data by approval systems leave access
records, so walking through ids shows in the trail, and regulators read them back.

Real app over HTTP (and WebSocket for `sanctionEvents`), real Neo4j. The graph is shared
with other tests and not wiped: each test reads back only what it did, by key, by the
fresh ids it used and from the moment it began.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from tests.conftest import ApiServer
from tests.graphql_ws import admitted, holds_subscriptions, subscribe
from tests.integration.helpers import enterprise_id, error_code, person_id

pytestmark = pytest.mark.integration

APPROVAL = "approval-key"
APPROVAL_NAME = "approval"  # its name in the keys file (tests/conftest.py::keys_file)
RECORDS = """
query($key: String, $subject: ID, $from: DateTime, $first: Int, $after: String) {
  accessRecords(keyName: $key, subjectId: $subject, from: $from, first: $first, after: $after) {
    edges { cursor node {
      id at keyName department role field subjectIds sanctionIds requestId
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""
SUBJECT = "query($id: ID!) { subject(id: $id) { id } }"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def _records(api: ApiServer, **variables: Any) -> list[dict[str, Any]]:
    body = api.post(RECORDS, variables, key="regulator-key")
    assert "errors" not in body, body
    return [edge["node"] for edge in body["data"]["accessRecords"]["edges"]]


def test_an_approval_keys_reads_of_subjects_are_recorded_for_the_regulator(
    api_server: ApiServer,
) -> None:
    began = _now()
    ids = [person_id(dt.date(1981, 3, 9)) for _ in range(4)] + [enterprise_id()]
    for sid in ids:
        body = api_server.post(SUBJECT, {"id": sid}, key=APPROVAL)
        assert "errors" not in body, body  # not registered: null, and still a read

    records = _records(api_server, key=APPROVAL_NAME, **{"from": began})
    assert [(r["keyName"], r["field"], r["subjectIds"]) for r in records] == [
        (APPROVAL_NAME, "subject", [sid]) for sid in ids
    ]
    assert {(r["role"], r["department"]) for r in records} == {
        ("APPROVAL_SYSTEM", "wz-public-resources")
    }
    assert all(r["sanctionIds"] == [] for r in records)
    assert len({r["requestId"] for r in records}) == len(ids)  # one request each
    assert [r["at"] for r in records] == sorted(r["at"] for r in records)

    # one subject's readers, and keyset pages that cover the same records in order
    assert [r["subjectIds"] for r in _records(api_server, subject=ids[2])] == [[ids[2]]]
    paged: list[str] = []
    after = None
    while True:
        body = api_server.post(
            RECORDS,
            {"key": APPROVAL_NAME, "from": began, "first": 2, "after": after},
            key="regulator-key",
        )
        assert "errors" not in body, body
        page = body["data"]["accessRecords"]
        assert len(page["edges"]) <= 2
        paged += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert paged == [r["id"] for r in records]


def test_reads_by_roles_not_audited_leave_no_record(api_server: ApiServer) -> None:
    sid = person_id(dt.date(1982, 4, 10))
    for key in ("regulator-key", "admin-key", "court-key"):
        body = api_server.post(SUBJECT, {"id": sid}, key=key)
        assert "errors" not in body, body
    assert _records(api_server, subject=sid) == []
    # the same read by an approval system is found by the same query
    assert "errors" not in api_server.post(SUBJECT, {"id": sid}, key=APPROVAL)
    assert [r["keyName"] for r in _records(api_server, subject=sid)] == [APPROVAL_NAME]


def test_only_regulators_and_admins_read_the_access_records(api_server: ApiServer) -> None:
    for key in (APPROVAL, "court-key"):
        assert error_code(api_server.post(RECORDS, {}, key=key)) == "FORBIDDEN", key
    assert error_code(api_server.post(RECORDS, {})) == "UNAUTHENTICATED"
    for key in ("regulator-key", "admin-key"):
        assert "errors" not in api_server.post(RECORDS, {"first": 1}, key=key), key
    # bad arguments name themselves
    assert error_code(api_server.post(RECORDS, {"first": 0}, key="regulator-key")) == (
        "BAD_USER_INPUT"
    )
    body = api_server.post(RECORDS, {"after": "not-a-cursor"}, key="regulator-key")
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}


def test_sanction_and_integrity_reads_are_recorded_with_their_ids(api_server: ApiServer) -> None:
    began = _now()
    person = person_id(dt.date(1983, 5, 11))
    reads = [
        ('query { sanction(id: "S-audit-probe") { id } }', None),
        ("query($id: ID!) { integrityScore(personId: $id) { score } }", "NOT_FOUND"),
        ("query($id: ID!) { integrityBenefits(personId: $id) { score } }", "NOT_FOUND"),
    ]
    for query, code in reads:
        # an unregistered person is NOT_FOUND: the read was still asked, and recorded
        assert error_code(api_server.post(query, {"id": person}, key=APPROVAL)) == code
    records = _records(api_server, key=APPROVAL_NAME, **{"from": began})
    assert [(r["field"], r["subjectIds"], r["sanctionIds"]) for r in records] == [
        ("sanction", [], ["S-audit-probe"]),
        ("integrityScore", [person], []),
        ("integrityBenefits", [person], []),
    ]


async def test_a_subscription_records_the_ids_it_watches(api_server: ApiServer) -> None:
    watched = sorted([enterprise_id(), person_id(dt.date(1984, 6, 12))])
    async with admitted(api_server.url, APPROVAL) as ws:
        await subscribe(ws, "1", {"ids": watched})
        # the resolver records the read before it listens for events
        await holds_subscriptions(api_server.app, 1)
        records = await asyncio.to_thread(_records, api_server, subject=watched[0])
    assert [(r["keyName"], r["field"], r["subjectIds"]) for r in records] == [
        (APPROVAL_NAME, "sanctionEvents", watched)
    ]
