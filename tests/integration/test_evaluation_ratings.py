"""creditRating and creditRatingHistory: grades move as sanctions are imposed and lifted."""

from __future__ import annotations

from typing import Any

from tests.conftest import ApiServer
from tests.integration.helpers import enterprise_id, error_code, id_error, link, person_id, register
from tests.integration.scenario import JINHUA_TAX, LIFT, build_shoe_world, impose

RATING = """
query($id: ID!, $at: DateTime) {
  creditRating(subjectId: $id, at: $at) { subjectId grade score at factors { code weight detail } }
}"""
HISTORY = """
query($id: ID!, $from: Date!, $to: Date, $step: RatingStep) {
  creditRatingHistory(subjectId: $id, from: $from, to: $to, step: $step) { on grade score }
}"""
OBJECT = 'mutation($id: ID!) { fileObjection(sanctionId: $id, reason: "不服") { id status } }'


def rating(
    api: ApiServer, subject: str, at: str | None = None, key: str = "regulator-key"
) -> dict[str, Any]:
    body = api.post(RATING, {"id": subject, "at": at}, key=key)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["creditRating"]
    assert sum(f["weight"] for f in result["factors"]) == result["score"]
    return result


def codes(result: dict[str, Any]) -> list[str]:
    return [f["code"] for f in result["factors"]]


def lift(
    api: ApiServer,
    sanction_id: str,
    kind: str = "REPAIRED",
    at: str | None = None,
    key: str = "court-key",
) -> None:
    payload = {"sanctionId": sanction_id, "kind": kind, "reason": "已履行", "effectiveAt": at}
    body = api.post(LIFT, {"input": payload}, key=key)
    assert "errors" not in body, body


def company(api: ApiServer, name: str = "温州市鹿城区测试鞋业有限公司") -> str:
    uid = enterprise_id()
    register(api, uid, "ENTERPRISE", name)
    return uid


async def test_a_clean_unit_is_graded_a_from_its_base(api_server: ApiServer) -> None:
    uid = company(api_server)
    result = rating(api_server, uid)
    assert result == {**result, "subjectId": uid, "grade": "A", "score": 100.0}
    assert codes(result) == ["BASE"]


async def test_a_black_list_entry_lowers_the_grade_and_repair_restores_it_in_steps(
    api_server: ApiServer,
) -> None:
    w = build_shoe_world(api_server)
    sanction = impose(api_server, subjectId=w.company, decidedOn="2025-01-10")
    now = rating(api_server, w.company)
    assert now["grade"] == "C" and now["score"] == 70.0
    black = next(f for f in now["factors"] if f["code"] == "BLACK_LIST")
    assert black["weight"] == -30.0
    assert sanction["id"] in black["detail"] and "DISHONEST_JUDGMENT_DEBTOR" in black["detail"]
    assert "失信被执行人" in black["detail"]
    # before the decision the unit was clean
    assert rating(api_server, w.company, "2025-01-09T12:00:00+08:00")["grade"] == "A"

    lift(api_server, sanction["id"], at="2026-03-01T09:00:00+08:00")
    repaired = rating(api_server, w.company)
    assert repaired["grade"] == "B" and repaired["score"] == 85.0  # repaired history counts
    history = next(f for f in repaired["factors"] if f["code"] == "REPAIRED_HISTORY")
    assert history["weight"] == -15.0 and sanction["id"] in history["detail"]
    # the lift takes effect at its time: earlier instants still see the entry
    assert rating(api_server, w.company, "2026-02-28T12:00:00+08:00")["grade"] == "C"
    # three years after the repair the history no longer counts
    assert rating(api_server, w.company, "2029-03-02T12:00:00+08:00")["grade"] == "A"

    points = api_server.post(
        HISTORY,
        {"id": w.company, "from": "2024-11-10", "to": "2026-04-10", "step": "QUARTER"},
        key="regulator-key",
    )
    assert "errors" not in points, points
    grades = {p["on"]: p["grade"] for p in points["data"]["creditRatingHistory"]}
    assert grades == {
        "2024-11-10": "A", "2025-02-10": "C", "2025-05-10": "C", "2025-08-10": "C",
        "2025-11-10": "C", "2026-02-10": "C", "2026-04-10": "B",
    }  # fmt: skip


async def test_revocation_leaves_no_history_and_objection_still_counts(
    api_server: ApiServer,
) -> None:
    uid = company(api_server)
    first = impose(api_server, subjectId=uid)
    body = api_server.post(OBJECT, {"id": first["id"]}, key="court-key")
    assert body["data"]["fileObjection"]["status"] == "UNDER_OBJECTION"
    disputed = rating(api_server, uid)
    assert disputed["grade"] == "C"
    assert (
        "under objection"
        in next(f for f in disputed["factors"] if f["code"] == "BLACK_LIST")["detail"]
    )
    lift(api_server, first["id"], kind="REVOKED")
    assert codes(rating(api_server, uid)) == ["BASE"]


async def test_two_black_lists_grade_d_and_watch_lists_deduct(api_server: ApiServer) -> None:
    uid = company(api_server)
    impose(api_server, subjectId=uid)
    impose(api_server, subjectId=uid, listType="SAMR_SERIOUS_ILLEGAL")
    result = rating(api_server, uid)
    assert result["grade"] == "D" and result["score"] == 30.0

    other = company(api_server)
    impose(api_server, subjectId=other, listType="SAMR_ABNORMAL_OPERATION")
    watched = rating(api_server, other)
    assert watched["score"] == 90.0 and watched["grade"] == "A" and "WATCH_LIST" in codes(watched)


async def test_red_lists_add_up_to_their_cap(api_server: ApiServer) -> None:
    uid = company(api_server)
    impose(
        api_server,
        subjectId=uid,
        listType="TAX_A_LEVEL",
        documentNo="A级2025",
        decidedOn="2026-06-01",
    )
    assert rating(api_server, uid)["score"] == 105.0
    impose(api_server, subjectId=uid, listType="CREDIT_MODEL_UNIT", documentNo="示范2025")
    capped = rating(api_server, uid)
    assert capped["score"] == 110.0 and capped["grade"] == "A"
    assert codes(capped) == ["BASE", "RED_LIST", "RED_LIST", "RED_LIST_CAP"]
    cap = next(f for f in capped["factors"] if f["code"] == "RED_LIST_CAP")
    assert cap["weight"] == -3.0


async def test_leaders_on_a_black_list_and_unrecognised_entries(api_server: ApiServer) -> None:
    uid = company(api_server)
    rep = person_id()
    register(api_server, rep, "PERSON", "陈建国")
    link(api_server, rep, uid, "LEGAL_REPRESENTATIVE_OF", "2019-01-01")
    impose(api_server, subjectId=rep)
    result = rating(api_server, uid)
    leader = next(f for f in result["factors"] if f["code"] == "LEADER_BLACK_LIST")
    assert leader["weight"] == -10.0 and result["score"] == 90.0
    assert rep not in leader["detail"] and rep[:6] + "********" + rep[-4:] in leader["detail"]

    other = company(api_server)
    # jinhua's major tax violation list is not recognised here: stored, not counted
    impose(api_server, subjectId=other, **JINHUA_TAX)
    assert rating(api_server, other)["grade"] == "A"


async def test_bad_input_and_roles(api_server: ApiServer) -> None:
    uid = company(api_server)
    pid = person_id()
    register(api_server, pid, "PERSON", "王小明")
    body = api_server.post(RATING, {"id": pid}, key="regulator-key")
    assert error_code(body) == "BAD_USER_INPUT"
    assert (
        body["errors"][0]["extensions"]["field"] == "subjectId"
        and pid not in body["errors"][0]["message"]
    )
    assert id_error(api_server, RATING, "91330302MA0000000X", "regulator-key") == "INVALID_ID"
    assert id_error(api_server, RATING, enterprise_id(), "regulator-key") == "NOT_FOUND"
    assert id_error(api_server, RATING, uid) == "UNAUTHENTICATED"
    assert id_error(api_server, RATING, uid, "approval-key") == "FORBIDDEN"
    assert "errors" not in api_server.post(RATING, {"id": uid}, key="admin-key")
    for variables in (
        {"id": uid, "from": "2026-01-01", "to": "2025-01-01"},
        {"id": uid, "from": "2025-01-01", "to": "2099-01-01"},
        {"id": uid, "from": "2000-01-01", "step": "DAY"},
    ):
        body = api_server.post(HISTORY, variables, key="regulator-key")
        assert error_code(body) == "BAD_USER_INPUT", body
