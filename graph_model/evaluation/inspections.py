"""Differentiated supervision: "two random selections" (双随机) inspection draws.

The algorithm, reproducible from the recorded seed (`ALGORITHM` names this version):

1. The frame: units (not persons) matching the draw's district and industry, not
   deregistered, each graded by `ratings.rate` at the draw's instant, sorted by id.
2. Targets: weighted sampling without replacement, Efraimidis–Spirakis (A-Res). With
   `rng = random.Random(seed + "|targets")` (a str seed is hashed with SHA-512, stable
   across Python versions), each unit in id order draws `u = 1 - rng.random()` in (0, 1]
   and gets the key `ln(u) / weight(grade)`; the `count` largest keys are the targets,
   largest first (ties by id). P(drawn first) is proportional to the weight.
3. Inspectors: with `rng = random.Random(seed + "|inspectors")`, for each target in
   order, `rng.sample(eligible, inspectorsPerTarget)` where `eligible` is the pool,
   sorted, without anyone with a conflict of interest with that target. An inspector
   may serve several targets, never twice the same one.

A conflict of interest is any stored subject link, at any time and in either direction,
between the inspector and the target; or between the target and a person registered in
a household with the inspector; or between the target and a unit the inspector is
linked to (e.g. the legal representative of its shareholder or parent).

Replaying a draw recomputes it at its recorded instant from the records that existed
then (subjects, links and sanctions created later are left out) and compares.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from graph_model.districts import normalise_district
from graph_model.driver import Graph
from graph_model.errors import BadUserInput, NotFound
from graph_model.evaluation.ratings import KNOWN_AT, UnitFacts, facts_return
from graph_model.identifiers import validate_resident_id
from graph_model.labels import UNIT_KINDS, Label, Rel
from graph_model.registry import SUBJECT_FIELDS
from graph_model.text import clean_text
from graph_model.values import native
from rules.evaluation import EvaluationConfig, Grade
from rules.models import Catalogue

ALGORITHM = "efraimidis-spirakis-a-res/sha512-str-seed/v1"
MAX_INDUSTRY = 200

# ---------------------------------------------------------------- the pure part


def weighted_sample(
    candidates: Sequence[tuple[str, float]], count: int, rng: random.Random
) -> list[str]:
    """`count` ids drawn without replacement, each with probability by weight (A-Res).

    Candidates are keyed in id order so the draw depends only on the set and the rng.
    """
    keyed: list[tuple[float, str]] = []
    for candidate_id, weight in sorted(candidates):
        u = 1.0 - rng.random()  # (0, 1]: ln(u) is defined
        keyed.append((math.log(u) / weight, candidate_id))
    keyed.sort(key=lambda k: (-k[0], k[1]))
    return [candidate_id for _, candidate_id in keyed[:count]]


def assign_inspectors(
    targets: Sequence[str],
    pool: Sequence[str],
    conflicts: Mapping[str, set[str]],
    per_target: int,
    rng: random.Random,
) -> list[list[str]]:
    """`per_target` inspectors for each target in order, none with a conflict with it."""
    ordered_pool = sorted(set(pool))
    blocks: list[list[str]] = []
    for n, target in enumerate(targets):
        blocked = conflicts.get(target, set())
        eligible = [p for p in ordered_pool if p not in blocked]
        if len(eligible) < per_target:
            raise BadUserInput(
                f"input.inspectorPool: target {n + 1} ({target}) can be inspected by only "
                f"{len(eligible)} of the {len(ordered_pool)} inspectors without a conflict "
                f"of interest; {per_target} are needed per target",
                field="input.inspectorPool",
            )
        blocks.append(rng.sample(eligible, per_target))
    return blocks


def frame_digest(frame: Sequence[tuple[str, Grade]]) -> str:
    """SHA-256 over the sorted frame ('id:grade' lines): the same frame, the same digest."""
    text = "\n".join(f"{uid}:{grade.value}" for uid, grade in sorted(frame))
    return hashlib.sha256(text.encode()).hexdigest()


def target_rng(seed: str) -> random.Random:
    return random.Random(f"{seed}|targets")


def inspector_rng(seed: str) -> random.Random:
    return random.Random(f"{seed}|inspectors")


@dataclass(frozen=True)
class DrawParams:
    district: str | None
    industry: str | None
    count: int
    seed: str
    pool: tuple[str, ...]
    per_target: int


def validate_params(
    config: EvaluationConfig,
    *,
    district: str | None,
    industry: str | None,
    count: int,
    seed: str | None,
    pool: Sequence[str],
    per_target: int,
    new_seed: str,
) -> DrawParams:
    """Everything checkable without the database; `new_seed` is used when none is given."""
    sup = config.supervision
    if not 1 <= count <= sup.max_count:
        raise BadUserInput(
            f"input.count: {count} is outside 1..{sup.max_count}", field="input.count"
        )
    if not 1 <= per_target <= sup.max_inspectors_per_target:
        raise BadUserInput(
            f"input.inspectorsPerTarget: {per_target} is outside "
            f"1..{sup.max_inspectors_per_target}",
            field="input.inspectorsPerTarget",
        )
    if seed is not None:
        seed = clean_text(seed, "input.seed")
        if not 1 <= len(seed) <= sup.max_seed_length:
            raise BadUserInput(
                f"input.seed: 1-{sup.max_seed_length} printable characters", field="input.seed"
            )
    clean_district = normalise_district(district, field="input.district")
    clean_industry = (
        clean_text(industry.strip(), "input.industry") if industry is not None else None
    )
    if clean_industry is not None and not 1 <= len(clean_industry) <= MAX_INDUSTRY:
        raise BadUserInput(
            f"input.industry: 1-{MAX_INDUSTRY} printable characters", field="input.industry"
        )
    if not pool:
        raise BadUserInput("input.inspectorPool: the pool is empty", field="input.inspectorPool")
    if len(pool) > sup.max_pool:
        raise BadUserInput(
            f"input.inspectorPool: {len(pool)} inspectors; at most {sup.max_pool}",
            field="input.inspectorPool",
        )
    ids: list[str] = []
    for n, raw in enumerate(pool):
        pid = validate_resident_id(raw, field=f"input.inspectorPool[{n}]")
        if pid in ids:
            raise BadUserInput(
                f"input.inspectorPool[{n}]: listed twice (also at [{ids.index(pid)}])",
                field=f"input.inspectorPool[{n}]",
            )
        ids.append(pid)
    if len(ids) < per_target:
        raise BadUserInput(
            f"input.inspectorPool: {len(ids)} inspectors cannot staff {per_target} per target",
            field="input.inspectorPool",
        )
    return DrawParams(
        district=clean_district,
        industry=clean_industry,
        count=count,
        seed=seed if seed is not None else new_seed,
        pool=tuple(ids),
        per_target=per_target,
    )


@dataclass(frozen=True)
class Conflict:
    target: str
    inspector: str
    reason: str  # LINKED | HOUSEHOLD | VIA_UNIT


@dataclass(frozen=True)
class Draw:
    params: DrawParams
    at: dt.datetime
    targets: list[tuple[dict[str, Any], Grade]]
    inspectors: list[list[str]]  # one block per target, in target order
    conflicts: list[Conflict]
    candidate_count: int
    digest: str
    id: str | None = None
    created_by: str | None = None
    algorithm: str = ALGORITHM

    @property
    def target_ids(self) -> list[str]:
        return [subject["id"] for subject, _ in self.targets]

    @property
    def flat_inspectors(self) -> list[str]:
        return [p for block in self.inspectors for p in block]


# ---------------------------------------------------------------- reading and writing

_LINKS = "|".join(r.value for r in Rel if r is not Rel.MEMBER_OF)

# conflict reasons, strongest first, with the query's column for each
_REASONS = (("LINKED", "linked"), ("HOUSEHOLD", "household"), ("VIA_UNIT", "viaUnit"))

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
        f"RETURN {SUBJECT_FIELDS} AS subject, {facts_return(leader_relations)} "
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
    units = [UnitFacts.of(row) for row in rows]
    graded = [(u.subject, u.rate(at, config.rating, catalogue).grade) for u in units]
    weights = config.supervision.grade_weights
    by_id = {subject["id"]: (subject, grade) for subject, grade in graded}
    chosen = weighted_sample(
        [(uid, weights[grade]) for uid, (_, grade) in by_id.items()],
        params.count,
        target_rng(params.seed),
    )
    conflicts: list[Conflict] = []
    if chosen:
        found = await graph.read(
            CONFLICTS,
            {"targets": chosen, "pool": list(params.pool), "knownAt": known_at},
            name=name,
        )
        for row in found:
            seen: set[str] = set()
            for reason, key in (
                ("LINKED", "linked"),
                ("HOUSEHOLD", "household"),
                ("VIA_UNIT", "viaUnit"),
            ):
                for pid in sorted(set(row[key]) - seen):
                    conflicts.append(Conflict(row["target"], pid, reason))
                    seen.add(pid)
    blocked: dict[str, set[str]] = {}
    for conflict in conflicts:
        blocked.setdefault(conflict.target, set()).add(conflict.inspector)
    order = {tid: n for n, tid in enumerate(chosen)}
    conflicts.sort(key=lambda c: (order[c.target], c.inspector))
    inspectors = assign_inspectors(
        chosen, params.pool, blocked, params.per_target, inspector_rng(params.seed)
    )
    return Draw(
        params=params,
        at=at,
        targets=[by_id[tid] for tid in chosen],
        inspectors=inspectors,
        conflicts=conflicts,
        candidate_count=len(graded),
        digest=frame_digest([(s["id"], g) for s, g in graded]),
    )


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


@dataclass(frozen=True)
class Replay:
    recorded: Draw
    replayed: Draw | None
    differences: list[str]

    @property
    def matches(self) -> bool:
        return not self.differences


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
    differences: list[str] = []
    if replayed.digest != recorded.digest:
        differences.append(
            f"the frame differs: {replayed.candidate_count} units graded now as of the draw, "
            f"{recorded.candidate_count} then"
        )
    if replayed.target_ids != recorded.target_ids:
        differences.append("the targets differ")
    elif [g for _, g in replayed.targets] != [g for _, g in recorded.targets]:
        differences.append("the targets' grades differ")
    if replayed.inspectors != recorded.inspectors:
        differences.append("the inspectors differ")
    return Replay(recorded, replayed, differences)
