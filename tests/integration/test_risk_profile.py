"""suspectedLinks, riskProfile and riskClusters against real Neo4j."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from domain.vocabulary import Rel
from graph_model.driver import Graph
from tests.conftest import ApiServer
from tests.integration.helpers import person_id
from tests.integration.risk_world import NOW, errors_of, link, put, sanction, subject

SUSPECTED = """
query($id: ID!, $at: DateTime) {
  suspectedLinks(subjectId: $id, at: $at) {
    subjectId totalCount
    links { subject { id kind } bases householdIds sanctioned sanctions { id } }
  }
}"""
PROFILE = """
query($id: ID!, $at: DateTime) {
  riskProfile(subjectId: $id, at: $at) { subjectId score factors { code weight detail } }
}"""
CLUSTERS = """
query($d: String!, $min: Int! = 3, $at: DateTime) {
  riskClusters(district: $d, minSize: $min, at: $at) {
    id size why
    members { subject { id } sanctioned }
    sanctions { id subject { id } }
    bonds { from to basis linkId householdId }
    bondCounts { basis count }
  }
}"""
PHONE = "a" * 64
ADDRESS = "b" * 64


def post(api: ApiServer, query: str, **variables: Any) -> dict[str, Any]:
    body = api.post(query, variables, key="regulator-key")
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def profile(api: ApiServer, sid: str, at: str = NOW) -> dict[str, Any]:
    result: dict[str, Any] = post(api, PROFILE, id=sid, at=at)["riskProfile"]
    return result


def codes(result: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for f in result["factors"]:
        out[f["code"]] = out.get(f["code"], 0.0) + f["weight"]
    return out


async def test_suspected_links_show_the_basis_never_the_value(
    api_server: ApiServer, graph: Graph
) -> None:
    a = subject("PERSON", "甲", phoneHash=PHONE)
    b = subject("PERSON", "乙", phoneHash=PHONE)
    c, gone = subject("PERSON", "丙"), subject("PERSON", "丁")
    u1 = subject("ENTERPRISE", "甲商行", addressHash=ADDRESS)
    u2 = subject("ENTERPRISE", "乙商行", addressHash=ADDRESS)
    hh = {"id": "H330302000001", "district": "330302", "address": "x"}
    await put(
        graph,
        [a, b, c, gone, u1, u2],
        [
            link(a["id"], hh["id"], Rel.MEMBER_OF, role="HEAD"),
            link(c["id"], hh["id"], Rel.MEMBER_OF, role="SPOUSE"),
            link(
                gone["id"],
                hh["id"],
                Rel.MEMBER_OF,
                dt.date(2010, 1, 1),
                dt.date(2024, 1, 1),
                role="CHILD",
            ),
            link(a["id"], u1["id"], Rel.LEGAL_REPRESENTATIVE_OF),
        ],
        [hh],
        [sanction(b["id"])],
    )
    body = api_server.post(SUSPECTED, {"id": a["id"], "at": NOW}, key="regulator-key")
    assert PHONE not in json.dumps(body) and ADDRESS not in json.dumps(body)
    found = body["data"]["suspectedLinks"]
    assert found["totalCount"] == 2
    # the sanctioned one first; the registered LR link to u1 is no suspicion
    assert [(x["subject"]["id"], x["bases"], x["sanctioned"]) for x in found["links"]] == [
        (b["id"], ["SHARED_PHONE"], True),
        (c["id"], ["SHARED_HOUSEHOLD"], False),
    ]
    assert found["links"][1]["householdIds"] == [hh["id"]]
    assert len(found["links"][0]["sanctions"]) == 1
    # in 2020 the child was still registered in the household
    then = post(api_server, SUSPECTED, id=a["id"], at="2020-06-01T00:00:00+08:00")["suspectedLinks"]
    assert gone["id"] in {x["subject"]["id"] for x in then["links"]}
    units = post(api_server, SUSPECTED, id=u1["id"], at=NOW)["suspectedLinks"]
    assert [(x["subject"]["id"], x["bases"]) for x in units["links"]] == [
        (u2["id"], ["SHARED_ADDRESS"])
    ]


async def test_risk_profile_factors_and_score(api_server: ApiServer, graph: Graph) -> None:
    company = subject("ENTERPRISE", "失信公司")
    rep = subject("PERSON", "法人")
    debtor = subject("PERSON", "被执行人", phoneHash=PHONE)
    spouse = subject("PERSON", "配偶")
    caller = subject("PERSON", "同号人", phoneHash=PHONE)
    d, e = subject("ENTERPRISE", "循环甲"), subject("ENTERPRISE", "循环乙")
    crowded = [subject("ENTERPRISE", f"同址{i}", addressHash=ADDRESS) for i in range(6)]
    churn = subject("ENTERPRISE", "换人公司")
    reps = [subject("PERSON", f"法人{i}") for i in range(4)]
    terms = [dt.date(2015, 1, 1), dt.date(2024, 3, 1), dt.date(2025, 5, 1), dt.date(2026, 2, 1)]
    red, watched = subject("ENTERPRISE", "守信公司"), subject("ENTERPRISE", "关注公司")
    hh = {"id": "H330302000002", "district": "330302", "address": "x"}
    lifted = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    await put(
        graph,
        [company, rep, debtor, spouse, caller, d, e, *crowded, churn, *reps, red, watched],
        [
            link(rep["id"], company["id"], Rel.LEGAL_REPRESENTATIVE_OF),
            link(debtor["id"], hh["id"], Rel.MEMBER_OF, role="HEAD"),
            link(spouse["id"], hh["id"], Rel.MEMBER_OF, role="SPOUSE"),
            link(d["id"], e["id"], Rel.SHAREHOLDER_OF, ratio=0.3),
            link(e["id"], d["id"], Rel.SHAREHOLDER_OF, ratio=0.3),
            # four legal representatives in turn, each until the next took over
            *(
                link(r["id"], churn["id"], Rel.LEGAL_REPRESENTATIVE_OF, start, end)
                for r, start, end in zip(reps, terms, [*terms[1:], None], strict=True)
            ),
        ],
        [hh],
        [
            sanction(company["id"]),
            sanction(company["id"], lift_kind="REPAIRED", lifted_at=lifted),
            sanction(company["id"], lift_kind="REVOKED", lifted_at=lifted),
            sanction(
                company["id"],
                "SAMR_ABNORMAL_OPERATION",
                "WATCH",
                "wz-amr",
                dt.date(2023, 1, 1),
                dt.date(2025, 6, 1),
            ),
            sanction(debtor["id"]),
            sanction(red["id"], "TAX_A_LEVEL", "RED", "wz-tax"),
            sanction(watched["id"], "TAX_ARREARS_WATCH", "WATCH", "wz-tax"),
        ],
    )
    own = profile(api_server, company["id"])
    assert codes(own) == {
        "OWN_BLACK_LIST": 40.0, "REPAIRED_HISTORY": 4.0, "REVOKED_HISTORY": 0.0, "EXPIRED_HISTORY": 3.0,
    }  # fmt: skip
    assert own["score"] == 47.0 and own["subjectId"] == company["id"]
    assert own["factors"][0]["code"] == "OWN_BLACK_LIST"  # largest first

    led = profile(api_server, rep["id"])
    assert codes(led) == {"SANCTIONED_PARTY_D1": 20.0} and led["score"] == 20.0
    assert company["id"] in led["factors"][0]["detail"]
    assert "LEGAL_REPRESENTATIVE_OF" in led["factors"][0]["detail"]

    household = profile(api_server, spouse["id"])
    assert codes(household) == {"SANCTIONED_PARTY_D2": pytest.approx(3.2)}
    assert debtor["id"] in household["factors"][0]["detail"]

    suspect = profile(api_server, caller["id"])
    assert codes(suspect) == {"SUSPECTED_LINK_TO_SANCTIONED": 6.0}
    assert "SHARED_PHONE" in suspect["factors"][0]["detail"] and PHONE not in json.dumps(suspect)

    cyc = profile(api_server, d["id"])
    assert codes(cyc) == {"CIRCULAR_SHAREHOLDING": 10.0}
    assert e["id"] in cyc["factors"][0]["detail"]

    assert codes(profile(api_server, crowded[0]["id"])) == {"CROWDED_ADDRESS": 8.0}
    turned = profile(api_server, churn["id"])
    assert codes(turned) == {"LEGAL_REPRESENTATIVE_CHURN": 12.0}  # 3 changes in 3 years
    assert codes(profile(api_server, churn["id"], at="2025-06-01T00:00:00+08:00")) == {
        "LEGAL_REPRESENTATIVE_CHURN": 8.0
    }
    good = profile(api_server, red["id"])
    assert codes(good) == {"RED_LIST": -10.0} and good["score"] == 0.0
    assert codes(profile(api_server, watched["id"])) == {"OWN_WATCH_LIST": 15.0}
    # before any of it: nothing
    early = profile(api_server, company["id"], at="2020-01-01T00:00:00+08:00")
    assert early["score"] == 0.0 and early["factors"] == []

    assert (
        errors_of(api_server.post(PROFILE, {"id": person_id()}, key="regulator-key"))[0]
        == "NOT_FOUND"
    )
    assert (
        errors_of(api_server.post(PROFILE, {"id": "123"}, key="regulator-key"))[0] == "INVALID_ID"
    )
    assert (
        errors_of(api_server.post(PROFILE, {"id": rep["id"]}, key="approval-key"))[0] == "FORBIDDEN"
    )
    assert (
        errors_of(api_server.post(SUSPECTED, {"id": rep["id"]}, key="approval-key"))[0]
        == "FORBIDDEN"
    )
    assert (
        errors_of(api_server.post(SUSPECTED, {"id": person_id()}, key="admin-key"))[0]
        == "NOT_FOUND"
    )


async def test_risk_clusters(api_server: ApiServer, graph: Graph) -> None:
    s1, s2, s3 = (subject("ENTERPRISE", "失信一", addressHash=ADDRESS), subject("ENTERPRISE", "失信二"),
                  subject("ENTERPRISE", "孤立失信"))  # fmt: skip
    p = subject("PERSON", "共同法人")
    q = subject("ENTERPRISE", "同址公司", addressHash=ADDRESS)
    k, m = subject("PERSON", "失信人"), subject("PERSON", "家属")
    n = subject("ENTERPRISE", "失信人的公司")
    elsewhere = subject("ENTERPRISE", "龙湾失信", district="330303")
    elsewhere_rep = subject("PERSON", "龙湾法人", district="330303")
    elsewhere_dir = subject("PERSON", "龙湾董事", district="330303")
    hh = {"id": "H330302000003", "district": "330302", "address": "x"}
    await put(
        graph,
        [s1, s2, s3, p, q, k, m, n, elsewhere, elsewhere_rep, elsewhere_dir],
        [
            link(p["id"], s1["id"], Rel.LEGAL_REPRESENTATIVE_OF),
            link(p["id"], s2["id"], Rel.LEGAL_REPRESENTATIVE_OF),
            link(k["id"], n["id"], Rel.LEGAL_REPRESENTATIVE_OF),
            link(k["id"], hh["id"], Rel.MEMBER_OF, role="HEAD"),
            link(m["id"], hh["id"], Rel.MEMBER_OF, role="SPOUSE"),
            link(elsewhere_rep["id"], elsewhere["id"], Rel.LEGAL_REPRESENTATIVE_OF),
            link(elsewhere_dir["id"], elsewhere["id"], Rel.EXECUTIVE_OF, role="DIRECTOR"),
        ],
        [hh],
        [
            sanction(s1["id"]),
            sanction(s2["id"]),
            sanction(s3["id"]),
            sanction(k["id"]),
            sanction(elsewhere["id"]),
        ],
    )
    found = post(api_server, CLUSTERS, d="330302", at=NOW)["riskClusters"]
    assert [sorted(x["subject"]["id"] for x in c["members"]) for c in found] == [
        sorted([s1["id"], s2["id"], p["id"], q["id"]]),
        sorted([k["id"], m["id"], n["id"]]),
    ]
    first = found[0]
    assert first["size"] == 4
    assert [x["sanctioned"] for x in first["members"]] == [True, True, False, False]
    assert {s["subject"]["id"] for s in first["sanctions"]} == {s1["id"], s2["id"]}
    assert {(b["basis"], b["count"]) for b in first["bondCounts"]} == {
        ("LEGAL_REPRESENTATIVE_OF", 2), ("SHARED_ADDRESS", 1),
    }  # fmt: skip
    lr = [b for b in first["bonds"] if b["basis"] == "LEGAL_REPRESENTATIVE_OF"]
    assert all(b["from"] == p["id"] and b["linkId"] for b in lr)
    assert "LEGAL_REPRESENTATIVE_OF" in first["why"] and "2 sanctioned" in first["why"]
    second = found[1]
    hh_bond = next(b for b in second["bonds"] if b["basis"] == "SHARED_HOUSEHOLD")
    assert hh_bond["householdId"] == hh["id"] and hh_bond["linkId"] is None
    # the same data, the same clusters; by district name too; a bigger minimum drops one
    assert post(api_server, CLUSTERS, d="鹿城区", at=NOW)["riskClusters"] == found
    assert [
        c["size"] for c in post(api_server, CLUSTERS, d="330302", min=4, at=NOW)["riskClusters"]
    ] == [4]
    assert [c["size"] for c in post(api_server, CLUSTERS, d="330303", at=NOW)["riskClusters"]] == [
        3
    ]
    assert post(api_server, CLUSTERS, d="330304", at=NOW)["riskClusters"] == []

    def err(**variables: Any) -> str | None:
        return errors_of(api_server.post(CLUSTERS, variables, key="regulator-key"))[0]

    assert err(d="999999") == "BAD_USER_INPUT"
    assert err(d="330302", min=1) == "BAD_USER_INPUT"
    assert (
        errors_of(api_server.post(CLUSTERS, {"d": "330302"}, key="approval-key"))[0] == "FORBIDDEN"
    )
