"""Small worlds for the related-party risk tests.

They are written straight into Neo4j with the seeding path's bulk queries
(`graph_model.bulk`), which is what a loaded city looks like; registrations through the
API are used where the API's own writes matter (sanctions, lifts).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from domain.identifiers import SubjectKind
from domain.vocabulary import Rel
from graph_model import bulk
from graph_model.contact_key import KEY_FILE_NAME, load_key
from graph_model.driver import Graph
from tests.conftest import TEST_DATA
from tests.integration.helpers import business_id, enterprise_id, institution_id, person_id

_links = itertools.count(1)
_sanctions = itertools.count(1)

# the test data dir's key, as the API settings of the tests name that dir
CONTACT_KEY = load_key(TEST_DATA / KEY_FILE_NAME, create=True)
NOW = "2026-11-01T10:00:00+08:00"
NOW_DAY = dt.date(2026, 11, 1)

KIND_IDS = {
    "ENTERPRISE": enterprise_id,
    "INDIVIDUAL_BUSINESS": business_id,
    "PUBLIC_INSTITUTION": institution_id,
    "PERSON": person_id,
}


def subject(kind: str, name: str, district: str = "330302", **extra: Any) -> dict[str, Any]:
    return {"id": KIND_IDS[kind](), "kind": kind, "name": name, "district": district, **extra}


def link(
    src: str,
    dst: str,
    rel: Rel,
    valid_from: dt.date = dt.date(2020, 1, 1),
    valid_to: dt.date | None = None,
    **extra: Any,
) -> tuple[Rel, dict[str, Any]]:
    row = {
        "id": f"LT{next(_links):07d}",
        "src": src,
        "dst": dst,
        "validFrom": valid_from,
        "validTo": valid_to,
        "source": "test",
        **extra,
    }
    return rel, row


def sanction(
    subject_id: str,
    list_type: str = "DISHONEST_JUDGMENT_DEBTOR",
    kind: str = "BLACK",
    issuer: str = "wz-intermediate-court",
    valid_from: dt.date = dt.date(2025, 1, 10),
    valid_to: dt.date | None = None,
    lift_kind: str | None = None,
    lifted_at: dt.datetime | None = None,
) -> dict[str, Any]:
    return {
        "id": f"ST{next(_sanctions):07d}",
        "listType": list_type,
        "kind": kind,
        "decidedOn": valid_from,
        "validFrom": valid_from,
        "validTo": valid_to,
        "status": "ACTIVE",
        "liftKind": lift_kind,
        "liftedAt": lifted_at,
        "jurisdiction": "wenzhou",
        "recognized": True,
        "documentNo": "(2025)测试1号",
        "reason": "测试",
        "issuerId": issuer,
        "issuerName": issuer,
        "subjectId": subject_id,
        "responsiblePersonIds": [],
        "createdAt": dt.datetime(2025, 1, 10, tzinfo=dt.UTC),
    }


async def put(
    graph: Graph,
    subjects: Iterable[dict[str, Any]] = (),
    links: Iterable[tuple[Rel, dict[str, Any]]] = (),
    households: Iterable[dict[str, Any]] = (),
    sanctions: Iterable[dict[str, Any]] = (),
) -> None:
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in subjects:
        by_kind[row["kind"]].append(row)
    for kind, rows in by_kind.items():
        await bulk.write_subjects(
            graph.driver, graph.database, SubjectKind(kind), rows, contact_key=CONTACT_KEY
        )
    household_rows = list(households)
    if household_rows:
        await bulk.write_households(graph.driver, graph.database, household_rows)
    by_rel: dict[Rel, list[dict[str, Any]]] = defaultdict(list)
    for rel, row in links:
        by_rel[rel].append(row)
    for rel, rows in by_rel.items():
        assert await bulk.write_links(graph.driver, graph.database, rel, rows) == len(rows)
    sanction_rows = list(sanctions)
    if sanction_rows:
        await bulk.write_sanctions(graph.driver, graph.database, sanction_rows)


def errors_of(body: dict[str, Any]) -> tuple[str | None, str]:
    errors = body.get("errors") or []
    if not errors:
        return None, ""
    return errors[0]["extensions"]["code"], errors[0]["message"]
