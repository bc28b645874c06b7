"""integrityScore and integrityBenefits: dimensions from the graph, bands, benefits, partners."""

from __future__ import annotations

from typing import Any

from tests.conftest import ApiServer
from tests.integration.helpers import (
    enterprise_id,
    error_code,
    household,
    id_error,
    link,
    person_id,
    register,
)
from tests.integration.scenario import LIFT, build_shoe_world, impose

SCORE = """
query($id: ID!) {
  integrityScore(personId: $id) {
    personId score band bandLabel
    dimensions { name label score max detail factors { code weight detail } }
  }
}"""
BENEFITS = """
query($id: ID!) {
  integrityBenefits(personId: $id) {
    personId score band bandLabel
    benefits { id name provider minScore qualified gap }
    partnerCities { jurisdiction name recognizedBands recognized }
  }
}"""


def score(api: ApiServer, pid: str, key: str = "approval-key") -> dict[str, Any]:
    body = api.post(SCORE, {"id": pid}, key=key)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["integrityScore"]
    assert result["score"] == sum(d["score"] for d in result["dimensions"])
    for d in result["dimensions"]:
        assert 0 <= d["score"] <= d["max"]
    return result


def dims(result: dict[str, Any]) -> dict[str, int]:
    return {d["name"]: d["score"] for d in result["dimensions"]}


def factor_codes(result: dict[str, Any], name: str) -> list[str]:
    return [f["code"] for d in result["dimensions"] if d["name"] == name for f in d["factors"]]


def resident(api: ApiServer, name: str = "王小明", household_id: str | None = None) -> str:
    pid = person_id()
    register(api, pid, "PERSON", name)
    if household_id:
        household(api, household_id)
        link(api, pid, household_id, "MEMBER_OF", "2010-01-01", role="HEAD")
    return pid


async def test_a_plain_resident_and_a_settled_one(api_server: ApiServer) -> None:
    plain = score(api_server, resident(api_server))
    assert dims(plain) == {
        "IDENTITY": 120, "LAW_ABIDING": 300, "COMMERCIAL_CREDIT": 100, "DAILY_LIFE": 90,
        "SOCIAL_CONTRIBUTION": 20,
    }  # fmt: skip
    assert plain["score"] == 630 and plain["band"] == "GOOD" and plain["bandLabel"] == "良好"
    assert [d["label"] for d in plain["dimensions"]] == [
        "身份特质",
        "遵纪守法",
        "商业信用",
        "生活信用",
        "社会贡献",
    ]
    assert sum(d["max"] for d in plain["dimensions"]) == 1000

    settled = score(api_server, resident(api_server, household_id="3303020200001"))
    assert settled["score"] == 720 and settled["band"] == "EXCELLENT"
    assert "HOUSEHOLD" in factor_codes(settled, "IDENTITY")
    assert "HOUSEHOLD_TENURE" in factor_codes(settled, "DAILY_LIFE")


async def test_benefits_follow_the_bands_with_gaps_and_partner_cities(
    api_server: ApiServer,
) -> None:
    pid = resident(api_server)
    body = api_server.post(BENEFITS, {"id": pid}, key="approval-key")
    assert "errors" not in body, body
    result = body["data"]["integrityBenefits"]
    assert result["score"] == 630 and result["band"] == "GOOD"
    by_id = {b["id"]: b for b in result["benefits"]}
    assert by_id["BANK_GREEN_CHANNEL"] == {
        **by_id["BANK_GREEN_CHANNEL"],
        "minScore": 600,
        "qualified": True,
        "gap": 0,
    }
    assert (
        by_id["LIBRARY_DEPOSIT_FREE"]["qualified"] is False
        and by_id["LIBRARY_DEPOSIT_FREE"]["gap"] == 20
    )
    assert by_id["PARKING_LEAVE_FIRST_PAY_LATER"]["minScore"] == 650
    assert (
        by_id["SCENIC_SPOTS_HALF_PRICE"]["minScore"] == 700
        and by_id["SCENIC_SPOTS_HALF_PRICE"]["gap"] == 70
    )
    assert (
        by_id["SCENIC_SPOTS_FREE"]["minScore"] == 750 and by_id["SCENIC_SPOTS_FREE"]["gap"] == 120
    )
    assert [b["minScore"] for b in result["benefits"]] == sorted(
        b["minScore"] for b in result["benefits"]
    )
    partners = {p["jurisdiction"]: p["recognized"] for p in result["partnerCities"]}
    assert partners == {"jiaxing": True, "jinhua": False, "huzhou": False}


async def test_leading_a_red_listed_unit_is_outstanding(api_server: ApiServer) -> None:
    pid = resident(api_server, household_id="3303020200002")
    uid = enterprise_id()
    register(api_server, uid, "ENTERPRISE", "温州市瓯海区诚信眼镜有限公司")
    link(api_server, pid, uid, "LEGAL_REPRESENTATIVE_OF", "2019-01-01")
    impose(api_server, subjectId=uid, listType="TAX_A_LEVEL", decidedOn="2026-06-01")
    impose(api_server, subjectId=uid, listType="CREDIT_MODEL_UNIT", decidedOn="2026-06-01")
    result = score(api_server, pid)
    assert dims(result)["COMMERCIAL_CREDIT"] == 130 and dims(result)["SOCIAL_CONTRIBUTION"] == 100
    assert (
        result["score"] == 830 and result["band"] == "OUTSTANDING" and result["bandLabel"] == "极好"
    )
    benefits = api_server.post(BENEFITS, {"id": pid}, key="approval-key")["data"][
        "integrityBenefits"
    ]
    assert all(b["qualified"] for b in benefits["benefits"])
    assert all(p["recognized"] for p in benefits["partnerCities"])


async def test_sanctions_reach_the_score_as_they_reach_checks(api_server: ApiServer) -> None:
    w = build_shoe_world(api_server)
    impose(api_server, subjectId=w.company, decidedOn="2025-01-10")
    # legal representative when it was decided (left since): law-abiding, not commercial
    rep = score(api_server, w.legal_rep)
    assert dims(rep)["LAW_ABIDING"] == 200 and dims(rep)["COMMERCIAL_CREDIT"] == 100
    assert rep["score"] == 620 and "LED_UNIT_BLACK_LIST" in factor_codes(rep, "LAW_ABIDING")
    # took over after the decision: leads a C unit now, not responsible for the entry
    later = score(api_server, w.later_rep)
    assert dims(later)["LAW_ABIDING"] == 300 and dims(later)["COMMERCIAL_CREDIT"] == 70
    assert later["score"] == 600 and later["band"] == "GOOD"
    chair = score(api_server, w.chair)
    assert chair["score"] == 500 and chair["band"] == "NEEDS_IMPROVEMENT"
    # a director is not among the leaders the score counts
    assert score(api_server, w.director)["score"] == 630


async def test_own_entries_lower_the_score_and_repair_raises_it(api_server: ApiServer) -> None:
    pid = resident(api_server, household_id="3303020200003")
    sanction = impose(api_server, subjectId=pid, decidedOn="2025-01-10")
    listed = score(api_server, pid)
    assert dims(listed)["LAW_ABIDING"] == 50
    assert (
        listed["score"] == 470
        and listed["band"] == "NEEDS_IMPROVEMENT"
        and listed["bandLabel"] == "待提升"
    )
    law = next(d for d in listed["dimensions"] if d["name"] == "LAW_ABIDING")
    assert sanction["id"] in law["detail"]
    benefits = api_server.post(BENEFITS, {"id": pid}, key="approval-key")["data"][
        "integrityBenefits"
    ]
    assert not any(b["qualified"] for b in benefits["benefits"])
    assert not any(p["recognized"] for p in benefits["partnerCities"])

    body = api_server.post(
        LIFT,
        {"input": {"sanctionId": sanction["id"], "kind": "REPAIRED", "reason": "已履行"}},
        key="court-key",
    )
    assert "errors" not in body, body
    repaired = score(api_server, pid)
    assert (
        dims(repaired)["LAW_ABIDING"] == 190
        and repaired["score"] == 610
        and repaired["band"] == "GOOD"
    )
    assert "REPAIRED_HISTORY" in factor_codes(repaired, "LAW_ABIDING")


async def test_named_responsible_and_watch_lists(api_server: ApiServer) -> None:
    pid = resident(api_server, household_id="3303020200004")
    uid = enterprise_id()
    register(api_server, uid, "ENTERPRISE", "温州市龙湾区某建设有限公司")
    impose(api_server, subjectId=uid, responsiblePersonIds=[pid])
    named = score(api_server, pid)
    assert dims(named)["LAW_ABIDING"] == 150 and "NAMED_RESPONSIBLE" in factor_codes(
        named, "LAW_ABIDING"
    )

    other = resident(api_server, household_id="3303020200005")
    impose(api_server, subjectId=other, listType="TAX_ARREARS_WATCH")
    watched = score(api_server, other)
    assert dims(watched)["DAILY_LIFE"] == 90 and dims(watched)["LAW_ABIDING"] == 250
    assert watched["score"] == 610


async def test_bad_input_and_roles(api_server: ApiServer) -> None:
    pid = resident(api_server)
    uid = enterprise_id()
    register(api_server, uid, "ENTERPRISE", "温州市鹿城区某公司")
    for query in (SCORE, BENEFITS):
        body = api_server.post(query, {"id": uid}, key="approval-key")
        assert (
            error_code(body) == "BAD_USER_INPUT"
            and body["errors"][0]["extensions"]["field"] == "personId"
        )
        assert id_error(api_server, query, "330302197505170000", "approval-key") == "INVALID_ID"
        assert id_error(api_server, query, person_id(), "approval-key") == "NOT_FOUND"
        assert id_error(api_server, query, pid) == "UNAUTHENTICATED"
        for key in ("approval-key", "court-key", "regulator-key", "admin-key"):
            assert "errors" not in api_server.post(query, {"id": pid}, key=key)
