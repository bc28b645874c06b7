"""Small builders for integration tests: valid ids and GraphQL snippets."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from graph_model.identifiers import make_resident_id, make_uscc
from tests.conftest import ApiServer

_serial = itertools.count(1)


def enterprise_id(district: str = "330302") -> str:
    return make_uscc("91", district, f"MA{next(_serial):06d}")


def business_id(district: str = "330302") -> str:
    return make_uscc("92", district, f"MA{next(_serial):06d}")


def institution_id(district: str = "330302") -> str:
    return make_uscc("12", district, f"MB{next(_serial):06d}")


def person_id(birth: dt.date = dt.date(1975, 5, 17), district: str = "330302") -> str:
    return make_resident_id(district, birth, next(_serial) % 1000)


REGISTER = """
mutation($input: SubjectInput!) {
  registerSubject(input: $input) { id kind name district }
}"""
HOUSEHOLD = """
mutation($input: HouseholdInput!) { registerHousehold(input: $input) { id district address } }"""
LINK = """
mutation($input: LinkInput!) {
  linkSubjects(input: $input) { id from to relation ratio role validFrom validTo }
}"""


def error_code(body: dict[str, Any]) -> str | None:
    errors = body.get("errors") or []
    return errors[0]["extensions"]["code"] if errors else None


def register(
    api: ApiServer, sid: str, kind: str, name: str, district: str | None = "330302"
) -> dict[str, Any]:
    body = api.post(
        REGISTER,
        {"input": {"id": sid, "kind": kind, "name": name, "district": district}},
        key="admin-key",
    )
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["registerSubject"]
    return result


def link(
    api: ApiServer, source: str, target: str, relation: str, valid_from: str, **extra: Any
) -> dict[str, Any]:
    payload = {"from": source, "to": target, "relation": relation, "validFrom": valid_from, **extra}
    body = api.post(LINK, {"input": payload}, key="admin-key")
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["linkSubjects"]
    return result


def household(api: ApiServer, hid: str, district: str = "330302") -> None:
    body = api.post(HOUSEHOLD, {"input": {"id": hid, "district": district}}, key="admin-key")
    assert "errors" not in body, body


def flush_check_records(api: ApiServer) -> None:
    """Return once the server has written every check record it holds: `linkageStats`
    flushes the recorder before it reads, where a sleep may be too short on a loaded box."""
    body = api.post(
        'query { linkageStats(from: "2020-01-01T00:00:00Z") { checks } }', key="regulator-key"
    )
    assert "errors" not in body, body
