"""Render compiled role chains as bounded Cypher patterns.

A chain is walked from the sanctioned subject `y` to the reached subject `x`. The same
pattern text serves the check (x bound, look for sanctions) and the impact preview
(y bound, look for who is reached): only the anchor differs. Relationship types come
from `domain.vocabulary.Rel`; link roles and dates are always parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.vocabulary import Label, SystemRel
from rules.compiler import Chain
from rules.models import Direction, EvaluatedAt


@dataclass
class RenderedChain:
    pattern: str  # MATCH text from x to y (empty for a chain of no steps)
    conditions: list[str]  # WHERE conditions over the chain's relationships
    rels_from_x: list[str]  # relationship variables ordered from x towards y
    params: dict[str, Any] = field(default_factory=dict)


def render_chain(chain: Chain, prefix: str, decision_date: str) -> RenderedChain:
    """`decision_date` is the Cypher expression for the sanction's decision date."""
    steps = chain.steps
    k = len(steps)
    params: dict[str, Any] = {}
    conditions: list[str] = []
    # node i: y is node 0 (or the named person), x is node k
    node = {0: "y", k: "x"} if k else {0: "x"}
    for i in range(1, k):
        node[i] = f"{prefix}n{i}"
    segments: list[str] = []
    rels: list[str] = []
    for i in range(k, 0, -1):
        step = steps[i - 1]
        rel = f"{prefix}r{i}"
        types = "|".join(r.value for r in step.relations)
        if step.direction is Direction.OUT:  # stored link n(i-1) -> n(i)
            segments.append(f"<-[{rel}:{types}]-({node[i - 1]})")
        else:  # stored link n(i) -> n(i-1)
            segments.append(f"-[{rel}:{types}]->({node[i - 1]})")
        rels.append(rel)
        when = decision_date if step.at is EvaluatedAt.DECISION else "$day"
        conditions.append(
            f"{rel}.validFrom <= {when} AND ({rel}.validTo IS NULL OR {when} < {rel}.validTo)"
        )
        if step.link_roles is not None:
            name = f"{prefix}roles{i}"
            params[name] = sorted(step.link_roles)
            conditions.append(f"{rel}.role IN ${name}")
    pattern = f"MATCH (x){''.join(segments)}" if k else ""
    if chain.sanctioned_kinds is not None:
        name = f"{prefix}kinds"
        params[name] = sorted(k.value for k in chain.sanctioned_kinds)
        conditions.append(f"{node[0]}.kind IN ${name}")
    return RenderedChain(pattern, conditions, rels, params)


def sanction_link(chain: Chain, sanction_var: str = "s") -> str:
    """How the sanction hangs off the chain's start node (y, or x for a chain of no steps)."""
    start = "y" if chain.steps else "x"
    if chain.named_by_sanction:
        rel = SystemRel.RESPONSIBLE_PERSON.value
        return f"({start})<-[:{rel}]-({sanction_var}:{Label.SANCTION.value})"
    return f"({start})<-[:{SystemRel.AGAINST.value}]-({sanction_var}:{Label.SANCTION.value})"


PATH_OF = (
    "[r IN rels | {from: startNode(r).id, relation: type(r), to: endNode(r).id,"
    " validFrom: r.validFrom, validTo: r.validTo}]"
)
