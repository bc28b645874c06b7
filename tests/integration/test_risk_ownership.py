"""ultimateBeneficialOwners and actualController against real Neo4j: cycles checked
against the exact closed form, link dates, thresholds, control bases, bad input."""

from __future__ import annotations

import datetime as dt
import random
from fractions import Fraction
from typing import Any

import pytest

from domain.vocabulary import Rel
from graph_model.driver import Graph
from tests.conftest import ApiServer
from tests.integration.helpers import enterprise_id, person_id
from tests.integration.risk_world import NOW, errors_of, link, put, subject
from tests.reference.ownership import closed_form

UBO = """
query($id: ID!, $threshold: Float, $at: DateTime) {
  ultimateBeneficialOwners(enterpriseId: $id, threshold: $threshold, at: $at) {
    owner { id kind name } share paths
  }
}"""
CONTROLLER = """
query($id: ID!, $at: DateTime) {
  actualController(enterpriseId: $id, at: $at) {
    enterpriseId basis share reasoning controller { id kind }
    path { from relation to ratio validFrom validTo linkIds }
  }
}"""


def owners(
    api: ApiServer, eid: str, threshold: float | None = 0.0, at: str = NOW
) -> list[dict[str, Any]]:
    body = api.post(UBO, {"id": eid, "threshold": threshold, "at": at}, key="regulator-key")
    assert "errors" not in body, body
    result: list[dict[str, Any]] = body["data"]["ultimateBeneficialOwners"]
    return result


def controller(api: ApiServer, eid: str, at: str = NOW) -> dict[str, Any]:
    body = api.post(CONTROLLER, {"id": eid, "at": at}, key="regulator-key")
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["actualController"]
    return result


async def test_owners_through_a_cross_holding_cycle(api_server: ApiServer, graph: Graph) -> None:
    # P holds 60% of A; A holds 50% of B; B holds 40% of A; Q holds 50% of B
    p, q = subject("PERSON", "潘"), subject("PERSON", "秦")
    a, b = subject("ENTERPRISE", "甲公司"), subject("ENTERPRISE", "乙公司")
    await put(graph, [p, q, a, b], [
        link(p["id"], a["id"], Rel.SHAREHOLDER_OF, ratio=0.6),
        link(a["id"], b["id"], Rel.SHAREHOLDER_OF, ratio=0.5),
        link(b["id"], a["id"], Rel.SHAREHOLDER_OF, ratio=0.4),
        link(q["id"], b["id"], Rel.SHAREHOLDER_OF, ratio=0.5),
    ])  # fmt: skip
    found = owners(api_server, b["id"])
    # h_A = 0.5 (1 + 0.4 h_A) = 0.625, h_Q = 0.5 (1 + 0.4 h_A) = 0.625, h_P = 0.6 h_A = 0.375
    assert [(o["owner"]["id"], o["paths"]) for o in found] == [(q["id"], 1), (p["id"], 1)]
    assert found[0]["share"] == pytest.approx(0.625, abs=1e-12)
    assert found[1]["share"] == pytest.approx(0.375, abs=1e-12)
    assert found[0]["owner"]["kind"] == "PERSON"
    # the default threshold is 25%; at 50% only Q remains
    assert [o["owner"]["id"] for o in owners(api_server, b["id"], threshold=None)] == [
        q["id"],
        p["id"],
    ]
    assert [o["owner"]["id"] for o in owners(api_server, b["id"], threshold=0.5)] == [q["id"]]
    # A's owners: P directly and Q through B
    of_a = {o["owner"]["id"]: o["share"] for o in owners(api_server, a["id"])}
    assert of_a[p["id"]] == pytest.approx(0.6 / 0.8, abs=1e-12)
    assert of_a[q["id"]] == pytest.approx(0.5 * 0.4 / 0.8, abs=1e-12)


async def test_random_cyclic_worlds_match_the_closed_form(
    api_server: ApiServer, graph: Graph
) -> None:
    rng = random.Random(4)

    def holding(
        holder: dict[str, Any], held: dict[str, Any], ratio: float, *dates: dt.date
    ) -> tuple[Rel, dict[str, Any]]:
        return link(holder["id"], held["id"], Rel.SHAREHOLDER_OF, *dates, ratio=ratio)

    for _world in range(4):
        companies = [subject("ENTERPRISE", f"公司{i}") for i in range(7)]
        persons = [subject("PERSON", f"股东{i}") for i in range(3)]
        institution = subject("PUBLIC_INSTITUTION", "国资委")
        everyone = [*companies, *persons, institution]
        index = {s["id"]: i for i, s in enumerate(everyone)}
        exact: dict[tuple[int, int], Fraction] = {}
        links = []
        for held in range(len(companies)):
            # an outside holder keeps >= 10%: the cross-holdings stay below 100% of one another
            outside = rng.choice([*persons, institution])
            share = Fraction(rng.randint(10, 30), 100)
            exact[(index[outside["id"]], held)] = share
            links.append(holding(outside, companies[held], float(share)))
            budget = 1 - share
            for holder in rng.sample(range(len(companies)), 3):
                if holder == held:
                    continue
                part = min(budget, Fraction(rng.randint(5, 40), 100))
                if part <= 0:
                    break
                budget -= part
                exact[(holder, held)] = exact.get((holder, held), Fraction(0)) + part
                links.append(holding(companies[holder], companies[held], float(part)))
        # a link that ended and one not yet begun: neither counts
        links.append(
            holding(persons[0], companies[0], 0.3, dt.date(2019, 1, 1), dt.date(2024, 1, 1))
        )
        links.append(holding(persons[1], companies[0], 0.3, dt.date(2027, 1, 1)))
        await put(graph, everyone, links)
        t = closed_form(len(everyone), exact)
        for target, company in enumerate(companies):
            got = {o["owner"]["id"]: o["share"] for o in owners(api_server, company["id"])}
            expected = {
                s["id"]: float(t[index[s["id"]]][target])
                for s in [*persons, institution]
                if t[index[s["id"]]][target] > 0
            }
            assert set(got) == set(expected), (target, got, expected)
            for sid, share in expected.items():
                assert abs(got[sid] - share) <= 1e-9


async def test_link_dates_parallel_links_and_chain_counts(
    api_server: ApiServer, graph: Graph
) -> None:
    p, t, m1, m2, top = (subject("PERSON", "甲"), subject("ENTERPRISE", "目标"), subject("ENTERPRISE", "中一"),
                         subject("ENTERPRISE", "中二"), subject("ENTERPRISE", "顶层无股东"))  # fmt: skip
    await put(graph, [p, t, m1, m2, top], [
        link(p["id"], m1["id"], Rel.SHAREHOLDER_OF, ratio=1.0),
        link(p["id"], m2["id"], Rel.SHAREHOLDER_OF, ratio=0.5),
        link(m1["id"], m2["id"], Rel.SHAREHOLDER_OF, ratio=0.5),
        link(m1["id"], t["id"], Rel.SHAREHOLDER_OF, ratio=0.2),
        link(m1["id"], t["id"], Rel.SHAREHOLDER_OF, ratio=0.1),  # a second stake: added
        link(m2["id"], t["id"], Rel.SHAREHOLDER_OF, ratio=0.4),
        link(top["id"], t["id"], Rel.SHAREHOLDER_OF, ratio=0.3),
        link(top["id"], m1["id"], Rel.SHAREHOLDER_OF, dt.date(2019, 1, 1), dt.date(2025, 1, 1), ratio=0.5),
    ])  # fmt: skip
    found = {o["owner"]["id"]: o for o in owners(api_server, t["id"])}
    assert set(found) == {p["id"], top["id"]}  # the unit without shareholders is an owner too
    # p: via m1 0.3, via m2 0.5*0.4, via m1->m2 1.0*0.5*0.4
    assert found[p["id"]]["share"] == pytest.approx(0.3 + 0.2 + 0.2, abs=1e-12)
    assert found[p["id"]]["paths"] == 3
    assert found[top["id"]]["share"] == pytest.approx(0.3, abs=1e-12)
    # in 2024 top also held half of m1
    then = {
        o["owner"]["id"]: o["share"]
        for o in owners(api_server, t["id"], at="2024-06-01T00:00:00+08:00")
    }
    assert then[top["id"]] == pytest.approx(0.3 + 0.5 * 0.3 + 0.5 * 0.5 * 0.4, abs=1e-12)


async def test_controller_bases(api_server: ApiServer, graph: Graph) -> None:
    boss, heir, other = (
        subject("PERSON", "老板"),
        subject("PERSON", "继承人"),
        subject("PERSON", "他人"),
    )
    t, mid = subject("ENTERPRISE", "目标"), subject("ENTERPRISE", "控股")
    dispersed = subject("ENTERPRISE", "分散")
    small = [subject("PERSON", f"小股东{i}") for i in range(5)]
    await put(graph, [boss, heir, other, t, mid, dispersed, *small], [
        # majority chain boss -60%-> mid -70%-> t
        link(boss["id"], mid["id"], Rel.SHAREHOLDER_OF, ratio=0.6),
        link(other["id"], mid["id"], Rel.SHAREHOLDER_OF, ratio=0.4),
        link(mid["id"], t["id"], Rel.SHAREHOLDER_OF, ratio=0.7),
        link(other["id"], t["id"], Rel.SHAREHOLDER_OF, ratio=0.3),
        # declared controller of t, only from 2026-06-01
        link(heir["id"], t["id"], Rel.ACTUAL_CONTROLLER_OF, dt.date(2026, 6, 1)),
        # dispersed: 30% other, 5 x 14%
        link(other["id"], dispersed["id"], Rel.SHAREHOLDER_OF, ratio=0.3),
        *(link(s["id"], dispersed["id"], Rel.SHAREHOLDER_OF, ratio=0.14) for s in small),
    ])  # fmt: skip
    declared = controller(api_server, t["id"])
    assert declared["basis"] == "DECLARED" and declared["controller"]["id"] == heir["id"]
    assert declared["path"][0]["relation"] == "ACTUAL_CONTROLLER_OF"
    chain = controller(api_server, t["id"], at="2026-01-01T00:00:00+08:00")
    assert chain["basis"] == "MAJORITY_CHAIN" and chain["controller"]["id"] == boss["id"]
    assert [(s["from"], s["to"]) for s in chain["path"]] == [
        (boss["id"], mid["id"]),
        (mid["id"], t["id"]),
    ]
    assert chain["share"] == pytest.approx(0.42)
    largest = controller(api_server, dispersed["id"])
    assert (
        largest["basis"] == "LARGEST_BENEFICIAL_OWNER"
        and largest["controller"]["id"] == other["id"]
    )
    assert largest["share"] == pytest.approx(0.3) and largest["path"][0]["ratio"] == pytest.approx(
        0.3
    )
    assert any("largest beneficial owner" in line for line in largest["reasoning"])


async def test_controller_through_a_declared_parent_none_and_ties(
    api_server: ApiServer, graph: Graph
) -> None:
    owner, a, b = subject("PERSON", "甲"), subject("PERSON", "乙"), subject("PERSON", "丙")
    parent, t, even, spread = (subject("ENTERPRISE", "母公司"), subject("ENTERPRISE", "子公司"),
                               subject("ENTERPRISE", "对半"), subject("ENTERPRISE", "分散"))  # fmt: skip
    many = [subject("PERSON", f"散{i}") for i in range(5)]
    await put(graph, [owner, a, b, parent, t, even, spread, *many], [
        link(a["id"], parent["id"], Rel.SHAREHOLDER_OF, ratio=0.5),
        link(b["id"], parent["id"], Rel.SHAREHOLDER_OF, ratio=0.5),
        link(owner["id"], parent["id"], Rel.ACTUAL_CONTROLLER_OF),
        link(parent["id"], t["id"], Rel.SHAREHOLDER_OF, ratio=0.8),
        link(a["id"], even["id"], Rel.SHAREHOLDER_OF, ratio=0.5),
        link(b["id"], even["id"], Rel.SHAREHOLDER_OF, ratio=0.5),
        *(link(s["id"], spread["id"], Rel.SHAREHOLDER_OF, ratio=0.2) for s in many),
    ])  # fmt: skip
    via = controller(api_server, t["id"])
    assert via["basis"] == "MAJORITY_CHAIN" and via["controller"]["id"] == owner["id"]
    assert [s["relation"] for s in via["path"]] == ["ACTUAL_CONTROLLER_OF", "SHAREHOLDER_OF"]
    tie = controller(api_server, even["id"])
    assert tie["basis"] == "NONE" and tie["controller"] is None and tie["path"] == []
    low = controller(api_server, spread["id"])
    assert low["basis"] == "NONE" and any("below the threshold" in r for r in low["reasoning"])


async def test_bad_input(api_server: ApiServer, graph: Graph) -> None:
    e = subject("ENTERPRISE", "公司")
    inst = subject("PUBLIC_INSTITUTION", "事业单位")
    x, y = subject("ENTERPRISE", "循环甲"), subject("ENTERPRISE", "循环乙")
    await put(graph, [e, inst, x, y], [
        link(x["id"], y["id"], Rel.SHAREHOLDER_OF, ratio=1.0),
        link(y["id"], x["id"], Rel.SHAREHOLDER_OF, ratio=1.0),
    ])  # fmt: skip

    def err(
        query: str = UBO, key: str = "regulator-key", **variables: Any
    ) -> tuple[str | None, str]:
        return errors_of(api_server.post(query, variables, key=key))

    pid = person_id()
    code, message = err(id=pid)
    assert (
        code == "BAD_USER_INPUT"
        and message == f"enterpriseId: {pid} is a person, not an enterprise"
    )
    assert err(query=CONTROLLER, id=pid)[0] == "BAD_USER_INPUT"
    code, message = err(id=inst["id"])
    assert code == "BAD_USER_INPUT" and "PUBLIC_INSTITUTION" in message
    assert err(id=e["id"], threshold=1.5) == ("BAD_USER_INPUT", "threshold: 1.5 is outside [0, 1]")
    assert err(id=e["id"], threshold=-0.1)[0] == "BAD_USER_INPUT"
    assert err(id="91330302MA0000000X")[0] == "INVALID_ID"
    assert err(id=enterprise_id())[0] == "NOT_FOUND"
    assert err(query=CONTROLLER, id=enterprise_id())[0] == "NOT_FOUND"
    code, message = err(id=x["id"])  # two units holding all of each other: no finite answer
    assert code == "CONFLICT" and message.startswith("enterpriseId:")
    assert err(id=e["id"], key="approval-key")[0] == "FORBIDDEN"
    assert err(query=CONTROLLER, id=e["id"], key="tax-key")[0] == "FORBIDDEN"
    assert errors_of(api_server.post(UBO, {"id": e["id"]}))[0] == "UNAUTHENTICATED"
    assert owners(api_server, e["id"]) == []
    assert controller(api_server, e["id"])["basis"] == "NONE"
