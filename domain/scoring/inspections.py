"""Differentiated supervision: "two random selections" (双随机) inspection draws.

The algorithm, reproducible from the recorded seed (`ALGORITHM` names this version):

1. The frame: units (not persons) matching the draw's district and industry, not
   deregistered, each graded by its credit rating at the draw's instant, sorted by id.
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
linked to (e.g. the legal representative of its shareholder or parent). The frame and
the conflicts are read by `graph_model.evaluation.inspections`, which also records and
replays draws; a draw's parameters are checked by `rules.scoring.inspections`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.errors import BadUserInput
from domain.scoring.ratings import Grade

ALGORITHM = "efraimidis-spirakis-a-res/sha512-str-seed/v1"

# conflict reasons, strongest first: an inspector is listed once, with the strongest
REASONS = ("LINKED", "HOUSEHOLD", "VIA_UNIT")

Graded = tuple[dict[str, Any], Grade]  # a unit of the frame (its subject row) and its grade


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


@dataclass(frozen=True)
class Conflict:
    target: str
    inspector: str
    reason: str  # one of REASONS


@dataclass(frozen=True)
class Draw:
    params: DrawParams
    at: dt.datetime
    targets: list[Graded]
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


def choose_targets(
    graded: Sequence[Graded], weights: Mapping[Grade, float], params: DrawParams
) -> list[str]:
    """The targets' ids, drawn from the graded frame with each grade's weight."""
    by_id = {subject["id"]: grade for subject, grade in graded}
    return weighted_sample(
        [(uid, weights[grade]) for uid, grade in by_id.items()],
        params.count,
        target_rng(params.seed),
    )


def first_reasons(target: str, found: Mapping[str, Sequence[str]]) -> list[Conflict]:
    """One conflict per inspector linked to `target`, under the strongest reason found
    (`found`: reason -> inspector ids)."""
    conflicts: list[Conflict] = []
    seen: set[str] = set()
    for reason in REASONS:
        for pid in sorted(set(found.get(reason, ())) - seen):
            conflicts.append(Conflict(target, pid, reason))
            seen.add(pid)
    return conflicts


def staff(
    params: DrawParams,
    at: dt.datetime,
    graded: Sequence[Graded],
    chosen: Sequence[str],
    conflicts: Sequence[Conflict],
) -> Draw:
    """The draw: the chosen targets with inspectors free of `conflicts` with them."""
    blocked: dict[str, set[str]] = {}
    for conflict in conflicts:
        blocked.setdefault(conflict.target, set()).add(conflict.inspector)
    order = {tid: n for n, tid in enumerate(chosen)}
    ordered = sorted(conflicts, key=lambda c: (order[c.target], c.inspector))
    inspectors = assign_inspectors(
        chosen, params.pool, blocked, params.per_target, inspector_rng(params.seed)
    )
    by_id = {subject["id"]: (subject, grade) for subject, grade in graded}
    return Draw(
        params=params,
        at=at,
        targets=[by_id[tid] for tid in chosen],
        inspectors=inspectors,
        conflicts=ordered,
        candidate_count=len(graded),
        digest=frame_digest([(s["id"], g) for s, g in graded]),
    )


@dataclass(frozen=True)
class Replay:
    recorded: Draw
    replayed: Draw | None
    differences: list[str]

    @property
    def matches(self) -> bool:
        return not self.differences


def differences(recorded: Draw, replayed: Draw) -> list[str]:
    """What a draw recomputed at its instant changes of the recorded one (nothing: [])."""
    found: list[str] = []
    if replayed.digest != recorded.digest:
        found.append(
            f"the frame differs: {replayed.candidate_count} units graded now as of the draw, "
            f"{recorded.candidate_count} then"
        )
    if replayed.target_ids != recorded.target_ids:
        found.append("the targets differ")
    elif [g for _, g in replayed.targets] != [g for _, g in recorded.targets]:
        found.append("the targets' grades differ")
    if replayed.inspectors != recorded.inspectors:
        found.append("the inspectors differ")
    return found
