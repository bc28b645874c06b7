"""jointSanctionCheck and batchCheck: every role, both time rules, explanations."""

from __future__ import annotations

import itertools
from typing import Any

from graph_model.driver import Graph
from tests.conftest import ApiServer
from tests.integration.helpers import (
    enterprise_id,
    error_code,
    flush_check_records,
    link,
    person_id,
    register,
)
from tests.integration.scenario import (
    BATCH,
    build_shoe_world,
    check,
    impose,
    measure_ids,
    roles_of,
)

NOW = "2026-11-01T10:00:00+08:00"


def assert_path_shape(result: dict[str, Any], sanctioned: str) -> None:
    """Contract: starts at the checked subject, consecutive steps share a node, ends at the sanctioned one."""
    for applied in result["measures"]:
        path = applied["path"]
        if applied["role"] in {"SELF", "DIRECTLY_RESPONSIBLE_PERSON"}:
            assert path == []
            continue
        assert result["subjectId"] in (path[0]["from"], path[0]["to"])
        for a, b in itertools.pairwise(path):
            assert {a["from"], a["to"]} & {b["from"], b["to"]}
        assert sanctioned in (path[-1]["from"], path[-1]["to"])


async def test_self_legal_representative_and_child_with_explanations(api_server: ApiServer) -> None:
    w = build_shoe_world(api_server)
    sanction = impose(api_server, subjectId=w.company)
    assert sanction["status"] == "ACTIVE" and sanction["recognized"] is True
    assert sanction["validTo"] == "2027-01-10"  # the list type's default 730 days

    own = check(api_server, w.company, "PUBLIC_RESOURCE_TRANSACTIONS", NOW)
    assert own["decision"] == "PROHIBITED" and own["subjectKnown"] is True
    assert {"DJD-BIDDING-BAN", "DJD-GOV-PROCUREMENT-BAN", "DJD-STATE-LAND"} <= measure_ids(own)
    assert roles_of(own) == {"SELF"}
    bidding = next(m for m in own["measures"] if m["measure"]["id"] == "DJD-BIDDING-BAN")
    assert bidding["measure"]["legalBasis"] and bidding["measure"]["implementers"]
    assert bidding["sanction"]["subject"]["id"] == w.company

    rep = check(api_server, w.legal_rep, "CONVENIENCE_SERVICES", NOW)
    assert rep["decision"] == "PROHIBITED"
    travel = next(m for m in rep["measures"] if m["measure"]["id"] == "DJD-HC-TRAVEL")
    assert travel["role"] == "LEGAL_REPRESENTATIVE"
    assert travel["path"] == [
        {
            "from": w.legal_rep,
            "relation": "LEGAL_REPRESENTATIVE_OF",
            "to": w.company,
            "validFrom": "2018-03-01",
            "validTo": "2025-06-01",
        }
    ]
    assert_path_shape(rep, w.company)

    child = check(api_server, w.child, "CONVENIENCE_SERVICES", NOW)
    assert child["decision"] == "RESTRICTED"
    assert measure_ids(child) == {"DJD-CHILD-PRIVATE-SCHOOL"}
    school = child["measures"][0]
    assert school["role"] == "HOUSEHOLD_CHILD"
    assert [(s["from"], s["relation"], s["to"]) for s in school["path"]] == [
        (w.child, "MEMBER_OF", w.household),
        (w.legal_rep, "MEMBER_OF", w.household),
        (w.legal_rep, "LEGAL_REPRESENTATIVE_OF", w.company),
    ]
    assert_path_shape(child, w.company)
    # the spouse is no child: not reached in this area at all
    assert check(api_server, w.spouse, "CONVENIENCE_SERVICES", NOW)["decision"] == "CLEAR"


async def test_decision_date_roles_keep_the_person_responsible_then(api_server: ApiServer) -> None:
    w = build_shoe_world(api_server)
    # decided while legal_rep held the post (to 2025-06-01): still reached after leaving
    first = impose(api_server, subjectId=w.company, decidedOn="2025-01-10")
    assert roles_of(check(api_server, w.legal_rep, "SOCIAL_GOVERNANCE", NOW)) == {
        "LEGAL_REPRESENTATIVE"
    }
    # later_rep took over after that decision: not reached by it
    assert check(api_server, w.later_rep, "SOCIAL_GOVERNANCE", NOW)["decision"] == "CLEAR"
    # a second sanction decided after the change reaches later_rep, not legal_rep
    second = impose(
        api_server, subjectId=w.company, decidedOn="2025-09-01", documentNo="(2025)浙03执999号"
    )
    later = check(api_server, w.later_rep, "SOCIAL_GOVERNANCE", NOW)
    assert {m["sanction"]["id"] for m in later["measures"]} == {second["id"]}
    earlier = check(api_server, w.legal_rep, "SOCIAL_GOVERNANCE", NOW)
    assert {m["sanction"]["id"] for m in earlier["measures"]} == {first["id"]}


async def test_principal_director_controller_operator_and_named_persons(
    api_server: ApiServer,
) -> None:
    w = build_shoe_world(api_server)
    impose(api_server, subjectId=w.company)
    assert roles_of(check(api_server, w.chair, "SOCIAL_GOVERNANCE", NOW)) == {
        "PRINCIPAL_RESPONSIBLE_PERSON"
    }
    # a DIRECTOR is no principal responsible person: DJD does not reach them
    assert check(api_server, w.director, "SOCIAL_GOVERNANCE", NOW)["decision"] == "CLEAR"
    assert roles_of(check(api_server, w.controller, "FINANCING_SERVICES", NOW)) == {
        "ACTUAL_CONTROLLER"
    }
    # customs' joint review reaches every director, supervisor and manager
    impose(api_server, subjectId=w.company, listType="CUSTOMS_DISHONEST")
    director = check(api_server, w.director, "ADMINISTRATIVE_APPROVAL", NOW)
    assert director["decision"] == "STRICT_REVIEW" and roles_of(director) == {
        "DIRECTOR_SUPERVISOR_MANAGER"
    }
    # the operator of a sanctioned individual business
    impose(api_server, subjectId=w.shop, documentNo="(2025)浙03执7号")
    operator = check(api_server, w.shop_operator, "CONVENIENCE_SERVICES", NOW)
    assert operator["decision"] == "PROHIBITED" and roles_of(operator) == {"OPERATOR"}
    # persons a tax decision names as directly responsible
    named = person_id()
    register(api_server, named, "PERSON", "财务负责人")
    tax = impose(
        api_server,
        subjectId=w.company,
        listType="MAJOR_TAX_VIOLATION",
        responsiblePersonIds=[named],
    )
    assert tax["responsiblePersonIds"] == [named]
    result = check(api_server, named, "FINANCING_SERVICES", NOW)
    assert result["decision"] == "STRICT_REVIEW"
    assert (
        roles_of(result) == {"DIRECTLY_RESPONSIBLE_PERSON"} and result["measures"][0]["path"] == []
    )


async def test_check_time_roles_follow_the_links_at_check_time(api_server: ApiServer) -> None:
    w = build_shoe_world(api_server)
    impose(api_server, subjectId=w.company, decidedOn="2025-01-10")
    # the child left the household on 2026-03-01: reached before, not after
    child2 = person_id()
    register(api_server, child2, "PERSON", "陈小红")
    link(
        api_server,
        child2,
        w.household,
        "MEMBER_OF",
        "2012-01-01",
        role="CHILD",
        validTo="2026-03-01",
    )
    assert (
        check(api_server, child2, "CONVENIENCE_SERVICES", "2026-02-28T12:00:00+08:00")["decision"]
        == "RESTRICTED"
    )
    assert (
        check(api_server, child2, "CONVENIENCE_SERVICES", "2026-03-01T00:00:00+08:00")["decision"]
        == "CLEAR"
    )
    # a child born after the decision is reached at check time (household links are check-time)
    baby = person_id()
    register(api_server, baby, "PERSON", "陈小宝")
    link(api_server, baby, w.household, "MEMBER_OF", "2025-08-01", role="CHILD")
    assert roles_of(check(api_server, baby, "CONVENIENCE_SERVICES", NOW)) == {"HOUSEHOLD_CHILD"}
    assert (
        check(api_server, baby, "CONVENIENCE_SERVICES", "2025-07-01T12:00:00+08:00")["decision"]
        == "CLEAR"
    )

    # LED_UNIT: a sanctioned person reaches the units they lead at check time
    boss = person_id()
    register(api_server, boss, "PERSON", "失信老板")
    new_unit, old_unit = enterprise_id(), enterprise_id()
    register(api_server, new_unit, "ENTERPRISE", "新公司")
    register(api_server, old_unit, "ENTERPRISE", "老公司")
    link(api_server, boss, new_unit, "LEGAL_REPRESENTATIVE_OF", "2025-10-01")
    link(api_server, boss, old_unit, "ACTUAL_CONTROLLER_OF", "2015-01-01", validTo="2025-02-01")
    impose(
        api_server, subjectId=boss, listType="SAMR_SERIOUS_ILLEGAL", decidedOn="2025-01-15",
        documentNo="温市监处〔2025〕3号", reason="提交虚假材料取得登记",
    )  # fmt: skip
    led = check(api_server, new_unit, "RISK_PREVENTION_CONTROL", NOW)
    assert led["decision"] == "ALERT" and roles_of(led) == {"LED_UNIT"}
    assert led["measures"][0]["path"][0]["relation"] == "LEGAL_REPRESENTATIVE_OF"
    assert check(api_server, old_unit, "RISK_PREVENTION_CONTROL", NOW)["decision"] == "CLEAR"
    assert roles_of(
        check(api_server, old_unit, "RISK_PREVENTION_CONTROL", "2025-01-20T12:00:00+08:00")
    ) == {"LED_UNIT"}


async def test_suppressed_incentive_and_incentive_decision(api_server: ApiServer) -> None:
    eid = enterprise_id()
    register(api_server, eid, "ENTERPRISE", "温州市龙湾区诚信电气有限公司")
    impose(
        api_server, subjectId=eid, listType="TAX_A_LEVEL", decidedOn="2026-04-01",
        documentNo="温税A〔2026〕1号", reason="2024年度纳税信用A级",
    )  # fmt: skip
    red = check(api_server, eid, "ADMINISTRATIVE_APPROVAL", NOW)
    assert red["decision"] == "INCENTIVE"
    assert [(m["measure"]["id"], m["suppressed"]) for m in red["measures"]] == [
        ("TAXA-GREEN-CHANNEL", False)
    ]
    impose(api_server, subjectId=eid, decidedOn="2025-05-01")
    both = check(api_server, eid, "ADMINISTRATIVE_APPROVAL", NOW)
    assert both["decision"] == "PROHIBITED"
    flags = {m["measure"]["id"]: m["suppressed"] for m in both["measures"]}
    assert flags["TAXA-GREEN-CHANNEL"] is True
    assert all(not s for mid, s in flags.items() if mid != "TAXA-GREEN-CHANNEL")
    # strongest effect first
    assert both["measures"][0]["measure"]["effect"] == "PROHIBIT"


async def test_batch_equals_single_in_input_order(api_server: ApiServer, graph: Graph) -> None:
    w = build_shoe_world(api_server)
    impose(api_server, subjectId=w.company)
    unknown = enterprise_id()
    ids = [w.child, w.company, unknown, w.legal_rep, w.company]
    body = api_server.post(
        BATCH, {"ids": ids, "area": "CONVENIENCE_SERVICES", "at": NOW}, key="approval-key"
    )
    assert "errors" not in body, body
    batch = body["data"]["batchCheck"]
    assert [r["subjectId"] for r in batch] == ids
    assert len({r["checkId"] for r in batch}) == len(ids)
    check_ids = [r["checkId"] for r in batch]
    for result in batch:
        single = check(api_server, result["subjectId"], "CONVENIENCE_SERVICES", NOW)
        check_ids.append(single["checkId"])
        assert {k: v for k, v in result.items() if k != "checkId"} == {
            k: v for k, v in single.items() if k != "checkId"
        }
    assert (
        batch[2]["subjectKnown"] is False
        and batch[2]["decision"] == "CLEAR"
        and batch[2]["measures"] == []
    )
    # every check is recorded, batch items too, with the asking department (statistics flush the buffer)
    stats = api_server.post(
        'query { linkageStats(from: "2020-01-01T00:00:00Z", area: CONVENIENCE_SERVICES) '
        "{ department area checks hits } }",
        key="regulator-key",
    )
    assert "errors" not in stats, stats
    assert stats["data"]["linkageStats"] == [
        {
            "department": "wz-public-resources",
            "area": "CONVENIENCE_SERVICES",
            "checks": 10,
            "hits": 8,
        }
    ]
    rows = await graph.read(
        "MATCH (c:CheckRecord) WHERE c.id IN $ids RETURN c.department AS d, c.hit AS hit, count(*) AS n ORDER BY hit",
        {"ids": check_ids},
    )
    assert rows == [
        {"d": "wz-public-resources", "hit": False, "n": 1},
        {"d": "wz-public-resources", "hit": True, "n": 4},
    ]
    # the batch is one node, its checks in input order
    batch_id = check_ids[0].rsplit("-", 1)[0]
    assert check_ids[: len(ids)] == [f"{batch_id}-{n}" for n in range(len(ids))]
    (stored,) = await graph.read(
        "MATCH (b:CheckBatch {id: $id}) RETURN b.department AS d, b.subjectIds AS subjects, "
        "b.decisions AS decisions, b.size AS size, b.hits AS hits",
        {"id": batch_id},
    )
    assert stored == {
        "d": "wz-public-resources",
        "subjects": ids,
        "decisions": [r["decision"] for r in batch],
        "size": 5,
        "hits": 4,
    }


async def test_batch_limits_and_malformed_ids(api_server: ApiServer, graph: Graph) -> None:
    empty = api_server.post(BATCH, {"ids": [], "area": "CONVENIENCE_SERVICES"}, key="approval-key")
    assert empty == {"data": {"batchCheck": []}}
    flush_check_records(api_server)
    assert (await graph.read("MATCH (b:CheckBatch) RETURN count(b) AS n"))[0]["n"] == 0
    body = api_server.post(
        BATCH, {"ids": ["91330302MA2ABC1298"], "area": "CONVENIENCE_SERVICES"}, key="approval-key"
    )
    assert error_code(body) == "INVALID_ID" and "subjectIds[0]" in body["errors"][0]["message"]
    many = [enterprise_id() for _ in range(1001)]
    body = api_server.post(BATCH, {"ids": many, "area": "CONVENIENCE_SERVICES"}, key="approval-key")
    assert error_code(body) == "BAD_USER_INPUT" and "1000" in body["errors"][0]["message"]
    body = api_server.post(
        BATCH, {"ids": many[:1000], "area": "CONVENIENCE_SERVICES"}, key="approval-key"
    )
    assert "errors" not in body and len(body["data"]["batchCheck"]) == 1000
    single = api_server.post(
        'query { jointSanctionCheck(subjectId: "x", area: CONVENIENCE_SERVICES) { decision } }',
        key="approval-key",
    )
    assert error_code(single) == "INVALID_ID"
    assert (
        error_code(
            api_server.post(
                'query { jointSanctionCheck(subjectId: "x", area: NOWHERE) { decision } }',
                key="approval-key",
            )
        )
        == "BAD_USER_INPUT"
    )
    assert (
        error_code(api_server.post(BATCH, {"ids": [], "area": "CONVENIENCE_SERVICES"}))
        == "UNAUTHENTICATED"
    )
