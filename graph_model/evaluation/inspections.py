"""Inspection draws in the graph: the frame of units with their rating facts, the
conflicts of interest between targets and the pool, the recorded draw and its replay.

The algorithm is `domain.scoring.inspections` (its docstring states it whole); the
parameters' rules and the grading are `rules.scoring.inspections`. Replaying a draw
recomputes it at its recorded instant from the records that existed then (subjects,
links and sanctions created later are left out) and compares.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from dataclasses import replace
from typing import Any

from domain.errors import BadUserInput, NotFound
from domain.scoring.inspections import (
    ALGORITHM,
    Conflict,
    Draw,
    DrawParams,
    Replay,
    choose_targets,
    differences,
    first_reasons,
    staff,
)
from domain.scoring.ratings import Grade
from domain.vocabulary import UNIT_KINDS, Label, Rel
from graph_model.driver import Graph
from graph_model.evaluation.ratings import KNOWN_AT, facts_return, unit_facts_of
from graph_model.registry import SUBJECT_FIELDS
from graph_model.values import native
from rules.evaluation import EvaluationConfig
from rules.models import Catalogue
from rules.scoring.inspections import grade_frame

_LINKS = "|".join(r.value for r in Rel if r is not Rel.MEMBER_OF)

# the query's column for each conflict reason
_COLUMNS = {"LINKED": "linked", "HOUSEHOLD": "household", "VIA_UNIT": "viaUnit"}

POOL_PERSONS = f"MATCH (p:{Label.PERSON.value}) WHERE p.id IN $ids RETURN p.id AS id"

CONFLICTS = (
    f"UNWIND $targets AS tid MATCH (t:{Label.SUBJECT.value} {{id: tid}}) "
    "RETURN tid AS target, "
    f"COLLECT {{ MATCH (t)-[r:{_LINKS}]-(p:{Label.PERSON.value}) "
    f"WHERE p.id IN $pool AND {KNOWN_AT.format(v='r')} RETURN DISTINCT p.id }} AS linked, "
    f"COLLECT {{ MATCH (t)-[r:{_LINKS}]-(m:{Label.PERSON.value})-[h1:{Rel.MEMBER_OF.value}]->"
    f"(:{Label.HOUSEHOLD.value})<-[h2:{Rel.MEMBER_OF.value}]-(p:{Label.PERSON.value}) "
    f"WHERE p.id IN $pool AND p <> m AND {KNOWN_AT.format(v='r')} AND {KNOWN_AT.format(v='h1')} "
    f"AND {KNOWN_AT.format(v='h2')} RETURN DISTINCT p.id }} AS household, "
    f"COLLECT {{ MATCH (t)-[r:{_LINKS}]-(u:{Label.SUBJECT.value})-[r2:{_LINKS}]-"
    f"(p:{Label.PERSON.value}) WHERE p.id IN $pool AND u <> t AND NOT u:{Label.PERSON.value} "
    f"AND {KNOWN_AT.format(v='r')} AND {KNOWN_AT.format(v='r2')} RETURN DISTINCT p.id }} AS viaUnit"
)

CREATE_DRAW = f"CREATE (d:{Label.INSPECTION_DRAW.value}) SET d = $props RETURN d.id AS id"

GET_DRAW = (
    f"MATCH (d:{Label.INSPECTION_DRAW.value} {{id: $id}}) "
    f"RETURN properties(d) AS draw, "
    f"COLLECT {{ MATCH (s:{Label.SUBJECT.value}) WHERE s.id IN d.targets "
    f"RETURN {SUBJECT_FIELDS} }} AS subjects"
)


@functools.cache
def frame_query(leader_relations: tuple[Rel, ...]) -> str:
    return (
        f"MATCH (s:{Label.SUBJECT.value}) WHERE s.kind IN $kinds "
        "AND ($district IS NULL OR s.district = $district) "
        "AND ($industry IS NULL OR s.industry = $industry) "
        "AND coalesce(s.status, 'ACTIVE') <> 'DEREGISTERED' "
        f"AND {KNOWN_AT.format(v='s')} "
        f"RETURN {facts_return(leader_relations)} "
        "ORDER BY s.id"
    )


async def check_pool(graph: Graph, params: DrawParams) -> None:
    """Every pool entry is a registered person (NOT_FOUND naming the first that is not)."""
    rows = await graph.read(POOL_PERSONS, {"ids": list(params.pool)}, name="drawInspections")
    found = {row["id"] for row in rows}
    for n, pid in enumerate(params.pool):
        if pid not in found:
            raise NotFound(
                f"input.inspectorPool[{n}]: no registered person {pid}",
                field=f"input.inspectorPool[{n}]",
            )


async def compute_draw(
    graph: Graph,
    config: EvaluationConfig,
    catalogue: Catalogue,
    params: DrawParams,
    at: dt.datetime,
    *,
    known_at: dt.datetime | None,
    name: str,
) -> Draw:
    """The draw for `params` at `at`; `known_at` leaves out records created after it."""
    frame_params = {
        "kinds": sorted(k.value for k in UNIT_KINDS),
        "district": params.district,
        "industry": params.industry,
        "knownAt": known_at,
    }
    query = frame_query(config.rating.leaders.relations)
    rows = await graph.read(query, frame_params, name=name)
    graded = grade_frame([unit_facts_of(row) for row in rows], at, config.rating, catalogue)
    chosen = choose_targets(graded, config.supervision.grade_weights, params)
    conflicts: list[Conflict] = []
    if chosen:
        found = await graph.read(
            CONFLICTS,
            {"targets": chosen, "pool": list(params.pool), "knownAt": known_at},
            name=name,
        )
        for row in found:
            by_reason = {reason: row[column] for reason, column in _COLUMNS.items()}
            conflicts += first_reasons(row["target"], by_reason)
    return staff(params, at, graded, chosen, conflicts)


async def record_draw(graph: Graph, draw: Draw, by: str) -> Draw:
    """Store the draw as an (:InspectionDraw); returns it with its id."""
    draw_id = f"D{uuid.uuid4().hex}"
    params = draw.params
    props = {
        "id": draw_id,
        "algorithm": ALGORITHM,
        "seed": params.seed,
        "district": params.district,
        "industry": params.industry,
        "count": params.count,
        "inspectorsPerTarget": params.per_target,
        "inspectorPool": list(params.pool),
        "targets": draw.target_ids,
        "targetGrades": [grade.value for _, grade in draw.targets],
        "inspectors": draw.flat_inspectors,
        "conflictTargets": [c.target for c in draw.conflicts],
        "conflictInspectors": [c.inspector for c in draw.conflicts],
        "conflictReasons": [c.reason for c in draw.conflicts],
        "candidateCount": draw.candidate_count,
        "frameDigest": draw.digest,
        "asOf": draw.at,
        "createdAt": draw.at,
        "createdBy": by,
    }
    await graph.write(CREATE_DRAW, {"props": props}, name="drawInspections")
    return replace(draw, id=draw_id, created_by=by)


def _draw_of(row: dict[str, Any]) -> Draw:
    stored = native(row["draw"])
    subjects = {s["id"]: dict(s) for s in native(row["subjects"])}
    per_target = int(stored["inspectorsPerTarget"])
    flat = list(stored["inspectors"])
    targets = [
        (subjects.get(tid) or {"id": tid, "kind": "ENTERPRISE", "name": ""}, Grade(grade))
        for tid, grade in zip(stored["targets"], stored["targetGrades"], strict=True)
    ]
    return Draw(
        params=DrawParams(
            district=stored.get("district"),
            industry=stored.get("industry"),
            count=int(stored["count"]),
            seed=stored["seed"],
            pool=tuple(stored["inspectorPool"]),
            per_target=per_target,
        ),
        at=stored["asOf"],
        targets=targets,
        inspectors=[flat[i : i + per_target] for i in range(0, len(flat), per_target)],
        conflicts=[
            Conflict(t, p, r)
            for t, p, r in zip(
                stored["conflictTargets"],
                stored["conflictInspectors"],
                stored["conflictReasons"],
                strict=True,
            )
        ],
        candidate_count=int(stored["candidateCount"]),
        digest=stored["frameDigest"],
        id=stored["id"],
        created_by=stored.get("createdBy"),
        algorithm=stored.get("algorithm") or ALGORITHM,
    )


async def get_draw(graph: Graph, draw_id: str, *, name: str = "inspectionDraw") -> Draw | None:
    rows = await graph.read(GET_DRAW, {"id": draw_id}, name=name)
    return _draw_of(rows[0]) if rows else None


async def replay_draw(
    graph: Graph, config: EvaluationConfig, catalogue: Catalogue, draw_id: str
) -> Replay:
    """Re-run a recorded draw from its seed and parameters and compare."""
    recorded = await get_draw(graph, draw_id, name="replayInspectionDraw")
    if recorded is None:
        raise NotFound(f"id: no inspection draw {draw_id[:60]}", field="id")
    if recorded.algorithm != ALGORITHM:
        return Replay(recorded, None, [f"recorded with {recorded.algorithm}, not {ALGORITHM}"])
    try:
        replayed = await compute_draw(
            graph,
            config,
            catalogue,
            recorded.params,
            recorded.at,
            known_at=recorded.at,
            name="replayInspectionDraw",
        )
    except BadUserInput as exc:
        return Replay(recorded, None, [f"the draw cannot be staffed again: {exc.message}"])
    return Replay(recorded, replayed, differences(recorded, replayed))
