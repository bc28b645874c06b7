"""The records the generator yields: plain dicts whose keys are the graph's property names.

Plain dicts (not dataclasses) because they go straight into `$rows` parameters or CSV
writers, and at city scale the per-row cost of building anything richer shows.
"""

from __future__ import annotations

import datetime as dt
from typing import NotRequired, TypedDict


class SubjectRow(TypedDict):
    id: str
    kind: str
    name: str
    district: str
    # bare sha256 hex of the normalised contact; the writers key it (graph_model.contact_key)
    phoneHash: NotRequired[str]
    addressHash: NotRequired[str]
    birthDate: NotRequired[dt.date]  # persons
    industry: NotRequired[str]  # units
    registeredCapital: NotRequired[float]  # units, in 10,000 CNY
    establishedOn: NotRequired[dt.date]  # units
    status: NotRequired[str]  # units: ACTIVE or DEREGISTERED


class HouseholdRow(TypedDict):
    id: str
    district: str
    address: str


class LinkRow(TypedDict):
    """A relationship from `src` to `dst` (a subject id, or a household id for MEMBER_OF)."""

    id: str
    src: str
    dst: str
    validFrom: dt.date
    validTo: dt.date | None
    source: str
    ratio: NotRequired[float]  # SHAREHOLDER_OF
    role: NotRequired[str]  # EXECUTIVE_OF, MEMBER_OF


class SanctionRow(TypedDict):
    id: str
    listType: str
    kind: str
    decidedOn: dt.date
    validFrom: dt.date
    validTo: dt.date | None
    status: str
    liftKind: str | None
    liftedAt: dt.datetime | None
    jurisdiction: str
    recognized: bool
    documentNo: str
    reason: str
    issuerId: str
    issuerName: str  # for the Department node, not a sanction property
    subjectId: str
    responsiblePersonIds: list[str]  # RESPONSIBLE_PERSON edges, not a property
    createdAt: dt.datetime


class DepartmentRow(TypedDict):
    id: str
    name: str
