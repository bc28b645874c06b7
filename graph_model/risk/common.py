"""Cypher pieces every risk query shares: link validity, applying sanctions, projections."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from domain.time import city_date
from domain.vocabulary import PUNITIVE_KINDS, Label, Rel, SystemRel
from graph_model.registry import SUBJECT_FIELDS
from graph_model.risk.config import RiskConfig
from graph_model.sanctions_read import SANCTION_FIELDS, applies_at

ALL_RELATIONS: tuple[Rel, ...] = tuple(Rel)

# A link is valid on city day $day (CONTRIBUTING.md, "Graph conventions").
VALID_ON_DAY = "{r}.validFrom <= $day AND ({r}.validTo IS NULL OR $day < {r}.validTo)"


def risk_params(at: dt.datetime, config: RiskConfig) -> dict[str, Any]:
    """The parameters the pieces here and `suspected.sharing_subquery` read: the instant $at
    and its city day $day, $punitiveKinds, a super-node's degree $cap and $suspectLimit."""
    return {
        "at": at,
        "day": city_date(at),
        "punitiveKinds": list(PUNITIVE_KINDS),
        "cap": config.degree_cap,
        "suspectLimit": config.suspect_limit,
    }


def valid(r: str) -> str:
    return VALID_ON_DAY.format(r=r)


def rel_types(relations: Iterable[Rel]) -> str:
    """`A|B|C` for a relationship pattern; only enum values, never input."""
    return "|".join(r.value for r in sorted(set(relations), key=ALL_RELATIONS.index))


def applying_sanctions(n: str, s: str = "x", *, punitive_only: bool = False) -> str:
    """Pattern comprehension: the sanctions against subject `n` applying at $at/$day
    (only black- and watch-list ones with `punitive_only`; needs $punitiveKinds)."""
    kinds = f"{s}.kind IN $punitiveKinds AND " if punitive_only else ""
    return (
        f"[({n})<-[:{SystemRel.AGAINST.value}]-({s}:{Label.SANCTION.value}) "
        f"WHERE {kinds}{applies_at(s)} | {SANCTION_FIELDS.format(s=s)}]"
    )


def punitive_exists(n: str, s: str = "px") -> str:
    """A black- or watch-list entry against `n` applies at $at/$day."""
    return (
        f"EXISTS {{ MATCH ({n})<-[:{SystemRel.AGAINST.value}]-({s}:{Label.SANCTION.value}) "
        f"WHERE {s}.kind IN $punitiveKinds AND {applies_at(s)} }}"
    )


def subject_map(var: str) -> str:
    """The registry's subject projection (`registry.SUBJECT_FIELDS`) over variable `var`."""
    assert SUBJECT_FIELDS.startswith("s {")
    return var + SUBJECT_FIELDS[1:]


LINK_MAP = (
    "{{id: {r}.id, from: startNode({r}).id, to: endNode({r}).id, relation: type({r}),"
    " ratio: {r}.ratio, role: {r}.role, validFrom: {r}.validFrom, validTo: {r}.validTo}}"
)


def link_map(r: str) -> str:
    return LINK_MAP.format(r=r)
