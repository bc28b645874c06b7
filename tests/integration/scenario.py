"""A small world every engine test can build: a shoe company, its people, their household."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.conftest import TEST_KEYS, ApiServer
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


# Each list the tests impose on: its issuer, and the document and reason filed under it
# unless a test names others.
LISTS: dict[str, tuple[str, str, str]] = {
    "DISHONEST_JUDGMENT_DEBTOR": (
        "wz-intermediate-court",
        "(2025)浙03执123号",
        "有履行能力而拒不履行生效法律文书确定义务",
    ),
    "SAMR_SERIOUS_ILLEGAL": ("wz-amr", "温市监处〔2025〕1号", "严重违法"),
    "SAMR_ABNORMAL_OPERATION": ("wz-amr", "温市监异〔2025〕2号", "未按期公示年报"),
    "MAJOR_TAX_VIOLATION": ("wz-tax", "温税稽罚〔2025〕8号", "虚开增值税专用发票"),
    "TAX_A_LEVEL": ("wz-tax", "A级2026", "年度纳税信用A级"),
    "TAX_ARREARS_WATCH": ("wz-tax", "欠税2026", "逾期未缴税款"),
    "CUSTOMS_DISHONEST": ("wz-customs", "温关信〔2025〕1号", "海关失信"),
    "WAGE_ARREARS_DISHONEST": ("wz-hrss", "嘉人社〔2025〕3号", "拖欠农民工工资"),
    "CREDIT_MODEL_UNIT": ("wz-drc", "示范2026", "诚信示范企业"),
}
# a partner city's tax decision on a list Wenzhou does not recognise from there
JINHUA_TAX = {
    "listType": "MAJOR_TAX_VIOLATION",
    "jurisdiction": "jinhua",
    "documentNo": "金税〔2025〕3号",
    "reason": "虚开发票",
}
# the test key each issuing department acts with; ADMIN acts for those with none
ISSUER_KEYS = {dept: key for key, (role, dept) in TEST_KEYS.items() if role == "ISSUER"}


def impose(api: ApiServer, key: str | None = None, **fields: Any) -> dict[str, Any]:
    """A sanction on `fields["listType"]` (DISHONEST_JUDGMENT_DEBTOR unless given), filed
    by the list's issuer with that issuer's key unless `key` or `fields` name others."""
    list_type = fields.get("listType", "DISHONEST_JUDGMENT_DEBTOR")
    issuer, document, reason = LISTS[list_type]
    payload = {
        "listType": list_type,
        "issuerId": issuer,
        "decidedOn": "2025-01-10",
        "documentNo": document,
        "reason": reason,
        **fields,
    }
    key = key or ISSUER_KEYS.get(payload["issuerId"], "admin-key")
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
    "JINHUA_TAX",
    "LIFT",
    "ShoeWorld",
    "build_shoe_world",
    "check",
    "impose",
    "measure_ids",
    "roles_of",
]
