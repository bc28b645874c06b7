"""Suspected links: subjects that share a phone, an address or a household.

These are NOT registered relationships (`domain.scoring.suspicion`). Nothing is written
to the graph; they are found on request from the hashed contacts (`phoneHash`,
`addressHash`) and from MEMBER_OF links to one household valid on the asked day, and no
check, impact preview or role pattern ever reads them. A regulator sees the other subject
and the basis of the suspicion, never the contact value (the hash stays in the database
too).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from domain.errors import NotFound
from domain.scoring.suspicion import SuspicionBasis, ordered_bases
from domain.vocabulary import Label, Rel
from graph_model.driver import Graph
from graph_model.risk.common import (
    applying_sanctions,
    punitive_exists,
    risk_params,
    subject_map,
    valid,
)
from graph_model.risk.config import DEFAULT_CONFIG, RiskConfig
from graph_model.values import native


def sharing_subquery(s: str, limit: str = "$suspectLimit") -> str:
    """CALL body: rows (o, basis, householdId) of subjects sharing a contact with `s`."""
    return (
        f"  MATCH (o:{Label.SUBJECT.value}) WHERE {s}.phoneHash IS NOT NULL"
        f" AND o.phoneHash = {s}.phoneHash AND o <> {s}\n"
        f"  WITH o LIMIT {limit}\n"
        f"  RETURN o, '{SuspicionBasis.SHARED_PHONE.value}' AS basis, null AS householdId\n"
        "  UNION ALL\n"
        f"  MATCH (o:{Label.SUBJECT.value}) WHERE {s}.addressHash IS NOT NULL"
        f" AND o.addressHash = {s}.addressHash AND o <> {s}\n"
        f"  WITH o LIMIT {limit}\n"
        f"  RETURN o, '{SuspicionBasis.SHARED_ADDRESS.value}' AS basis, null AS householdId\n"
        "  UNION ALL\n"
        f"  MATCH ({s})-[m1:{Rel.MEMBER_OF.value}]->(h:{Label.HOUSEHOLD.value})"
        f"<-[m2:{Rel.MEMBER_OF.value}]-(o:{Label.SUBJECT.value})\n"
        f"  WHERE {valid('m1')} AND {valid('m2')} AND o <> {s}\n"
        f"  WITH o, h LIMIT {limit}\n"
        f"  RETURN o, '{SuspicionBasis.SHARED_HOUSEHOLD.value}' AS basis, h.id AS householdId\n"
    )


SUSPECTED_LINKS = (
    f"MATCH (s:{Label.SUBJECT.value} {{id: $id}})\n"
    "CALL (s) {\n"
    "  CALL (s) {\n" + sharing_subquery("s") + "  }\n"
    "  WITH o, collect(DISTINCT basis) AS bases, collect(DISTINCT householdId) AS households\n"
    f"  WITH o, bases, households, {punitive_exists('o')} AS sanctioned\n"
    "  ORDER BY sanctioned DESC, o.id\n"
    "  WITH collect({o: o, bases: bases, households: households,"
    " sanctioned: sanctioned}) AS found\n"
    "  CALL (found) {\n"
    "    UNWIND found[..$first] AS f\n"
    "    WITH f, f.o AS o\n"
    "    RETURN collect({subject: " + subject_map("o") + ", bases: f.bases,"
    " households: f.households, sanctioned: f.sanctioned,"
    " sanctions: " + applying_sanctions("o") + "}) AS links\n"
    "  }\n"
    "  RETURN size(found) AS total, links\n"
    "}\n"
    "RETURN total, links"
)


@dataclass(frozen=True)
class SuspectedLinks:
    subject_id: str
    at: dt.datetime
    total: int
    links: list[dict[str, Any]]  # {subject, bases, households, sanctioned, sanctions}


async def suspected_links(
    graph: Graph,
    subject_id: str,
    at: dt.datetime,
    *,
    first: int,
    config: RiskConfig = DEFAULT_CONFIG,
) -> SuspectedLinks:
    params = {**risk_params(at, config), "id": subject_id, "first": first}
    rows = await graph.read(SUSPECTED_LINKS, params, name="suspectedLinks")
    if not rows:
        raise NotFound(f"subjectId: no subject {subject_id}", field="subjectId")
    row = native(rows[0])
    links = []
    for link in row["links"]:
        link["bases"] = ordered_bases(link["bases"])
        link["households"] = sorted(h for h in link["households"] if h is not None)
        links.append(link)
    return SuspectedLinks(subject_id, at, row["total"], links)
