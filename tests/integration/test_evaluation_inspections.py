"""drawInspections and replayInspectionDraw: weighted, reproducible, conflict-free draws."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graph_model.driver import Graph
from tests.conftest import ApiServer
from tests.integration.helpers import (
    enterprise_id,
    error_code,
    household,
    link,
    person_id,
    register,
)
from tests.integration.scenario import impose

DRAW = """
mutation($input: InspectionDrawInput!) {
  drawInspections(input: $input) {
    id seed inspectors district industry count inspectorsPerTarget candidateCount algorithm createdBy
    targets { subject { id kind name district } grade }
    conflicts { target inspector reason }
  }
}"""
REPLAY = """
query($id: ID!) {
  replayInspectionDraw(id: $id) {
    drawId matches differences
    recorded { id seed inspectors targets { subject { id } grade } }
    replayed { id seed inspectors targets { subject { id } grade } }
  }
}"""
GET = "query($id: ID!) { inspectionDraw(id: $id) { id seed inspectors targets { subject { id } grade } } }"
REGISTER = """
mutation($input: SubjectInput!) { registerSubject(input: $input) { id } }"""
COUNT_DRAWS = "MATCH (d:InspectionDraw) RETURN count(d) AS n"


@dataclass
class Town:
    footwear: list[str]  # 330302 FOOTWEAR: the candidates
    grades: dict[str, str]
    linked: str  # legal representative of every candidate
    housemate: str  # shares a household with a co-director of every candidate
    via_unit: str  # legal representative of the shareholder of every candidate
    free: list[str]  # no links


def unit(api: ApiServer, name: str, district: str, industry: str) -> str:
    uid = enterprise_id(district)
    body = api.post(
        REGISTER,
        {
            "input": {
                "id": uid,
                "kind": "ENTERPRISE",
                "name": name,
                "district": district,
                "industry": industry,
            }
        },
        key="admin-key",
    )
    assert "errors" not in body, body
    return uid


def build_town(api: ApiServer) -> Town:
    footwear = [
        unit(api, f"温州市鹿城区第{n}鞋业有限公司", "330302", "FOOTWEAR") for n in range(12)
    ]
    unit(api, "瑞安市某鞋业有限公司", "330381", "FOOTWEAR")
    unit(api, "鹿城区某服饰有限公司", "330302", "CLOTHING")
    holder = unit(api, "温州某控股有限公司", "330302", "TRADE")
    people = {
        name: person_id()
        for name in ("linked", "director", "housemate", "via_unit", "f1", "f2", "f3")
    }
    for name, pid in people.items():
        register(api, pid, "PERSON", f"检查员{name}")
    household(api, "3303020300001")
    link(api, people["director"], "3303020300001", "MEMBER_OF", "2015-01-01", role="HEAD")
    link(api, people["housemate"], "3303020300001", "MEMBER_OF", "2015-01-01", role="SPOUSE")
    link(api, people["via_unit"], holder, "LEGAL_REPRESENTATIVE_OF", "2015-01-01")
    for uid in footwear:
        link(
            api,
            people["linked"],
            uid,
            "LEGAL_REPRESENTATIVE_OF",
            "2018-01-01",
            validTo="2020-01-01",
        )
        link(api, people["director"], uid, "EXECUTIVE_OF", "2019-01-01", role="DIRECTOR")
        link(api, holder, uid, "SHAREHOLDER_OF", "2019-01-01", ratio=0.3)
    grades = {uid: "A" for uid in footwear}
    for uid in footwear[:3]:
        impose(api, subjectId=uid)
        grades[uid] = "C"
    impose(api, subjectId=footwear[3], listType="SAMR_SERIOUS_ILLEGAL")
    impose(api, subjectId=footwear[3])
    grades[footwear[3]] = "D"
    return Town(
        footwear=footwear,
        grades=grades,
        linked=people["linked"],
        housemate=people["housemate"],
        via_unit=people["via_unit"],
        free=[people["f1"], people["f2"], people["f3"]],
    )


def draw(api: ApiServer, key: str = "regulator-key", **fields: Any) -> dict[str, Any]:
    body = api.post(DRAW, {"input": fields}, key=key)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["drawInspections"]
    return result


def replay(api: ApiServer, draw_id: str) -> dict[str, Any]:
    body = api.post(REPLAY, {"id": draw_id}, key="regulator-key")
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["replayInspectionDraw"]
    return result


def targets(result: dict[str, Any]) -> list[str]:
    return [t["subject"]["id"] for t in result["targets"]]


async def count_draws(graph: Graph) -> int:
    return int((await graph.read(COUNT_DRAWS))[0]["n"])


async def test_draws_are_weighted_reproducible_recorded_and_conflict_free(
    api_server: ApiServer, graph: Graph
) -> None:
    town = build_town(api_server)
    pool = [town.linked, town.housemate, town.via_unit, *town.free]
    fields = {
        "district": "鹿城区",
        "industry": "FOOTWEAR",
        "count": 5,
        "inspectorPool": pool,
        "seed": "wz-2026-Q4",
    }
    first = draw(api_server, **fields)
    assert (
        first["seed"] == "wz-2026-Q4"
        and first["candidateCount"] == 12
        and first["district"] == "330302"
    )
    assert first["inspectorsPerTarget"] == 2 and first["createdBy"] == "regulator"
    chosen = targets(first)
    assert len(chosen) == 5 == len(set(chosen)) and set(chosen) <= set(town.footwear)
    assert all(t["grade"] == town.grades[t["subject"]["id"]] for t in first["targets"])
    assert len(first["inspectors"]) == 10
    for n, target in enumerate(chosen):
        block = first["inspectors"][2 * n : 2 * n + 2]
        assert len(set(block)) == 2 and set(block) <= set(town.free)
        reasons = {
            (c["inspector"], c["reason"]) for c in first["conflicts"] if c["target"] == target
        }
        assert reasons == {
            (town.linked, "LINKED"),
            (town.housemate, "HOUSEHOLD"),
            (town.via_unit, "VIA_UNIT"),
        }

    stored = await graph.read(
        "MATCH (d:InspectionDraw {id: $id}) RETURN d.seed AS seed, d.targets AS targets, "
        "d.inspectors AS inspectors, d.createdAt AS createdAt, d.createdBy AS by, d.count AS count",
        {"id": first["id"]},
    )
    assert stored[0]["seed"] == "wz-2026-Q4" and stored[0]["targets"] == chosen
    assert stored[0]["inspectors"] == first["inspectors"] and stored[0]["createdAt"] is not None
    assert stored[0]["by"] == "regulator" and stored[0]["count"] == 5

    again = draw(api_server, **fields)
    assert again["id"] != first["id"]
    assert targets(again) == chosen and again["inspectors"] == first["inspectors"]
    others = [draw(api_server, **{**fields, "seed": f"other-{n}"}) for n in range(4)]
    assert any(targets(o) != chosen or o["inspectors"] != first["inspectors"] for o in others)

    confirmed = replay(api_server, first["id"])
    assert confirmed["matches"] is True and confirmed["differences"] == []
    assert (
        confirmed["replayed"]["inspectors"] == first["inspectors"]
        and targets(confirmed["replayed"]) == chosen
    )
    # records made after the draw do not disturb its replay
    unit(api_server, "温州市鹿城区新开鞋业有限公司", "330302", "FOOTWEAR")
    impose(
        api_server, subjectId=chosen[-1] if town.grades[chosen[-1]] == "A" else town.footwear[-1]
    )
    assert replay(api_server, first["id"])["matches"] is True
    fetched = api_server.post(GET, {"id": first["id"]}, key="admin-key")["data"]["inspectionDraw"]
    assert fetched["inspectors"] == first["inspectors"] and targets(fetched) == chosen
    assert api_server.post(GET, {"id": "D-none"}, key="admin-key")["data"]["inspectionDraw"] is None
    assert error_code(api_server.post(REPLAY, {"id": "D-none"}, key="regulator-key")) == "NOT_FOUND"


async def test_without_a_seed_one_is_picked_and_fewer_targets_when_fewer_match(
    api_server: ApiServer,
) -> None:
    town = build_town(api_server)
    result = draw(
        api_server, key="admin-key", industry="FOOTWEAR", district="330302", count=100,
        inspectorPool=town.free, inspectorsPerTarget=1,
    )  # fmt: skip
    assert len(result["seed"]) == 16 and int(result["seed"], 16) >= 0
    assert sorted(targets(result)) == sorted(town.footwear) and len(result["inspectors"]) == 12
    assert replay(api_server, result["id"])["matches"] is True
    none = draw(api_server, industry="NO_SUCH_TRADE", count=3, inspectorPool=town.free)
    assert none["targets"] == [] and none["inspectors"] == [] and none["candidateCount"] == 0


async def test_heavier_grades_are_drawn_more_often(api_server: ApiServer) -> None:
    town = build_town(api_server)
    hits = {"A": 0, "C": 0, "D": 0}
    for n in range(40):
        result = draw(
            api_server, district="330302", industry="FOOTWEAR", count=1, seed=f"freq-{n}",
            inspectorPool=town.free, inspectorsPerTarget=1,
        )  # fmt: skip
        hits[result["targets"][0]["grade"]] += 1
    # 8 units of weight 0.5, 3 of weight 2, 1 of weight 4: P(A) = 4/14, P(C) = 6/14, P(D) = 4/14
    assert hits["C"] + hits["D"] > hits["A"]


BAD_INPUTS: list[tuple[dict[str, Any], str, str]] = [
    ({"count": 0}, "BAD_USER_INPUT", "input.count"),
    ({"count": 501}, "BAD_USER_INPUT", "input.count"),
    ({"inspectorPool": []}, "BAD_USER_INPUT", "input.inspectorPool"),
    ({"inspectorPool": ["330302197505170000"]}, "INVALID_ID", "input.inspectorPool[0]"),
    ({"inspectorPool": ["FREE0", "91330302MA0000001X"]}, "INVALID_ID", "input.inspectorPool[1]"),
    ({"inspectorPool": ["FREE0", "UNIT"]}, "INVALID_ID", "input.inspectorPool[1]"),
    ({"inspectorPool": ["FREE0", "FREE0", "FREE1"]}, "BAD_USER_INPUT", "input.inspectorPool[1]"),
    ({"inspectorPool": ["FREE0", "UNKNOWN"]}, "NOT_FOUND", "input.inspectorPool[1]"),
    ({"inspectorPool": ["FREE0"]}, "BAD_USER_INPUT", "input.inspectorPool"),
    ({"inspectorPool": ["LINKED", "FREE0"]}, "BAD_USER_INPUT", "input.inspectorPool"),
    ({"district": "杭州"}, "BAD_USER_INPUT", "input.district"),
    ({"inspectorsPerTarget": 0}, "BAD_USER_INPUT", "input.inspectorsPerTarget"),
    ({"inspectorsPerTarget": 11}, "BAD_USER_INPUT", "input.inspectorsPerTarget"),
    ({"seed": "x" * 129}, "BAD_USER_INPUT", "input.seed"),
    ({"industry": "  "}, "BAD_USER_INPUT", "input.industry"),
]


async def test_bad_input_records_no_draw(api_server: ApiServer, graph: Graph) -> None:
    target = unit(api_server, "温州市鹿城区唯一鞋业有限公司", "330302", "FOOTWEAR")
    names = {"UNKNOWN": person_id(), "UNIT": target}
    for name in ("FREE0", "FREE1", "LINKED"):
        names[name] = person_id()
        register(api_server, names[name], "PERSON", "检查员")
    link(api_server, names["LINKED"], target, "LEGAL_REPRESENTATIVE_OF", "2018-01-01")
    for change, code, field in BAD_INPUTS:
        fields: dict[str, Any] = {
            "district": "330302", "industry": "FOOTWEAR", "count": 3,
            "inspectorPool": ["FREE0", "FREE1"], **change,
        }  # fmt: skip
        fields["inspectorPool"] = [names.get(p, p) for p in fields["inspectorPool"]]
        body = api_server.post(DRAW, {"input": fields}, key="regulator-key")
        assert error_code(body) == code, (change, body)
        assert body["errors"][0]["extensions"]["field"] == field, (change, body)
        assert await count_draws(graph) == 0
    # the same pool without the conflicted inspector staffs the draw
    names["FREE2"] = person_id()
    register(api_server, names["FREE2"], "PERSON", "检查员")
    pool = [names["LINKED"], names["FREE0"], names["FREE1"]]
    result = draw(api_server, industry="FOOTWEAR", count=1, inspectorPool=pool)
    assert sorted(result["inspectors"]) == sorted([names["FREE0"], names["FREE1"]])
    assert await count_draws(graph) == 1


async def test_roles(api_server: ApiServer, graph: Graph) -> None:
    pid = person_id()
    register(api_server, pid, "PERSON", "检查员")
    fields = {"count": 1, "inspectorPool": [pid], "inspectorsPerTarget": 1}
    assert error_code(api_server.post(DRAW, {"input": fields})) == "UNAUTHENTICATED"
    for key in ("approval-key", "court-key"):
        assert error_code(api_server.post(DRAW, {"input": fields}, key=key)) == "FORBIDDEN"
    assert await count_draws(graph) == 0
    assert error_code(api_server.post(REPLAY, {"id": "D1"}, key="approval-key")) == "FORBIDDEN"
