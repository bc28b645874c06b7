"""The registry part of the contract, over real HTTP against a real Neo4j."""

from __future__ import annotations

from typing import Any

import pytest

from graph_model import registry
from graph_model.driver import Graph
from tests.conftest import ApiServer
from tests.integration.helpers import (
    LINK,
    REGISTER,
    business_id,
    enterprise_id,
    error_code,
    household,
    institution_id,
    link,
    person_id,
    register,
)

COUNT_ALL = "MATCH (n) WHERE NOT n:Migration AND NOT n:Department RETURN count(n) AS nodes"
COUNT_RELS = "MATCH ()-[r]->() RETURN count(r) AS rels"


async def counts(graph: Graph) -> tuple[int, int]:
    nodes = (await graph.read(COUNT_ALL))[0]["nodes"]
    rels = (await graph.read(COUNT_RELS))[0]["rels"]
    return nodes, rels


async def test_register_and_read_back(api_server: ApiServer) -> None:
    eid = enterprise_id()
    created = register(api_server, eid, "ENTERPRISE", "温州市鹿城区瓯江鞋业有限公司")
    assert created == {
        "id": eid,
        "kind": "ENTERPRISE",
        "name": "温州市鹿城区瓯江鞋业有限公司",
        "district": "330302",
    }
    body = api_server.post(
        "query($id: ID!) { subject(id: $id) { id kind name ... on Enterprise { industry } sanctions { id } } }",
        {"id": eid},
        key="approval-key",
    )
    assert body["data"]["subject"] == {
        "id": eid,
        "kind": "ENTERPRISE",
        "name": "温州市鹿城区瓯江鞋业有限公司",
        "industry": None,
        "sanctions": [],
    }


async def test_holds_subjects_tells_an_empty_store_from_a_registered_one(
    api_server: ApiServer, graph: Graph
) -> None:
    """What `creditlink serve` asks before loading the demo world into a store."""
    assert await registry.holds_subjects(graph) is False
    register(api_server, enterprise_id(), "ENTERPRISE", "温州市龙湾区海滨阀门有限公司")
    assert await registry.holds_subjects(graph) is True


async def test_register_again_updates_same_kind_conflicts_other(
    api_server: ApiServer, graph: Graph
) -> None:
    eid = enterprise_id()
    register(api_server, eid, "ENTERPRISE", "旧名")
    updated = register(api_server, eid, "ENTERPRISE", "新名", district="乐清市")
    assert updated["name"] == "新名" and updated["district"] == "330382"
    pid = person_id()
    register(api_server, pid, "PERSON", "王伟")
    body = api_server.post(
        REGISTER, {"input": {"id": pid, "kind": "PERSON", "name": "王伟"}}, key="admin-key"
    )
    assert "errors" not in body
    # a USCC of type 91 can only be an enterprise; a kind change is refused as CONFLICT
    # when the id is valid for both — the public-institution code path shows INVALID_ID
    body = api_server.post(
        REGISTER, {"input": {"id": eid, "kind": "PUBLIC_INSTITUTION", "name": "x"}}, key="admin-key"
    )
    assert error_code(body) == "INVALID_ID"
    rows = await graph.read(
        "MATCH (s:Subject {id: $id}) RETURN s.name AS name, labels(s) AS labels", {"id": eid}
    )
    assert rows[0]["name"] == "新名" and sorted(rows[0]["labels"]) == ["Enterprise", "Subject"]


async def test_kind_conflict(api_server: ApiServer, graph: Graph) -> None:
    # 93 (cooperative) codes are enterprises; register one, then try it as an individual business
    from domain.identifiers import make_uscc

    coop = make_uscc("93", "330324", "MC000001")
    register(api_server, coop, "ENTERPRISE", "永嘉县合作社")
    await graph.write(
        "MATCH (s:Subject {id: $id}) SET s.kind = 'INDIVIDUAL_BUSINESS'", {"id": coop}
    )
    body = api_server.post(
        REGISTER, {"input": {"id": coop, "kind": "ENTERPRISE", "name": "改名"}}, key="admin-key"
    )
    assert error_code(body) == "CONFLICT"
    assert "already registered as INDIVIDUAL_BUSINESS" in body["errors"][0]["message"]
    rows = await graph.read("MATCH (s:Subject {id: $id}) RETURN s.name AS name", {"id": coop})
    assert rows[0]["name"] == "永嘉县合作社"


@pytest.mark.parametrize(
    ("payload", "code", "field"),
    [
        ({"id": "91330302MA2ABC1298", "kind": "ENTERPRISE", "name": "x"}, "INVALID_ID", "input.id"),
        ({"id": "110105194912310021", "kind": "PERSON", "name": "x"}, "INVALID_ID", "input.id"),
        ({"id": "11010519491231002X", "kind": "ENTERPRISE", "name": "x"}, "INVALID_ID", "input.id"),
        (
            {"id": "11010519491231002X", "kind": "PERSON", "name": "  "},
            "BAD_USER_INPUT",
            "input.name",
        ),
        (
            {"id": "11010519491231002X", "kind": "PERSON", "name": "x", "district": "北京"},
            "BAD_USER_INPUT",
            "input.district",
        ),
    ],
)
async def test_register_rejects_bad_input(
    api_server: ApiServer, graph: Graph, payload: dict[str, Any], code: str, field: str
) -> None:
    before = await counts(graph)
    body = api_server.post(REGISTER, {"input": payload}, key="admin-key")
    assert error_code(body) == code
    assert body["errors"][0]["extensions"]["field"] == field
    assert field in body["errors"][0]["message"]
    assert await counts(graph) == before


async def test_links_of_every_kind_and_end_link(api_server: ApiServer, graph: Graph) -> None:
    eid, eid2, bid, iid, pid = (
        enterprise_id(),
        enterprise_id(),
        business_id(),
        institution_id(),
        person_id(),
    )
    for sid, kind in (
        (eid, "ENTERPRISE"),
        (eid2, "ENTERPRISE"),
        (bid, "INDIVIDUAL_BUSINESS"),
        (iid, "PUBLIC_INSTITUTION"),
        (pid, "PERSON"),
    ):
        register(api_server, sid, kind, f"{kind}-名")
    household(api_server, "3303020000001")
    made = [
        link(api_server, pid, eid, "LEGAL_REPRESENTATIVE_OF", "2020-01-01"),
        link(api_server, pid, eid, "SHAREHOLDER_OF", "2020-01-01", ratio=0.6),
        link(api_server, eid2, eid, "SHAREHOLDER_OF", "2020-01-01", ratio=0.4),
        link(api_server, pid, eid, "EXECUTIVE_OF", "2020-01-01", role="CHAIR"),
        link(api_server, pid, bid, "OPERATOR_OF", "2021-03-01"),
        link(api_server, pid, "3303020000001", "MEMBER_OF", "2000-01-01", role="HEAD"),
        link(api_server, eid2, eid, "BRANCH_OF", "2022-01-01"),
        link(api_server, pid, iid, "ACTUAL_CONTROLLER_OF", "2022-01-01", validTo="2024-01-01"),
    ]
    assert {m["relation"] for m in made} == {
        "LEGAL_REPRESENTATIVE_OF",
        "SHAREHOLDER_OF",
        "EXECUTIVE_OF",
        "OPERATOR_OF",
        "MEMBER_OF",
        "BRANCH_OF",
        "ACTUAL_CONTROLLER_OF",
    }
    # the same link again is the same link (safe retries), not a second one
    again = link(api_server, pid, eid, "LEGAL_REPRESENTATIVE_OF", "2020-01-01")
    assert again["id"] == made[0]["id"]
    assert (await graph.read("MATCH ()-[r:LEGAL_REPRESENTATIVE_OF]->() RETURN count(r) AS n"))[0][
        "n"
    ] == 1

    end = "mutation($id: ID!, $to: Date!) { endLink(id: $id, validTo: $to) { id validTo } }"
    body = api_server.post(end, {"id": made[0]["id"], "to": "2025-06-30"}, key="admin-key")
    assert body["data"]["endLink"] == {"id": made[0]["id"], "validTo": "2025-06-30"}
    body = api_server.post(end, {"id": made[0]["id"], "to": "2025-07-30"}, key="admin-key")
    assert error_code(body) == "CONFLICT"
    body = api_server.post(end, {"id": made[1]["id"], "to": "2019-01-01"}, key="admin-key")
    assert error_code(body) == "BAD_USER_INPUT" and "validTo" in body["errors"][0]["message"]
    body = api_server.post(end, {"id": "Lnope", "to": "2025-01-01"}, key="admin-key")
    assert error_code(body) == "NOT_FOUND"
    rows = await graph.read(
        "MATCH ()-[r:SHAREHOLDER_OF]->() WHERE r.ratio = 0.6 RETURN r.validTo AS to"
    )
    assert rows == [{"to": None}]


async def test_link_rejects_bad_input_and_writes_nothing(
    api_server: ApiServer, graph: Graph
) -> None:
    eid, pid, pid2, bid = enterprise_id(), person_id(), person_id(), business_id()
    for sid, kind in (
        (eid, "ENTERPRISE"),
        (pid, "PERSON"),
        (pid2, "PERSON"),
        (bid, "INDIVIDUAL_BUSINESS"),
    ):
        register(api_server, sid, kind, "名")
    household(api_server, "3303020000002")
    missing = enterprise_id()

    def case(
        code: str, field: str, source: str, target: str, relation: str, **extra: Any
    ) -> tuple[dict[str, Any], str, str]:
        return {"from": source, "to": target, "relation": relation, **extra}, code, field

    bad = "BAD_USER_INPUT"
    cases = [
        case("NOT_FOUND", "input.to", pid, missing, "LEGAL_REPRESENTATIVE_OF"),
        case("NOT_FOUND", "input.from", person_id(), eid, "LEGAL_REPRESENTATIVE_OF"),
        case(bad, "input.to", eid, eid, "BRANCH_OF"),
        case(bad, "input.relation", eid, pid, "LEGAL_REPRESENTATIVE_OF"),
        case(bad, "input.relation", pid, pid2, "SHAREHOLDER_OF", ratio=0.5),
        case(bad, "input.relation", pid, eid, "OPERATOR_OF"),
        case(bad, "input.ratio", pid, eid, "SHAREHOLDER_OF", ratio=0),
        case(bad, "input.ratio", pid, eid, "SHAREHOLDER_OF", ratio=1.01),
        case(bad, "input.ratio", pid, eid, "SHAREHOLDER_OF"),
        case(bad, "input.ratio", pid, eid, "LEGAL_REPRESENTATIVE_OF", ratio=0.5),
        case(bad, "input.role", pid, eid, "EXECUTIVE_OF", role="KING"),
        case(bad, "input.role", pid, eid, "EXECUTIVE_OF"),
        case(
            bad,
            "input.validTo",
            pid,
            "3303020000002",
            "MEMBER_OF",
            role="HEAD",
            validTo="2019-01-01",
        ),
        case("NOT_FOUND", "input.to", pid, "3303029999999", "MEMBER_OF", role="HEAD"),
        case("INVALID_ID", "input.from", eid, "3303020000002", "MEMBER_OF", role="HEAD"),
        case("INVALID_ID", "input.from", "91330302MA2ABC1298", eid, "BRANCH_OF"),
    ]
    before = await counts(graph)
    for payload, code, field in cases:
        body = api_server.post(
            LINK, {"input": {"validFrom": "2020-01-01", **payload}}, key="admin-key"
        )
        assert error_code(body) == code, (payload, body)
        assert body["errors"][0]["extensions"].get("field") == field, (payload, body)
        assert field in body["errors"][0]["message"], body
    assert await counts(graph) == before


async def test_registry_is_admin_only(api_server: ApiServer, graph: Graph) -> None:
    payload = {"input": {"id": enterprise_id(), "kind": "ENTERPRISE", "name": "x"}}
    assert error_code(api_server.post(REGISTER, payload)) == "UNAUTHENTICATED"
    assert error_code(api_server.post(REGISTER, payload, key="public-key")) == "UNAUTHENTICATED"
    for key in ("approval-key", "court-key", "regulator-key"):
        assert error_code(api_server.post(REGISTER, payload, key=key)) == "FORBIDDEN"
    assert error_code(api_server.post(REGISTER, payload, key="no-such-key")) == "UNAUTHENTICATED"
    assert (await counts(graph))[0] == 0
