"""publishedList and publicCreditSummary: what is published, masking, exact keyset pages."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from domain.identifiers import mask_resident_id
from tests.conftest import ApiServer
from tests.integration.helpers import enterprise_id, error_code, person_id, register
from tests.integration.scenario import JINHUA_TAX, LIFT, impose

PAGE = """
query($kind: ListKind!, $listType: ID, $district: String, $first: Int, $after: String) {
  publishedList(kind: $kind, listType: $listType, district: $district, first: $first, after: $after) {
    edges { cursor node {
      sanctionId listType kind subjectKind subjectId subjectName district issuer issuerId decidedOn validTo
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""
SUMMARY = """
query($id: ID!) {
  publicCreditSummary(subjectId: $id) {
    subjectId kind name district blackCount redCount watchCount
    entries { sanctionId listType kind subjectId subjectName }
  }
}"""
OBJECT = 'mutation($id: ID!) { fileObjection(sanctionId: $id, reason: "不服") { id status } }'


def page(api: ApiServer, key: str | None = None, **variables: Any) -> dict[str, Any]:
    body = api.post(PAGE, {"kind": "BLACK", **variables}, key=key)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["publishedList"]
    return result


def walk(
    api: ApiServer, first: int, key: str | None = None, **variables: Any
) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        result = page(api, key=key, first=first, after=after, **variables)
        assert len(result["edges"]) <= first
        nodes += [e["node"] for e in result["edges"]]
        if not result["pageInfo"]["hasNextPage"]:
            return nodes
        after = result["pageInfo"]["endCursor"]
        assert after == result["edges"][-1]["cursor"]


def ids(nodes: list[dict[str, Any]]) -> list[str]:
    return [n["sanctionId"] for n in nodes]


def populate(api: ApiServer, units: int, persons: int) -> tuple[list[str], list[str]]:
    """Black-list entries on a few decision dates, so many share a date (ties by id)."""
    days = ["2025-01-10", "2025-03-05", "2025-03-05", "2025-06-20", "2025-06-20", "2025-06-20"]
    sanction_ids: list[str] = []
    person_ids: list[str] = []
    for n in range(units):
        uid = enterprise_id("330302" if n % 2 else "330381")
        register(
            api,
            uid,
            "ENTERPRISE",
            f"温州市测试{n}号鞋业有限公司",
            district="330302" if n % 2 else "330381",
        )
        sanction_ids.append(
            impose(api, subjectId=uid, decidedOn=days[n % len(days)], id=f"PUB-U-{n:03d}")["id"]
        )
    for n in range(persons):
        pid = person_id()
        register(api, pid, "PERSON", "陈建国")
        person_ids.append(pid)
        sanction_ids.append(
            impose(api, subjectId=pid, decidedOn=days[n % len(days)], id=f"PUB-P-{n:03d}")["id"]
        )
    return sanction_ids, person_ids


def expected_order(api: ApiServer, nodes: list[dict[str, Any]]) -> list[str]:
    ordered = sorted(nodes, key=lambda n: n["sanctionId"])
    ordered.sort(key=lambda n: n["decidedOn"], reverse=True)
    return ids(ordered)


async def test_pages_yield_every_entry_exactly_once_in_order(api_server: ApiServer) -> None:
    sanction_ids, person_ids = populate(api_server, units=22, persons=5)
    nodes = walk(api_server, first=7)
    assert len(nodes) == 27 and sorted(ids(nodes)) == sorted(sanction_ids)
    assert ids(nodes) == expected_order(api_server, nodes)
    # one page with everything agrees with the walk
    assert ids([e["node"] for e in page(api_server, first=200)["edges"]]) == ids(nodes)
    # admin sees the same publication
    assert walk(api_server, first=7, key="admin-key") == nodes

    # masking of persons, everywhere in the answer
    text = json.dumps(nodes, ensure_ascii=False)
    for pid in person_ids:
        assert pid not in text and mask_resident_id(pid) in text
    persons = [n for n in nodes if n["subjectKind"] == "PERSON"]
    assert len(persons) == 5
    assert all(n["subjectName"] == "陈**" and "陈建国" not in text for n in persons)
    units = [n for n in nodes if n["subjectKind"] == "ENTERPRISE"]
    assert all(len(n["subjectId"]) == 18 and "*" not in n["subjectId"] for n in units)
    first = nodes[0]
    assert first["issuer"] == "温州市中级人民法院" and first["issuerId"] == "wz-intermediate-court"
    assert first["kind"] == "BLACK" and first["listType"] == "DISHONEST_JUDGMENT_DEBTOR"

    # filters
    lucheng = walk(api_server, first=7, district="鹿城区")
    assert {n["district"] for n in lucheng} == {"330302"} and len(lucheng) == 11 + 5
    assert walk(api_server, first=7, district="330381") == [
        n for n in nodes if n["district"] == "330381"
    ]
    assert walk(api_server, first=7, listType="DISHONEST_JUDGMENT_DEBTOR") == nodes
    assert walk(api_server, first=7, kind="RED") == []


async def test_entries_leave_at_once_when_lifted_expired_or_disputed(api_server: ApiServer) -> None:
    sanction_ids, _ = populate(api_server, units=4, persons=0)
    uid = enterprise_id()
    register(api_server, uid, "ENTERPRISE", "温州市测试过期有限公司")
    expired = impose(api_server, subjectId=uid, decidedOn="2020-01-01", validTo="2021-01-01")["id"]
    future = impose(
        api_server,
        subjectId=uid,
        decidedOn="2026-01-01",
        validFrom=(dt.date.today() + dt.timedelta(days=30)).isoformat(),
    )["id"]
    foreign = impose(api_server, subjectId=uid, **JINHUA_TAX)["id"]
    shown = ids(walk(api_server, first=3))
    assert sorted(shown) == sorted(sanction_ids)
    assert not {expired, future, foreign} & set(shown)

    body = api_server.post(
        LIFT,
        {"input": {"sanctionId": sanction_ids[0], "kind": "REPAIRED", "reason": "已履行"}},
        key="court-key",
    )
    assert "errors" not in body, body
    assert sanction_ids[0] not in ids(walk(api_server, first=3))

    assert (
        api_server.post(OBJECT, {"id": sanction_ids[1]}, key="court-key")["data"]["fileObjection"][
            "status"
        ]
        == "UNDER_OBJECTION"
    )
    assert ids(walk(api_server, first=3)) == [i for i in shown if i not in sanction_ids[:2]]

    # an unpublished list type (internal tax-arrears watch list) never shows
    impose(api_server, subjectId=uid, listType="TAX_ARREARS_WATCH")
    impose(api_server, subjectId=uid, listType="SAMR_ABNORMAL_OPERATION")
    assert [n["listType"] for n in walk(api_server, first=3, kind="WATCH")] == [
        "SAMR_ABNORMAL_OPERATION"
    ]


async def test_bad_input_is_refused(api_server: ApiServer) -> None:
    for variables in (
        {"listType": "NO_SUCH_LIST"},
        {"listType": "TAX_A_LEVEL"},  # a red list asked for as BLACK
        {"kind": "WATCH", "listType": "TAX_ARREARS_WATCH"},  # not published
        {"district": "杭州"},
        {"first": 0},
        {"first": 201},
        {"after": "not-a-cursor"},
        {"after": "cDF8MjAyNS0wMS0xMHw"},  # valid base64, wrong shape
    ):
        body = api_server.post(PAGE, {"kind": "BLACK", **variables})
        assert error_code(body) == "BAD_USER_INPUT", (variables, body)
    assert page(api_server, first=200)["edges"] == []


async def test_public_credit_summary(api_server: ApiServer) -> None:
    uid = enterprise_id()
    register(api_server, uid, "ENTERPRISE", "温州市鹿城区公示测试有限公司")
    black = impose(api_server, subjectId=uid)["id"]
    impose(api_server, subjectId=uid, listType="TAX_A_LEVEL", decidedOn="2026-06-01")
    impose(api_server, subjectId=uid, listType="TAX_ARREARS_WATCH")
    body = api_server.post(SUMMARY, {"id": uid})
    assert "errors" not in body, body
    summary = body["data"]["publicCreditSummary"]
    assert summary["subjectId"] == uid and summary["kind"] == "ENTERPRISE"
    assert (summary["blackCount"], summary["redCount"], summary["watchCount"]) == (1, 1, 0)
    assert {e["sanctionId"] for e in summary["entries"]} >= {black}

    pid = person_id()
    register(api_server, pid, "PERSON", "王小明")
    impose(api_server, subjectId=pid)
    for key in (None, "public-key"):  # no key, or a PUBLIC one: an API key is what is missing
        refused = api_server.post(SUMMARY, {"id": pid}, key=key)
        assert error_code(refused) == "UNAUTHENTICATED", refused
        error = refused["errors"][0]
        assert error["extensions"].get("field") == "subjectId", refused
        assert "subjectId" in error["message"] and "API key" in error["message"], refused
        assert not refused.get("data"), refused
        assert pid not in json.dumps(refused, ensure_ascii=False)
    allowed = api_server.post(SUMMARY, {"id": pid}, key="approval-key")["data"][
        "publicCreditSummary"
    ]
    assert allowed["blackCount"] == 1 and allowed["entries"][0]["subjectId"] == mask_resident_id(
        pid
    )
    assert allowed["entries"][0]["subjectName"] == "王**"
    assert error_code(api_server.post(SUMMARY, {"id": enterprise_id()})) == "NOT_FOUND"
    assert error_code(api_server.post(SUMMARY, {"id": "91330302MA0000000X"})) == "INVALID_ID"
