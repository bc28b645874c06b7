"""The facts of a person's integrity score, in one query; `rules.scoring.integrity` scores
them: the person, their own entries and those naming them as responsible, their
household registrations, and their links to the units they lead with those units' entries.
"""

from __future__ import annotations

import functools
from typing import Any

from domain.vocabulary import Label, Rel, SystemRel
from graph_model.driver import Graph
from graph_model.registry import SUBJECT_FIELDS
from graph_model.sanctions_read import SANCTION_FIELDS
from graph_model.values import native
from rules.evaluation import EvaluationConfig
from rules.scoring.integrity import Link, PersonFacts


@functools.cache
def person_facts_query(lead_relations: tuple[Rel, ...]) -> str:
    relations = "|".join(r.value for r in lead_relations)
    sanction = SANCTION_FIELDS.format(s="x")
    return (
        f"MATCH (s:{Label.PERSON.value} {{id: $id}}) "
        f"RETURN {SUBJECT_FIELDS} AS person, "
        f"COLLECT {{ MATCH (x:{Label.SANCTION.value} {{subjectId: s.id}}) "
        f"RETURN {sanction} }} AS own, "
        f"COLLECT {{ MATCH (x:{Label.SANCTION.value})-[:{SystemRel.RESPONSIBLE_PERSON.value}]->(s) "
        f"WHERE x.subjectId <> s.id RETURN {sanction} }} AS named, "
        f"COLLECT {{ MATCH (s)-[r:{Rel.MEMBER_OF.value}]->(h:{Label.HOUSEHOLD.value}) "
        "RETURN {target: {id: h.id}, relation: type(r), role: r.role, validFrom: r.validFrom, "
        "validTo: r.validTo} } AS households, "
        f"COLLECT {{ MATCH (s)-[r:{relations}]->(u:{Label.SUBJECT.value}) "
        "RETURN {target: u {.id, .kind, .name}, relation: type(r), role: r.role, "
        "validFrom: r.validFrom, validTo: r.validTo, "
        f"sanctions: COLLECT {{ MATCH (x:{Label.SANCTION.value} {{subjectId: u.id}}) "
        f"RETURN {sanction} }}}} }} AS led"
    )


async def person_facts(
    graph: Graph, person_id: str, config: EvaluationConfig
) -> PersonFacts | None:
    """What the score needs, in one query; None when no such person is stored."""
    query = person_facts_query(config.integrity.lead_relations)
    rows = await graph.read(query, {"id": person_id}, name="integrityScore")
    return _facts(rows[0]) if rows else None


def _link(row: dict[str, Any]) -> Link:
    return Link(
        target=dict(row["target"]),
        relation=row["relation"],
        role=row.get("role"),
        valid_from=row["validFrom"],
        valid_to=row.get("validTo"),
        sanctions=tuple(row.get("sanctions") or ()),
    )


def _facts(row: dict[str, Any]) -> PersonFacts:
    row = native(row)
    return PersonFacts(
        person=dict(row["person"]),
        own=tuple(row["own"]),
        named=tuple(row["named"]),
        households=tuple(_link(h) for h in row["households"]),
        led=tuple(_link(u) for u in row["led"]),
    )
