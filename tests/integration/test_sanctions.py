"""The sanction lifecycle, recognition, the closed loop and the impact preview."""

from __future__ import annotations

from typing import Any

import pytest

from graph_model.driver import Graph
from tests.conftest import ApiServer
from tests.integration.helpers import enterprise_id, error_code, person_id, register
from tests.integration.scenario import (
    BATCH,
    CHECK,
    IMPOSE,
    LIFT,
    build_shoe_world,
    check,
    impose,
    roles_of,
)

NOW = "2026-11-01T10:00:00+08:00"
OBJECT = (
    "mutation($id: ID!, $r: String!) { fileObjection(sanctionId: $id, reason: $r) { id status } }"
)
RESOLVE = "mutation($id: ID!, $u: Boolean!, $n: String) { resolveObjection(sanctionId: $id, upheld: $u, note: $n) { id status liftedAt } }"
FEEDBACK = (
    "mutation($input: FeedbackInput!) { recordFeedback(input: $input) { id checkId outcome note } }"
)
IMPACT = """
query($id: ID!) { sanctionImpact(sanctionId: $id) { subject { id kind } role areas path { from relation to } } }"""


async def sanction_count(graph: Graph) -> int:
    return int((await graph.read("MATCH (s:Sanction) RETURN count(s) AS n"))[0]["n"])


def lift(
    api: ApiServer, sid: str, kind: str, at: str | None = None, key: str = "court-key"
) -> dict[str, Any]:
    payload = {"sanctionId": sid, "kind": kind, "reason": "已履行完毕", "effectiveAt": at}
    return api.post(LIFT, {"input": payload}, key=key)


def linkage_stats(api: ApiServer, counts: str) -> list[tuple[Any, ...]]:
    """linkageStats since 2020 in the public-resources area, as the regulator reads it: a
    row each of department, area and then the `counts` named, in their order."""
    fields = ["department", "area", *counts.split()]
    body = api.post(
        'query { linkageStats(from: "2020-01-01T00:00:00Z", area: PUBLIC_RESOURCE_TRANSACTIONS) '
        f"{{ {' '.join(fields)} }} }}",
        key="regulator-key",
    )
    assert "errors" not in body, body
    return [tuple(row[f] for f in fields) for row in body["data"]["linkageStats"]]


async def test_lift_takes_effect_at_its_timestamp(api_server: ApiServer) -> None:
    w = build_shoe_world(api_server)
    sanction = impose(api_server, subjectId=w.company)
    body = lift(api_server, sanction["id"], "REVOKED", "2026-06-01T09:00:00+08:00")
    assert body["data"]["liftSanction"]["status"] == "REVOKED"
    before = check(api_server, w.legal_rep, "CONVENIENCE_SERVICES", "2026-06-01T08:59:59+08:00")
    after = check(api_server, w.legal_rep, "CONVENIENCE_SERVICES", "2026-06-01T09:00:00+08:00")
    assert (
        before["decision"] == "PROHIBITED"
        and before["measures"][0]["sanction"]["status"] == "REVOKED"
    )
    assert after["decision"] == "CLEAR"
    again = lift(api_server, sanction["id"], "REPAIRED")
    assert error_code(again) == "CONFLICT" and "already lifted" in again["errors"][0]["message"]


async def test_repair_before_minimum_period_is_refused(api_server: ApiServer, graph: Graph) -> None:
    eid = enterprise_id()
    register(api_server, eid, "ENTERPRISE", "温州市瓯海区某阀门有限公司")
    sanction = impose(
        api_server, subjectId=eid, listType="SAMR_SERIOUS_ILLEGAL", decidedOn="2026-03-01",
        documentNo="温市监〔2026〕1号",
    )  # fmt: skip
    early = lift(api_server, sanction["id"], "REPAIRED", key="amr-key")
    assert error_code(early) == "BAD_USER_INPUT"
    assert (
        "365 days" in early["errors"][0]["message"]
        and "2027-03-01" in early["errors"][0]["message"]
    )
    rows = await graph.read(
        "MATCH (s:Sanction {id: $id}) RETURN s.liftedAt AS at", {"id": sanction["id"]}
    )
    assert rows == [{"at": None}]
    on_time = lift(
        api_server, sanction["id"], "REPAIRED", "2027-03-01T00:00:00+08:00", key="amr-key"
    )
    assert "errors" not in on_time, on_time
    # a revocation (the entry was wrong) has no minimum period
    other = impose(
        api_server, subjectId=eid, listType="SAMR_SERIOUS_ILLEGAL", decidedOn="2026-10-01",
        documentNo="温市监〔2026〕2号",
    )  # fmt: skip
    assert (
        lift(api_server, other["id"], "REVOKED", key="amr-key")["data"]["liftSanction"]["status"]
        == "REVOKED"
    )


async def test_objection_keeps_applying_until_resolved(api_server: ApiServer) -> None:
    w = build_shoe_world(api_server)
    sanction = impose(api_server, subjectId=w.company)
    body = api_server.post(
        OBJECT, {"id": sanction["id"], "r": "已与申请人达成和解"}, key="court-key"
    )
    assert body["data"]["fileObjection"]["status"] == "UNDER_OBJECTION"
    assert (
        error_code(api_server.post(OBJECT, {"id": sanction["id"], "r": "again"}, key="court-key"))
        == "CONFLICT"
    )
    during = check(api_server, w.company, "PUBLIC_RESOURCE_TRANSACTIONS")
    assert during["decision"] == "PROHIBITED"
    assert {m["sanction"]["status"] for m in during["measures"]} == {"UNDER_OBJECTION"}
    rejected = api_server.post(
        RESOLVE, {"id": sanction["id"], "u": False, "n": "异议不成立"}, key="court-key"
    )
    assert rejected["data"]["resolveObjection"]["status"] == "ACTIVE"
    assert (
        error_code(api_server.post(RESOLVE, {"id": sanction["id"], "u": True}, key="court-key"))
        == "CONFLICT"
    )
    api_server.post(OBJECT, {"id": sanction["id"], "r": "新证据"}, key="court-key")
    upheld = api_server.post(
        RESOLVE, {"id": sanction["id"], "u": True, "n": "异议成立"}, key="court-key"
    )
    assert upheld["data"]["resolveObjection"]["status"] == "REVOKED"
    assert check(api_server, w.company, "PUBLIC_RESOURCE_TRANSACTIONS")["decision"] == "CLEAR"
    assert (
        check(api_server, w.company, "PUBLIC_RESOURCE_TRANSACTIONS", NOW)["decision"]
        == "PROHIBITED"
    )


async def test_expiry_and_history(api_server: ApiServer) -> None:
    eid = enterprise_id()
    register(api_server, eid, "ENTERPRISE", "到期公司")
    sanction = impose(api_server, subjectId=eid, decidedOn="2023-01-01", validTo="2024-01-01")
    body = api_server.post(
        "query($id: ID!) { sanction(id: $id) { status } }",
        {"id": sanction["id"]},
        key="approval-key",
    )
    assert body["data"]["sanction"]["status"] == "EXPIRED"
    assert check(api_server, eid, "PUBLIC_RESOURCE_TRANSACTIONS")["decision"] == "CLEAR"
    assert (
        check(api_server, eid, "PUBLIC_RESOURCE_TRANSACTIONS", "2023-12-31T23:59:00+08:00")[
            "decision"
        ]
        == "PROHIBITED"
    )
    assert (
        check(api_server, eid, "PUBLIC_RESOURCE_TRANSACTIONS", "2024-01-01T00:00:00+08:00")[
            "decision"
        ]
        == "CLEAR"
    )
    assert (
        check(api_server, eid, "PUBLIC_RESOURCE_TRANSACTIONS", "2022-12-31T23:59:00+08:00")[
            "decision"
        ]
        == "CLEAR"
    )


async def test_partner_city_recognition(api_server: ApiServer) -> None:
    eid = enterprise_id()
    register(api_server, eid, "ENTERPRISE", "嘉兴关联公司")
    recognised = impose(
        api_server, subjectId=eid, jurisdiction="jiaxing", documentNo="(2025)浙04执1号"
    )
    assert recognised["recognized"] is True and recognised["jurisdiction"] == "jiaxing"
    assert check(api_server, eid, "PUBLIC_RESOURCE_TRANSACTIONS", NOW)["decision"] == "PROHIBITED"
    other = enterprise_id()
    register(api_server, other, "ENTERPRISE", "嘉兴欠薪公司")
    stored = impose(
        api_server, subjectId=other, listType="WAGE_ARREARS_DISHONEST", jurisdiction="jiaxing"
    )
    assert stored["recognized"] is False
    assert check(api_server, other, "PUBLIC_RESOURCE_TRANSACTIONS", NOW)["decision"] == "CLEAR"
    body = api_server.post(IMPACT, {"id": stored["id"]}, key="regulator-key")
    assert body["data"]["sanctionImpact"] == []


async def test_idempotent_client_id(api_server: ApiServer, graph: Graph) -> None:
    eid = enterprise_id()
    register(api_server, eid, "ENTERPRISE", "重试公司")
    first = impose(api_server, subjectId=eid, id="court-2025-0001")
    second = impose(api_server, subjectId=eid, id="court-2025-0001")
    assert first == second and first["id"] == "court-2025-0001"
    body = api_server.post(
        IMPOSE,
        {
            "input": {
                "id": "court-2025-0001",
                "listType": "DISHONEST_JUDGMENT_DEBTOR",
                "subjectId": eid,
                "issuerId": "wz-intermediate-court",
                "decidedOn": "2025-01-10",
                "documentNo": "不同文号",
                "reason": "x",
            }
        },
        key="court-key",
    )
    assert error_code(body) == "CONFLICT"
    assert await sanction_count(graph) == 1


@pytest.mark.parametrize(
    ("fields", "key", "code", "field"),
    [
        ({"listType": "NO_SUCH_LIST"}, "court-key", "BAD_USER_INPUT", "input.listType"),
        ({"issuerId": "wz-nowhere"}, "admin-key", "BAD_USER_INPUT", "input.issuerId"),
        ({"issuerId": "wz-tax"}, "admin-key", "BAD_USER_INPUT", "input.issuerId"),
        ({"issuerId": "wz-tax"}, "court-key", "FORBIDDEN", "input.issuerId"),
        (
            {"listType": "MAJOR_TAX_VIOLATION", "issuerId": "wz-tax"},
            "court-key",
            "FORBIDDEN",
            "input.issuerId",
        ),
        ({"jurisdiction": "shanghai"}, "court-key", "BAD_USER_INPUT", "input.jurisdiction"),
        (
            {"validFrom": "2025-02-01", "validTo": "2025-01-31"},
            "court-key",
            "BAD_USER_INPUT",
            "input.validTo",
        ),
        ({"validFrom": "2025-01-01"}, "court-key", "BAD_USER_INPUT", "input.validFrom"),
        ({"decidedOn": "2099-01-01"}, "court-key", "BAD_USER_INPUT", "input.decidedOn"),
        ({"documentNo": "  "}, "court-key", "BAD_USER_INPUT", "input.documentNo"),
        ({"subjectId": "91330302MA2ABC1298"}, "court-key", "INVALID_ID", "input.subjectId"),
        ({"subjectId": "MISSING"}, "court-key", "NOT_FOUND", "input.subjectId"),
        (
            {"responsiblePersonIds": ["MISSING"]},
            "court-key",
            "NOT_FOUND",
            "input.responsiblePersonIds",
        ),
        (
            {"responsiblePersonIds": ["110105194912310021"]},
            "court-key",
            "INVALID_ID",
            "input.responsiblePersonIds",
        ),
    ],
)
async def test_impose_rejects_bad_input_and_writes_nothing(
    api_server: ApiServer, graph: Graph, fields: dict[str, Any], key: str, code: str, field: str
) -> None:
    eid = enterprise_id()
    register(api_server, eid, "ENTERPRISE", "被执行公司")
    if fields.get("subjectId") == "MISSING":
        fields = {**fields, "subjectId": enterprise_id()}
    if fields.get("responsiblePersonIds") == ["MISSING"]:
        fields = {**fields, "responsiblePersonIds": [person_id()]}
    payload = {
        "listType": "DISHONEST_JUDGMENT_DEBTOR",
        "subjectId": eid,
        "issuerId": "wz-intermediate-court",
        "decidedOn": "2025-01-10",
        "documentNo": "(2025)浙03执1号",
        "reason": "拒不履行",
        **fields,
    }
    body = api_server.post(IMPOSE, {"input": payload}, key=key)
    assert error_code(body) == code, body
    assert body["errors"][0]["extensions"].get("field") == field
    assert field in body["errors"][0]["message"]
    assert await sanction_count(graph) == 0


async def test_lifecycle_authorisation(api_server: ApiServer, graph: Graph) -> None:
    eid = enterprise_id()
    register(api_server, eid, "ENTERPRISE", "授权测试公司")
    payload = {
        "listType": "DISHONEST_JUDGMENT_DEBTOR",
        "subjectId": eid,
        "issuerId": "wz-intermediate-court",
        "decidedOn": "2025-01-10",
        "documentNo": "x",
        "reason": "y",
    }
    assert error_code(api_server.post(IMPOSE, {"input": payload})) == "UNAUTHENTICATED"
    for key in ("approval-key", "regulator-key"):
        assert error_code(api_server.post(IMPOSE, {"input": payload}, key=key)) == "FORBIDDEN"
    assert await sanction_count(graph) == 0
    sanction = impose(api_server, subjectId=eid)
    # another department's issuer may neither lift nor object to it
    assert error_code(lift(api_server, sanction["id"], "REVOKED", key="tax-key")) == "FORBIDDEN"
    assert (
        error_code(api_server.post(OBJECT, {"id": sanction["id"], "r": "x"}, key="tax-key"))
        == "FORBIDDEN"
    )
    assert error_code(lift(api_server, "Snope", "REVOKED")) == "NOT_FOUND"
    rows = await graph.read("MATCH (s:Sanction) RETURN s.liftedAt AS at, s.status AS st")
    assert rows == [{"at": None, "st": "ACTIVE"}]
    # ADMIN acts for any authorised department
    assert (
        lift(api_server, sanction["id"], "REVOKED", key="admin-key")["data"]["liftSanction"][
            "status"
        ]
        == "REVOKED"
    )


async def test_feedback_closes_the_loop(api_server: ApiServer, graph: Graph) -> None:
    w = build_shoe_world(api_server)
    impose(api_server, subjectId=w.company)
    result = check(api_server, w.company, "PUBLIC_RESOURCE_TRANSACTIONS")
    mine = {"checkId": result["checkId"], "outcome": "APPLIED", "note": "已取消投标资格"}
    other = api_server.post(FEEDBACK, {"input": mine}, key="approval-other-key")
    assert error_code(other) == "FORBIDDEN"
    body = api_server.post(FEEDBACK, {"input": mine}, key="approval-key")
    assert body["data"]["recordFeedback"]["outcome"] == "APPLIED"
    assert error_code(api_server.post(FEEDBACK, {"input": mine}, key="approval-key")) == "CONFLICT"
    missing = {"checkId": "Cnope", "outcome": "APPLIED"}
    assert (
        error_code(api_server.post(FEEDBACK, {"input": missing}, key="approval-key")) == "NOT_FOUND"
    )
    assert (await graph.read("MATCH (f:Feedback) RETURN count(f) AS n"))[0]["n"] == 1
    clear = check(api_server, w.spouse, "PUBLIC_RESOURCE_TRANSACTIONS")
    api_server.post(
        FEEDBACK,
        {"input": {"checkId": clear["checkId"], "outcome": "NOT_APPLIED"}},
        key="approval-key",
    )
    stats = linkage_stats(
        api_server, "checks hits feedbacks applied notApplied feedbackRate hitRate"
    )
    assert stats == [
        ("wz-public-resources", "PUBLIC_RESOURCE_TRANSACTIONS", 2, 1, 2, 1, 1, 1.0, 0.5)
    ]


async def test_feedback_on_batch_items(api_server: ApiServer, graph: Graph) -> None:
    """A batchCheck call is one CheckBatch node, yet each of its checks takes its own
    feedback and counts in the statistics beside checks asked alone."""
    w = build_shoe_world(api_server)
    impose(api_server, subjectId=w.company)
    unknown = enterprise_id()
    ids = [w.company, w.spouse, unknown, w.company]
    body = api_server.post(
        BATCH, {"ids": ids, "area": "PUBLIC_RESOURCE_TRANSACTIONS", "at": NOW}, key="approval-key"
    )
    assert "errors" not in body, body
    items = [r["checkId"] for r in body["data"]["batchCheck"]]
    assert [r["decision"] != "CLEAR" for r in body["data"]["batchCheck"]] == [
        True,
        False,
        False,
        True,
    ]

    def feedback(check_id: str, outcome: str, key: str = "approval-key") -> dict[str, Any]:
        return api_server.post(
            FEEDBACK, {"input": {"checkId": check_id, "outcome": outcome}}, key=key
        )

    assert error_code(feedback(items[0], "APPLIED", key="approval-other-key")) == "FORBIDDEN"
    first = feedback(items[0], "APPLIED")
    assert first["data"]["recordFeedback"]["checkId"] == items[0], first
    assert error_code(feedback(items[0], "NOT_APPLIED")) == "CONFLICT"
    assert "errors" not in feedback(items[3], "PARTIALLY_APPLIED")
    batch_id = items[0].rsplit("-", 1)[0]
    for missing in (f"{batch_id}-4", f"B{'0' * 32}-0", f"{batch_id}-x", f"{batch_id}-01"):
        assert error_code(feedback(missing, "APPLIED")) == "NOT_FOUND", missing
    alone = check(api_server, w.spouse, "PUBLIC_RESOURCE_TRANSACTIONS")
    assert "errors" not in feedback(alone["checkId"], "NOT_APPLIED")

    stored = await graph.read(
        "MATCH (b:CheckBatch) OPTIONAL MATCH (f:Feedback)-[:ON_CHECK]->(b) "
        "RETURN b.id AS id, b.size AS size, b.hits AS hits, b.subjectIds AS subjects, "
        "b.decisions AS decisions, b.subjectKnown AS known, b.department AS department, "
        "b.measureCounts AS measureCounts, size(b.measureIds) AS measures, "
        "collect(f.checkId) AS fed ORDER BY id"
    )
    assert len(stored) == 1
    (record,) = stored
    assert record["id"] == batch_id and record["size"] == 4 and record["hits"] == 2
    assert record["subjects"] == ids and record["known"] == [True, True, False, True]
    assert record["decisions"][1:3] == ["CLEAR", "CLEAR"]
    assert record["department"] == "wz-public-resources"
    counts = record["measureCounts"]
    assert counts[0] == counts[3] > 0 and counts[1] == counts[2] == 0
    assert record["measures"] == sum(counts)
    assert sorted(record["fed"]) == sorted([items[0], items[3]])
    assert (await graph.read("MATCH (c:CheckRecord) RETURN count(c) AS n"))[0]["n"] == 1

    stats = linkage_stats(api_server, "checks hits feedbacks applied partiallyApplied notApplied")
    assert stats == [("wz-public-resources", "PUBLIC_RESOURCE_TRANSACTIONS", 5, 2, 3, 1, 1, 1)]


async def test_impact_agrees_with_the_check(api_server: ApiServer) -> None:
    w = build_shoe_world(api_server)
    sanction = impose(api_server, subjectId=w.company)
    impacted = api_server.post(IMPACT, {"id": sanction["id"]}, key="regulator-key")["data"][
        "sanctionImpact"
    ]
    reached = {(i["subject"]["id"], i["role"]) for i in impacted}
    assert reached == {
        (w.company, "SELF"),
        (w.legal_rep, "LEGAL_REPRESENTATIVE"),
        (w.chair, "PRINCIPAL_RESPONSIBLE_PERSON"),
        (w.controller, "ACTUAL_CONTROLLER"),
        (w.child, "HOUSEHOLD_CHILD"),
    }
    for entry in impacted:
        for area in entry["areas"]:
            result = check(api_server, entry["subject"]["id"], area)
            assert entry["role"] in roles_of(result, sanction["id"]), (entry, area)
            mine = next(
                m
                for m in result["measures"]
                if m["sanction"]["id"] == sanction["id"] and m["role"] == entry["role"]
            )
            assert [(p["from"], p["relation"], p["to"]) for p in mine["path"]] == [
                (p["from"], p["relation"], p["to"]) for p in entry["path"]
            ]
    preview = api_server.post(
        "query($i: SanctionPreviewInput!) { sanctionImpactPreview(input: $i) { subject { id } role areas } }",
        {"i": {"listType": "SAMR_SERIOUS_ILLEGAL", "subjectId": w.company}},
        key="regulator-key",
    )["data"]["sanctionImpactPreview"]
    # decided today, the current legal representative is reached, the former one is not
    assert {(p["subject"]["id"], p["role"]) for p in preview} >= {
        (w.company, "SELF"),
        (w.later_rep, "LEGAL_REPRESENTATIVE"),
    }
    assert (w.legal_rep, "LEGAL_REPRESENTATIVE") not in {
        (p["subject"]["id"], p["role"]) for p in preview
    }
    assert (
        error_code(api_server.post(IMPACT, {"id": sanction["id"]}, key="approval-key"))
        == "FORBIDDEN"
    )


async def test_subject_sanctions_field_filters_by_time(api_server: ApiServer) -> None:
    eid = enterprise_id()
    register(api_server, eid, "ENTERPRISE", "历史公司")
    old = impose(
        api_server, subjectId=eid, decidedOn="2022-01-01", validTo="2023-01-01", documentNo="a"
    )
    current = impose(api_server, subjectId=eid, decidedOn="2026-01-01", documentNo="b")
    query = "query($id: ID!, $at: DateTime) { subject(id: $id) { all: sanctions { id } now: sanctions(activeAt: $at) { id status } } }"
    body = api_server.post(query, {"id": eid, "at": NOW}, key="approval-key")["data"]["subject"]
    assert {s["id"] for s in body["all"]} == {old["id"], current["id"]}
    assert body["now"] == [{"id": current["id"], "status": "ACTIVE"}]
    assert api_server.post(
        CHECK, {"id": eid, "area": "PUBLIC_RESOURCE_TRANSACTIONS"}, key="approval-key"
    )["data"]
