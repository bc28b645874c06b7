"""What the credit portals publish (信用公示), and how an entry is shown.

Published are the entries of list types the catalogue marks `published`; the same data
goes to every caller: persons' ids keep their first 6 and last 4 characters and their
names their first character. Which entries apply and are ACTIVE is the query's
(`graph_model.evaluation.publication`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from domain.identifiers import SubjectKind, mask_resident_id
from rules.models import Catalogue


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


def published_list_types(catalogue: Catalogue, kind: str | None = None) -> list[str]:
    return [
        lt.id
        for lt in catalogue.list_types.values()
        if lt.published and (kind is None or lt.kind.value == kind)
    ]
