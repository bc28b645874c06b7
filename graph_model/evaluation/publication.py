"""Published red and black lists (信用公示) and a subject's public credit summary.

What is published: entries that apply now (recognised, not lifted at or before now, not
expired, started), whose status is ACTIVE, of list types the catalogue marks
`published`. An entry under objection is withheld until the objection is resolved: the
contract shows only ACTIVE entries, and publication is suspended while an entry is
disputed (checks still apply it). The same data is published to every caller: persons'
ids keep their first 6 and last 4 characters and their names their first character;
everything else is masked.

Pages are keyset pages over (decidedOn desc, sanction id asc): a cursor is the last
entry's key, opaque to callers, so following cursors yields every entry exactly once
however entries are added or removed elsewhere in the list.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from graph_model.driver import Graph
from graph_model.errors import BadUserInput
from graph_model.identifiers import SubjectKind, mask_resident_id
from graph_model.labels import Label, SystemRel
from graph_model.registry import SUBJECT_FIELDS
from graph_model.sanctions_read import applies_at
from graph_model.values import city_date, native
from rules.models import Catalogue

CURSOR_VERSION = "p1"

PUBLISHED_WHERE = "x.status = 'ACTIVE' AND x.listType IN $listTypes AND " + applies_at("x")
ENTRY_FIELDS = "x {.id, .listType, .kind, .decidedOn, .validTo, .issuerId}"
PUBLIC_SUBJECT_FIELDS = "s {.id, .kind, .name, .district}"

PUBLISHED_PAGE = (
    f"MATCH (x:{Label.SANCTION.value})-[:{SystemRel.AGAINST.value}]->(s:{Label.SUBJECT.value}) "
    f"WHERE x.kind = $kind AND {PUBLISHED_WHERE} "
    "AND ($district IS NULL OR s.district = $district) "
    "AND ($afterDay IS NULL OR x.decidedOn < $afterDay "
    "OR (x.decidedOn = $afterDay AND x.id > $afterId)) "
    f"RETURN {ENTRY_FIELDS} AS entry, {PUBLIC_SUBJECT_FIELDS} AS subject "
    "ORDER BY x.decidedOn DESC, x.id ASC LIMIT $limit"
)

SUBJECT_SUMMARY = (
    f"MATCH (s:{Label.SUBJECT.value} {{id: $id}}) "
    f"RETURN {SUBJECT_FIELDS} AS subject, "
    f"COLLECT {{ MATCH (x:{Label.SANCTION.value})-[:{SystemRel.AGAINST.value}]->(s) "
    f"WHERE {PUBLISHED_WHERE} RETURN {ENTRY_FIELDS} }} AS entries"
)


def mask_name(name: str) -> str:
    """A private person's name with only the first character shown: 王** for 王小明
    (a one-character name is masked whole)."""
    text = name.strip()
    if len(text) <= 1:
        return "*" * len(text)
    return text[0] + "*" * (len(text) - 1)


@dataclass(frozen=True)
class PublishedEntry:
    sanction_id: str
    list_type: str
    kind: str
    subject_kind: SubjectKind
    subject_id: str  # masked for persons
    subject_name: str  # masked for persons
    district: str | None
    issuer_id: str
    issuer: str
    decided_on: dt.date
    valid_to: dt.date | None

    @property
    def cursor(self) -> str:
        return encode_cursor(self.decided_on, self.sanction_id)


def published_entry(
    entry: dict[str, Any], subject: dict[str, Any], catalogue: Catalogue
) -> PublishedEntry:
    """One entry as published: a person's id and name masked."""
    kind = SubjectKind(subject["kind"])
    person = kind is SubjectKind.PERSON
    department = catalogue.departments.get(entry["issuerId"])
    return PublishedEntry(
        sanction_id=entry["id"],
        list_type=entry["listType"],
        kind=entry["kind"],
        subject_kind=kind,
        subject_id=mask_resident_id(subject["id"]) if person else subject["id"],
        subject_name=mask_name(subject.get("name") or "") if person else subject.get("name") or "",
        district=subject.get("district"),
        issuer_id=entry["issuerId"],
        issuer=department.name if department else entry["issuerId"],
        decided_on=entry["decidedOn"],
        valid_to=entry.get("validTo"),
    )


def encode_cursor(decided_on: dt.date, sanction_id: str) -> str:
    raw = f"{CURSOR_VERSION}|{decided_on.isoformat()}|{sanction_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, field: str = "after") -> tuple[dt.date, str]:
    """The (decidedOn, sanctionId) a cursor stands for; BAD_USER_INPUT for anything else."""
    problem = BadUserInput(f"{field}: not a cursor of this list", field=field)
    text = cursor.strip()
    if not text or len(text) > 400:
        raise problem
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        version, day, sanction_id = raw.split("|", 2)
        decided_on = dt.date.fromisoformat(day)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise problem from None
    if version != CURSOR_VERSION or not sanction_id:
        raise problem
    return decided_on, sanction_id


def published_list_types(catalogue: Catalogue, kind: str | None = None) -> list[str]:
    return [
        lt.id
        for lt in catalogue.list_types.values()
        if lt.published and (kind is None or lt.kind.value == kind)
    ]


@dataclass(frozen=True)
class Page:
    entries: list[PublishedEntry]
    has_next: bool


async def published_page(
    graph: Graph,
    catalogue: Catalogue,
    *,
    kind: str,
    list_types: Sequence[str],
    district: str | None,
    first: int,
    after: tuple[dt.date, str] | None,
    now: dt.datetime,
) -> Page:
    """One page of the published list; one more row than asked tells if another follows."""
    params = {
        "kind": kind,
        "listTypes": list(list_types),
        "district": district,
        "afterDay": after[0] if after else None,
        "afterId": after[1] if after else None,
        "limit": first + 1,
        "at": now,
        "day": city_date(now),
    }
    rows = await graph.read(PUBLISHED_PAGE, params, name="publishedList")
    entries = [published_entry(native(r["entry"]), r["subject"], catalogue) for r in rows]
    return Page(entries[:first], len(entries) > first)


@dataclass(frozen=True)
class Summary:
    subject: dict[str, Any]
    entries: list[PublishedEntry]

    def count(self, kind: str) -> int:
        return sum(1 for e in self.entries if e.kind == kind)


async def subject_summary(
    graph: Graph, catalogue: Catalogue, subject_id: str, now: dt.datetime
) -> Summary | None:
    """A subject with its published entries (newest first); None when not stored."""
    params = {
        "id": subject_id,
        "listTypes": published_list_types(catalogue),
        "at": now,
        "day": city_date(now),
    }
    rows = await graph.read(SUBJECT_SUMMARY, params, name="publicCreditSummary")
    if not rows:
        return None
    subject = native(rows[0]["subject"])
    entries = [published_entry(native(e), subject, catalogue) for e in rows[0]["entries"]]
    entries.sort(key=lambda e: e.sanction_id)
    entries.sort(key=lambda e: e.decided_on, reverse=True)
    return Summary(subject, entries)
