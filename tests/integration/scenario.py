"""A small world every engine test can build: a shoe company, its people, their household."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.conftest import ApiServer
from tests.integration.helpers import (
    business_id,
    enterprise_id,
    household,
    link,
    person_id,
    register,
)

IMPOSE = """
mutation($input: SanctionInput!) {
  imposeSanction(input: $input) {
    id status recognized jurisdiction decidedOn validFrom validTo liftedAt documentNo reason
    listType { id kind } issuer { id } subject { id } responsiblePersonIds
  }
}"""
LIFT = """
mutation($input: LiftInput!) { liftSanction(input: $input) { id status liftedAt } }"""
# a check's whole result, as jointSanctionCheck and batchCheck both answer it
RESULT = """{
    checkId subjectId subjectKnown area at decision
    measures {
      measure { id effect legalBasis implementers { id } }
      role suppressed
      sanction { id status listType { id } subject { id } }
      path { from relation to validFrom validTo }
    }
  }"""
CHECK = f"""
query($id: ID!, $area: ApplicationArea!, $at: DateTime) {{
  jointSanctionCheck(subjectId: $id, area: $area, at: $at) {RESULT}
}}"""
BATCH = f"""
query($ids: [ID!]!, $area: ApplicationArea!, $at: DateTime) {{
  batchCheck(subjectIds: $ids, area: $area, at: $at) {RESULT}
}}"""


@dataclass
class ShoeWorld:
    company: str
    legal_rep: str
    chair: str
    director: str
    controller: str
    spouse: str
    child: str
    later_rep: str
    shop: str
    shop_operator: str
    household: str


def build_shoe_world(api: ApiServer) -> ShoeWorld:
    w = ShoeWorld(
        company=enterprise_id(),
        legal_rep=person_id(),
        chair=person_id(),
        director=person_id(),
        controller=person_id(),
        spouse=person_id(),
        child=person_id(),
        later_rep=person_id(),
        shop=business_id(),
        shop_operator=person_id(),
        household="3303020100001",
    )
    register(api, w.company, "ENTERPRISE", "温州市鹿城区瓯江鞋业有限公司")
    register(api, w.shop, "INDIVIDUAL_BUSINESS", "鹿城区陈记鞋店")
    for pid, name in (
        (w.legal_rep, "陈建国"),
        (w.chair, "林志强"),
        (w.director, "黄海"),
        (w.controller, "周立"),
        (w.spouse, "王丽"),
        (w.child, "陈小明"),
        (w.later_rep, "郑新"),
        (w.shop_operator, "吴强"),
    ):
        register(api, pid, "PERSON", name)
    household(api, w.household)
    link(api, w.legal_rep, w.company, "LEGAL_REPRESENTATIVE_OF", "2018-03-01", validTo="2025-06-01")
    link(api, w.later_rep, w.company, "LEGAL_REPRESENTATIVE_OF", "2025-06-01")
    link(api, w.chair, w.company, "EXECUTIVE_OF", "2019-01-01", role="CHAIR")
    link(api, w.director, w.company, "EXECUTIVE_OF", "2019-01-01", role="DIRECTOR")
    link(api, w.controller, w.company, "ACTUAL_CONTROLLER_OF", "2019-01-01")
    link(api, w.shop_operator, w.shop, "OPERATOR_OF", "2020-01-01")
    link(api, w.legal_rep, w.household, "MEMBER_OF", "2010-01-01", role="HEAD")
    link(api, w.spouse, w.household, "MEMBER_OF", "2010-01-01", role="SPOUSE")
    link(api, w.child, w.household, "MEMBER_OF", "2012-05-01", role="CHILD")
    return w


def impose(api: ApiServer, key: str = "court-key", **fields: Any) -> dict[str, Any]:
    payload = {
        "listType": "DISHONEST_JUDGMENT_DEBTOR",
        "issuerId": "wz-intermediate-court",
        "decidedOn": "2025-01-10",
        "documentNo": "(2025)浙03执123号",
        "reason": "有履行能力而拒不履行生效法律文书确定义务",
        **fields,
    }
    body = api.post(IMPOSE, {"input": payload}, key=key)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["imposeSanction"]
    return result


def check(
    api: ApiServer, subject: str, area: str, at: str | None = None, key: str = "approval-key"
) -> dict[str, Any]:
    body = api.post(CHECK, {"id": subject, "area": area, "at": at}, key=key)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["jointSanctionCheck"]
    return result


def roles_of(result: dict[str, Any], sanction_id: str | None = None) -> set[str]:
    return {
        m["role"]
        for m in result["measures"]
        if sanction_id is None or m["sanction"]["id"] == sanction_id
    }


def measure_ids(result: dict[str, Any]) -> set[str]:
    return {m["measure"]["id"] for m in result["measures"]}


__all__ = [
    "BATCH",
    "CHECK",
    "IMPOSE",
    "LIFT",
    "ShoeWorld",
    "build_shoe_world",
    "check",
    "impose",
    "measure_ids",
    "roles_of",
]
