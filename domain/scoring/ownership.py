"""Ultimate beneficial owners: total shares solved through chains and cycles.

The holdings are read by `graph_model.risk.ownership` (every SHAREHOLDER_OF link valid at
the time above a unit, within the walk's bounds); `domain.scoring.equity` solves them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.errors import Conflict
from domain.identifiers import SubjectKind
from domain.scoring.equity import (
    InconsistentOwnership,
    OwnershipGraph,
    count_chains,
    total_holdings,
)

# Kinds that are ultimate owners whatever else they hold.
ULTIMATE_KINDS = frozenset({SubjectKind.PERSON.value, SubjectKind.PUBLIC_INSTITUTION.value})


@dataclass(frozen=True)
class Holdings:
    target: str
    kind: str
    nodes: dict[str, dict[str, Any]]  # id -> subject row
    links: list[dict[str, Any]]  # SHAREHOLDER_OF links valid at the time
    controls: list[dict[str, Any]]  # declared ACTUAL_CONTROLLER_OF {link, controller}
    unexpanded: set[str]
    truncated: bool

    @property
    def graph(self) -> OwnershipGraph[str]:
        return OwnershipGraph.of((e["from"], e["to"], e["ratio"] or 0.0) for e in self.links)

    def has_holders(self, subject_id: str) -> bool:
        return any(e["to"] == subject_id for e in self.links)


@dataclass(frozen=True)
class Owner:
    subject: dict[str, Any]
    share: float
    paths: int


def solve(holdings: Holdings, field: str) -> dict[str, float]:
    try:
        return total_holdings(holdings.graph, holdings.target)
    except InconsistentOwnership as exc:
        raise Conflict(
            f"{field}: the shareholdings above {holdings.target} cannot be resolved: {exc}",
            field=field,
        ) from None


def ultimate_owners(
    holdings: Holdings, threshold: float, *, field: str, path_count_cap: int
) -> list[Owner]:
    """Natural persons, public institutions and units without shareholders of their own
    whose total share is at least `threshold`, largest first (ties by id); each with its
    distinct chains to the target, counted up to `path_count_cap`."""
    shares = solve(holdings, field)
    chains = count_chains(holdings.graph, holdings.target, cap=path_count_cap)
    owners = []
    for subject_id, share in shares.items():
        if subject_id == holdings.target:
            continue
        node = holdings.nodes.get(subject_id)
        if node is None:
            continue
        ultimate = node["kind"] in ULTIMATE_KINDS or (
            not holdings.has_holders(subject_id) and subject_id not in holdings.unexpanded
        )
        if ultimate and share >= threshold - 1e-12:
            owners.append(Owner(node, share, chains.get(subject_id, 0)))
    owners.sort(key=lambda o: (-o.share, o.subject["id"]))
    return owners
