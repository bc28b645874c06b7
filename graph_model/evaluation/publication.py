"""Published red and black lists (信用公示) and a subject's public credit summary.

What is published: entries that apply now (recognised, not lifted at or before now, not
expired, started), whose status is ACTIVE, of list types the catalogue marks
`published` (`rules.scoring.publication`, which also masks persons). An entry under
objection is withheld until the objection is resolved: the contract shows only ACTIVE
entries, and publication is suspended while an entry is disputed (checks still apply it).

Pages are keyset pages over (decidedOn desc, sanction id asc): the caller passes the last
entry's key back (`api.arguments` makes it an opaque cursor), so following pages yields
every entry exactly once however entries are added or removed elsewhere in the list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from domain.time import city_date
from domain.vocabulary import Label, SystemRel
from graph_model.driver import Graph
from graph_model.registry import SUBJECT_FIELDS
from graph_model.sanctions_read import applies_at
from graph_model.values import native
from rules.models import Catalogue
from rules.scoring.publication import PublishedEntry, published_entry, published_list_types

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
