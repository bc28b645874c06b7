"""The facts of units' credit ratings: a unit, its sanctions, and the persons leading it
with their black-list entries, in one query; `rules.scoring.ratings` rates them.

`facts_return` is shared with the inspection draw's frame, which rates every unit it reads.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from domain.vocabulary import Label, Rel
from graph_model.driver import Graph
from graph_model.registry import SUBJECT_FIELDS
from graph_model.sanctions_read import SANCTION_FIELDS
from graph_model.values import native
from rules.evaluation import RatingConfig
from rules.scoring.ratings import LeaderLink, UnitFacts

# a record `v` known at $knownAt (null: everything)
KNOWN_AT = "($knownAt IS NULL OR {v}.createdAt IS NULL OR {v}.createdAt <= $knownAt)"


def facts_return(leader_relations: Sequence[Rel]) -> str:
    """RETURN items giving a unit `s` (`subject`), its sanctions and its leaders' black-list
    entries: the row `unit_facts_of` reads.

    `$knownAt` (null: everything) leaves out records created after it, so a recorded
    draw can be recomputed from what was known when it was made.
    """
    relations = "|".join(r.value for r in leader_relations)
    return (
        f"{SUBJECT_FIELDS} AS subject, "
        f"COLLECT {{ MATCH (x:{Label.SANCTION.value} {{subjectId: s.id}}) "
        f"WHERE {KNOWN_AT.format(v='x')} RETURN {SANCTION_FIELDS.format(s='x')} }} AS sanctions, "
        f"COLLECT {{ MATCH (p:{Label.PERSON.value})-[r:{relations}]->(s) "
        f"WHERE {KNOWN_AT.format(v='r')} "
        "RETURN {personId: p.id, relation: type(r), validFrom: r.validFrom, validTo: r.validTo, "
        f"sanctions: COLLECT {{ MATCH (y:{Label.SANCTION.value} {{subjectId: p.id}}) "
        f"WHERE y.kind = 'BLACK' AND {KNOWN_AT.format(v='y')} "
        f"RETURN {SANCTION_FIELDS.format(s='y')} }}}} }} AS leaders"
    )


@functools.cache
def unit_facts_query(leader_relations: tuple[Rel, ...]) -> str:
    return (
        f"UNWIND $ids AS id MATCH (s:{Label.SUBJECT.value} {{id: id}}) "
        f"RETURN {facts_return(leader_relations)}"
    )


async def unit_facts(
    graph: Graph, subject_id: str, config: RatingConfig, *, name: str = "creditRating"
) -> UnitFacts | None:
    """The facts a rating needs, in one query; None when no such subject is stored."""
    query = unit_facts_query(config.leaders.relations)
    rows = await graph.read(query, {"ids": [subject_id], "knownAt": None}, name=name)
    return unit_facts_of(rows[0]) if rows else None


def unit_facts_of(row: dict[str, Any]) -> UnitFacts:
    """A row of `facts_return`'s items, as the facts a rating takes."""
    row = native(row)
    return UnitFacts(
        subject=dict(row["subject"]),
        sanctions=tuple(row["sanctions"]),
        leaders=tuple(
            LeaderLink(
                person_id=link["personId"],
                relation=link["relation"],
                valid_from=link["validFrom"],
                valid_to=link.get("validTo"),
                sanctions=tuple(link.get("sanctions") or ()),
            )
            for link in row["leaders"]
        ),
    )
