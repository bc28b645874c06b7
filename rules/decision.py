"""The joint check's decision, and whom a sanction reaches, from the paths found.

The query (`graph_model.checks`, `graph_model.impact`) finds every sanction that reaches
a subject through a role, with a path per way it does. Here each hit is matched to the
catalogue's measures for its list type and area that reach through its role; one
canonical path (shortest, then a total order) is kept per measure, role and sanction;
the decision is the strongest punitive effect, else INCENTIVE, else CLEAR, with
incentives under a punitive measure marked suppressed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from domain.vocabulary import Effect, strongest
from rules.models import Catalogue, Measure

Path = list[dict[str, Any]]  # steps {from, relation, to, validFrom, ...}
Hit = tuple[dict[str, Any], str, Path]  # (sanction, role, path)

DECISION_OF_EFFECT = {
    Effect.PROHIBIT: "PROHIBITED",
    Effect.RESTRICT: "RESTRICTED",
    Effect.STRICT_REVIEW: "STRICT_REVIEW",
    Effect.ALERT: "ALERT",
}


@dataclass(frozen=True)
class AppliedMeasure:
    measure: Measure
    role: str
    sanction: dict[str, Any]
    path: Path
    suppressed: bool


@dataclass(frozen=True)
class CheckOutcome:
    check_id: str
    subject_id: str
    subject_known: bool
    area: str
    at: dt.datetime
    decision: str
    measures: list[AppliedMeasure]


def path_sort_key(path: Path) -> tuple[Any, ...]:
    """Shortest first, then by the steps' ends, relation and start date: a total order."""
    return (
        len(path),
        tuple((p["from"], p["relation"], p["to"], p["validFrom"].isoformat()) for p in path),
    )


def decide(
    applied: list[tuple[Measure, str, dict[str, Any], Path]],
) -> tuple[str, list[AppliedMeasure]]:
    """The decision and the measures, incentives marked suppressed under any punitive one."""
    strongest_effect = strongest(m.effect for m, *_ in applied)
    ordered = sorted(
        applied,
        key=lambda a: (-a[0].effect.strength, a[0].id, a[1], a[2]["id"]),
    )
    measures = [
        AppliedMeasure(
            measure=m,
            role=role,
            sanction=sanction,
            path=path,
            suppressed=m.effect is Effect.INCENTIVE and strongest_effect is not None,
        )
        for m, role, sanction, path in ordered
    ]
    if strongest_effect is not None:
        return DECISION_OF_EFFECT[strongest_effect], measures
    if measures:
        return "INCENTIVE", measures
    return "CLEAR", measures


def applied_measures(
    hits: Iterable[Hit], area: str, catalogue: Catalogue
) -> list[tuple[Measure, str, dict[str, Any], Path]]:
    """Each measure of `area` a hit reaches, once per (measure, role, sanction), with the
    canonical path among all found."""
    best: dict[tuple[str, str, str], tuple[Measure, dict[str, Any], Path]] = {}
    by_list_type_area = catalogue.measures_by_list_type_and_area
    for sanction, role, path in hits:
        for measure in by_list_type_area.get((sanction["listType"], area), ()):
            if role not in measure.roles:
                continue
            key = (measure.id, role, sanction["id"])
            current = best.get(key)
            if current is None or path_sort_key(path) < path_sort_key(current[2]):
                best[key] = (measure, sanction, path)
    return [(m, key[1], sanction, path) for key, (m, sanction, path) in best.items()]


def outcome(
    check_id: str,
    subject_id: str,
    known: bool,
    hits: Iterable[Hit],
    area: str,
    at: dt.datetime,
    catalogue: Catalogue,
) -> CheckOutcome:
    """One subject's check in `area` at `at` from the hits its query found."""
    decision, measures = decide(applied_measures(hits, area, catalogue))
    return CheckOutcome(
        check_id=check_id,
        subject_id=subject_id,
        subject_known=known,
        area=area,
        at=at,
        decision=decision,
        measures=measures,
    )


def reached(
    hits: Iterable[tuple[dict[str, Any], str, Path]],
    list_type: str,
    areas: Mapping[tuple[str, str], tuple[str, ...]],
) -> list[dict[str, Any]]:
    """Whom a sanction of `list_type` reaches: one entry per (subject, role) of `hits`
    (subject, role, path) with the areas of that role (`areas`, by list type and role) and
    the canonical path; nearest first."""
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for subject, role, path in hits:
        key = (subject["id"], role)
        current = best.get(key)
        if current is None or path_sort_key(path) < path_sort_key(current["path"]):
            best[key] = {
                "subject": subject,
                "role": role,
                "areas": list(areas[(list_type, role)]),
                "path": path,
            }
    return sorted(best.values(), key=lambda e: (len(e["path"]), e["role"], e["subject"]["id"]))
