"""riskClusters: the subgraph of sanctioned and risk-adjacent subjects in one district.

One query projects it: the district's subjects with a black- or watch-list entry applying
on the day (the seeds), every subject one registered link away from a seed (links valid
on the day; a seed that is a super-node is not expanded), and every subject sharing a
phone, an address or a household with a seed. `domain.scoring.clusters` finds and
explains the communities (in the app, Louvain runs in an analytics worker, bounded in
time, with only node ids and weighted edges sent to it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from domain.vocabulary import Label, Rel, SystemRel
from graph_model.driver import Graph
from graph_model.risk.common import applying_sanctions, rel_types, risk_params, subject_map, valid
from graph_model.risk.config import DEFAULT_CONFIG, RiskConfig
from graph_model.risk.suspected import sharing_subquery
from graph_model.sanctions_read import applies_at
from graph_model.values import native

# Households bind through SHARED_HOUSEHOLD (person to person), not MEMBER_OF.
BINDING_RELATIONS: tuple[Rel, ...] = tuple(r for r in Rel if r is not Rel.MEMBER_OF)
_TYPES = rel_types(BINDING_RELATIONS)

PROJECTION = (
    f"MATCH (x:{Label.SANCTION.value})-[:{SystemRel.AGAINST.value}]->(s:{Label.SUBJECT.value})\n"
    f"WHERE x.kind IN $punitiveKinds AND {applies_at('x')} AND s.district = $district\n"
    "WITH DISTINCT s\n"
    "CALL (s) {\n"
    f"  WITH s WHERE COUNT {{ (s)-[:{_TYPES}]-() }} <= $cap\n"
    f"  MATCH (s)-[r:{_TYPES}]-(o:{Label.SUBJECT.value})\n"
    f"  WHERE {valid('r')}\n"
    "  RETURN o, type(r) AS basis, r.id AS ref, startNode(r).id AS src, endNode(r).id AS dst\n"
    "  UNION ALL\n"
    "  CALL (s) {\n" + sharing_subquery("s") + "  }\n"
    "  RETURN o, basis, householdId AS ref, s.id AS src, o.id AS dst\n"
    "}\n"
    "WITH collect({a: src, b: dst, basis: basis, ref: ref}) AS bonds,"
    " collect(DISTINCT s) + collect(DISTINCT o) AS touched\n"
    "CALL (touched) {\n"
    "  UNWIND touched AS m\n"
    "  WITH DISTINCT m\n"
    "  RETURN collect({subject: " + subject_map("m") + ","
    " sanctions: " + applying_sanctions("m", punitive_only=True) + "}) AS members\n"
    "}\n"
    "RETURN bonds, members"
)


@dataclass(frozen=True)
class ClusterFacts:
    members: list[dict[str, Any]]  # {subject, sanctions}
    bonds: list[dict[str, Any]]  # {a, b, basis, ref}, a bond found from both ends twice


async def cluster_facts(
    graph: Graph, district: str, at: dt.datetime, *, config: RiskConfig = DEFAULT_CONFIG
) -> ClusterFacts:
    """The district's risk subgraph at `at`: its members and the bonds between them."""
    params = {**risk_params(at, config), "district": district}
    rows = await graph.read(PROJECTION, params, name="riskClusters")
    row = native(rows[0]) if rows else {"bonds": [], "members": []}
    return ClusterFacts(row["members"], row["bonds"])
