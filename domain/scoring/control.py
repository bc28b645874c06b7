"""Who controls a unit, on what basis, and the chain that shows it.

In order: a declared ACTUAL_CONTROLLER_OF link valid at the time (DECLARED); else a
chain of majority holdings (> 50% at every hop, parallel links of one pair added) up
to a holder without a majority holder of its own, or to a declared controller of a
unit on the way (MAJORITY_CHAIN); else the largest ultimate beneficial owner whose
total share reaches the threshold (LARGEST_BENEFICIAL_OWNER, with its strongest
chain); else NONE.

The holdings (with the declared controls) are read by `graph_model.risk.controller`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from domain.identifiers import SubjectKind
from domain.scoring.equity import strongest_chain
from domain.scoring.ownership import Holdings, ultimate_owners
from domain.vocabulary import UNIT_KINDS, Rel

MAJORITY = 0.5


class ControlBasis(StrEnum):
    DECLARED = "DECLARED"
    MAJORITY_CHAIN = "MAJORITY_CHAIN"
    LARGEST_BENEFICIAL_OWNER = "LARGEST_BENEFICIAL_OWNER"
    NONE = "NONE"


@dataclass(frozen=True)
class ControlStep:
    """One hop of the reasoning: a declared link, or a holder's links in one unit."""

    from_id: str
    relation: str
    to_id: str
    ratio: float | None
    valid_from: dt.date
    valid_to: dt.date | None
    link_ids: list[str]


@dataclass(frozen=True)
class ControlFinding:
    enterprise_id: str
    at: dt.datetime
    basis: ControlBasis
    controller: dict[str, Any] | None
    share: float | None
    path: list[ControlStep]
    reasoning: list[str] = dataclasses.field(default_factory=list)


def _declared_step(link: dict[str, Any]) -> ControlStep:
    return ControlStep(
        link["from"], Rel.ACTUAL_CONTROLLER_OF.value, link["to"], None,
        link["validFrom"], link.get("validTo"), [link["id"]],
    )  # fmt: skip


def _holding_step(links: list[dict[str, Any]]) -> ControlStep:
    """A holder's links in one unit as one step: shares added, dates where all hold."""
    ends = [link["validTo"] for link in links if link.get("validTo") is not None]
    return ControlStep(
        from_id=links[0]["from"],
        relation=Rel.SHAREHOLDER_OF.value,
        to_id=links[0]["to"],
        ratio=sum(link["ratio"] or 0.0 for link in links),
        valid_from=max(link["validFrom"] for link in links),
        valid_to=min(ends) if ends else None,
        link_ids=sorted(link["id"] for link in links),
    )


def _pick_declared(controls: list[dict[str, Any]], unit: str) -> list[dict[str, Any]]:
    declared = [c for c in controls if c["link"]["to"] == unit]
    # the latest declaration first; ties by controller id
    declared.sort(key=lambda c: (c["link"]["validFrom"], c["controller"]["id"]), reverse=True)
    return declared


def _links_by_pair(holdings: Holdings) -> dict[tuple[str, str], list[dict[str, Any]]]:
    pairs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for link in holdings.links:
        pairs.setdefault((link["from"], link["to"]), []).append(link)
    return pairs


def find_controller(
    holdings: Holdings, at: dt.datetime, *, threshold: float, path_count_cap: int, field: str
) -> ControlFinding:
    """The controller of `holdings.target` at `at` (see the module's order of bases);
    `threshold` is the share the largest beneficial owner needs, `field` the argument
    named when the holdings cannot be resolved."""
    target = holdings.target
    reasoning: list[str] = []
    declared = _pick_declared(holdings.controls, target)
    if declared:
        chosen = declared[0]
        reasoning.append(
            f"{chosen['controller']['id']} is declared actual controller of {target} "
            f"since {chosen['link']['validFrom']}"
        )
        if len(declared) > 1:
            others = ", ".join(c["controller"]["id"] for c in declared[1:])
            reasoning.append(f"also declared at the same time: {others}")
        return ControlFinding(
            target, at, ControlBasis.DECLARED, chosen["controller"], None,
            [_declared_step(chosen["link"])], reasoning,
        )  # fmt: skip
    reasoning.append(f"no ACTUAL_CONTROLLER_OF link to {target} is valid at that time")

    pairs = _links_by_pair(holdings)
    holders_of: dict[str, dict[str, float]] = {}
    for (holder, held), links in pairs.items():
        holders_of.setdefault(held, {})[holder] = sum(link["ratio"] or 0.0 for link in links)

    # majority chain: climb while one holder has more than half
    chain: list[ControlStep] = []
    share = 1.0
    node = target
    visited = {target}
    while True:
        majority = {h: r for h, r in holders_of.get(node, {}).items() if r > MAJORITY}
        if not majority:
            break
        holder = max(majority, key=lambda h: (majority[h], h))
        if holder in visited:
            reasoning.append(f"the majority chain returns to {holder}: a cycle, no single top")
            chain = []
            break
        visited.add(holder)
        chain.insert(0, _holding_step(pairs[(holder, node)]))
        share *= majority[holder]
        node = holder
        declared_above = _pick_declared(holdings.controls, node) if node != target else []
        if declared_above:
            top = declared_above[0]
            chain.insert(0, _declared_step(top["link"]))
            reasoning.append(
                f"{top['controller']['id']} is declared actual controller of {node}, "
                f"which holds a majority chain down to {target}"
            )
            return ControlFinding(
                target, at, ControlBasis.MAJORITY_CHAIN, top["controller"], None, chain, reasoning
            )
    if chain:
        top_node = holdings.nodes.get(node)
        top_kind = top_node["kind"] if top_node else None
        has_holders = bool(holders_of.get(node))
        if (
            top_node is not None
            and node not in holdings.unexpanded
            and (
                top_kind not in {k.value for k in UNIT_KINDS}
                or top_kind == SubjectKind.PUBLIC_INSTITUTION.value
                or not has_holders
            )
        ):
            reasoning.append(
                f"{node} holds more than 50% at every hop down to {target} "
                f"({len(chain)} hop{'s' if len(chain) > 1 else ''})"
            )
            return ControlFinding(
                target, at, ControlBasis.MAJORITY_CHAIN, top_node, share, chain, reasoning
            )
        reasoning.append(
            f"the majority chain stops at {node}, which has no majority holder of its own"
        )
    else:
        reasoning.append(f"no holder has more than 50% of {target}")

    owners = ultimate_owners(holdings, 0.0, field=field, path_count_cap=path_count_cap)
    if owners and owners[0].share >= threshold - 1e-12:
        best = owners[0]
        if len(owners) > 1 and abs(owners[1].share - best.share) <= 1e-12:
            reasoning.append(
                f"{best.subject['id']} and {owners[1].subject['id']} hold the same largest "
                f"share ({best.share:.4f}): no single controller"
            )
            return ControlFinding(target, at, ControlBasis.NONE, None, None, [], reasoning)
        nodes = strongest_chain(holdings.graph, best.subject["id"], target)
        path = [_holding_step(pairs[(a, b)]) for a, b in itertools.pairwise(nodes)]
        reasoning.append(
            f"{best.subject['id']} is the largest beneficial owner with a total share of "
            f"{best.share:.4f} (threshold {threshold:.2f}); the path shown is its strongest chain"
        )
        return ControlFinding(
            target, at, ControlBasis.LARGEST_BENEFICIAL_OWNER, best.subject, best.share, path,
            reasoning,
        )  # fmt: skip
    if owners:
        reasoning.append(
            f"the largest beneficial owner, {owners[0].subject['id']}, holds "
            f"{owners[0].share:.4f}, below the threshold {threshold:.2f}"
        )
    else:
        reasoning.append(f"{target} has no shareholders at that time")
    return ControlFinding(target, at, ControlBasis.NONE, None, None, [], reasoning)
