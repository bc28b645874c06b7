"""riskClusters: communities of sanctioned and risk-adjacent subjects in one district.

One query projects the subgraph: the district's subjects with a black- or watch-list
entry applying on the day (the seeds), every subject one registered link away from a
seed (links valid on the day; a seed that is a super-node is not expanded), and every
subject sharing a phone, an address or a household with a seed. networkx then finds
Louvain communities with a fixed seed, so the same data yields the same clusters; in the
app, in an analytics worker process (graph_model.risk.analytics), bounded in time, with
only node ids and weighted edges sent to it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import networkx as nx

from graph_model.driver import Graph
from graph_model.labels import Label, Rel, SystemRel
from graph_model.risk.common import (
    PUNITIVE_KINDS,
    applying_sanctions,
    rel_types,
    subject_map,
    valid,
)
from graph_model.risk.config import DEFAULT_CONFIG, RiskConfig
from graph_model.risk.suspected import SuspicionBasis, sharing_subquery
from graph_model.sanctions_read import applies_at
from graph_model.values import city_date, native

if TYPE_CHECKING:
    from graph_model.risk.analytics import AnalyticsPool

Edge = tuple[str, str, float]

# Households bind through SHARED_HOUSEHOLD (person to person), not MEMBER_OF.
BINDING_RELATIONS: tuple[Rel, ...] = tuple(r for r in Rel if r is not Rel.MEMBER_OF)
_TYPES = rel_types(BINDING_RELATIONS)

# How tightly each kind of bond holds a community together (Louvain edge weights).
BOND_WEIGHTS: dict[str, float] = {
    Rel.LEGAL_REPRESENTATIVE_OF.value: 3.0,
    Rel.ACTUAL_CONTROLLER_OF.value: 3.0,
    Rel.OPERATOR_OF.value: 3.0,
    Rel.SHAREHOLDER_OF.value: 2.0,
    Rel.EXECUTIVE_OF.value: 2.0,
    Rel.BRANCH_OF.value: 2.0,
    SuspicionBasis.SHARED_HOUSEHOLD.value: 1.5,
    SuspicionBasis.SHARED_PHONE.value: 1.0,
    SuspicionBasis.SHARED_ADDRESS.value: 0.5,
}

SUSPICION_VALUES = frozenset(b.value for b in SuspicionBasis)

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
class Cluster:
    id: str
    members: list[dict[str, Any]]  # {subject, sanctions}, sanctioned first, then by id
    sanctions: list[dict[str, Any]]
    bonds: list[dict[str, Any]]  # {a, b, basis, ref} inside the cluster
    bond_counts: dict[str, int]
    why: str


def weighted_edges(
    members: list[dict[str, Any]], bonds: list[dict[str, Any]]
) -> tuple[list[str], list[Edge]]:
    """The Louvain input: node ids, and one edge per bonded pair weighing all its bonds, in
    a fixed order (Louvain's result depends on it)."""
    nodes = sorted(m["subject"]["id"] for m in members)
    weights: dict[tuple[str, str], float] = {}
    for bond in sorted(bonds, key=lambda b: (b["a"], b["b"], b["basis"], b["ref"] or "")):
        a, b = sorted((bond["a"], bond["b"]))
        weights[(a, b)] = weights.get((a, b), 0.0) + BOND_WEIGHTS[bond["basis"]]
    return nodes, [(a, b, weight) for (a, b), weight in weights.items()]


def communities(nodes: list[str], edges: list[Edge], seed: int) -> list[set[str]]:
    """Louvain communities: the CPU-heavy part, run in an analytics worker by the app."""
    g = nx.Graph()
    g.add_nodes_from(nodes)
    g.add_weighted_edges_from(edges, weight="weight")
    found: list[set[str]] = nx.community.louvain_communities(g, weight="weight", seed=seed)
    return found


def _why(counts: Counter[str], size: int, sanctioned: int) -> str:
    parts = [f"{n} {basis}" for basis, n in sorted(counts.items(), key=lambda i: (-i[1], i[0]))]
    return (
        f"{size} subjects around {sanctioned} sanctioned one{'s' if sanctioned != 1 else ''}, "
        f"bound by {', '.join(parts) if parts else 'no direct bond'}"
    )


def unique_bonds(bonds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A bond found from both of its ends is one bond; registered links keep their direction."""
    unique: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for bond in bonds:
        low, high = sorted((bond["a"], bond["b"]))
        if low == high:
            continue
        if bond["basis"] in SUSPICION_VALUES:  # undirected: one spelling
            bond = {**bond, "a": low, "b": high}
        unique.setdefault((low, high, bond["basis"], bond["ref"] or ""), bond)
    return [unique[key] for key in sorted(unique)]


def build_clusters(
    members: list[dict[str, Any]], bonds: list[dict[str, Any]], *, min_size: int, seed: int
) -> list[Cluster]:
    """The clusters, computed here (scripts, tests); `risk_clusters` runs Louvain apart."""
    clean = unique_bonds(bonds)
    found = communities(*weighted_edges(members, clean), seed)
    return assemble(members, clean, found, min_size=min_size)


def assemble(
    members: list[dict[str, Any]],
    clean: list[dict[str, Any]],
    found: list[set[str]],
    *,
    min_size: int,
) -> list[Cluster]:
    """Clusters from Louvain's communities `found`, with their members, sanctions and bonds."""
    by_id = {m["subject"]["id"]: m for m in members}
    where = {node: index for index, community in enumerate(found) for node in community}
    held_by: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for bond in clean:  # each bond to the community holding both its ends, in one pass
        index = where.get(bond["a"])
        if index is not None and index == where.get(bond["b"]):
            held_by[index].append(bond)
    clusters = []
    for index, community in enumerate(found):
        if len(community) < min_size:
            continue
        inside = sorted(
            (by_id[i] for i in community),
            key=lambda m: (not m["sanctions"], m["subject"]["id"]),
        )
        sanctions = sorted(
            (s for m in inside for s in m["sanctions"]), key=lambda s: (s["subjectId"], s["id"])
        )
        held = held_by[index]
        counts = Counter(b["basis"] for b in held)
        sanctioned = sum(1 for m in inside if m["sanctions"])
        digest = hashlib.sha256("|".join(sorted(community)).encode()).hexdigest()[:16]
        clusters.append(
            Cluster(
                id=f"K{digest}",
                members=inside,
                sanctions=sanctions,
                bonds=held,
                bond_counts=dict(sorted(counts.items())),
                why=_why(counts, len(community), sanctioned),
            )
        )
    clusters.sort(
        key=lambda c: (-sum(1 for m in c.members if m["sanctions"]), -len(c.members), c.id)
    )
    return clusters


async def risk_clusters(
    graph: Graph,
    district: str,
    at: dt.datetime,
    *,
    min_size: int,
    config: RiskConfig = DEFAULT_CONFIG,
    pool: AnalyticsPool | None = None,
) -> list[Cluster]:
    """The district's clusters; Louvain runs in `pool` when one is given, else here."""
    params = {
        "district": district,
        "at": at,
        "day": city_date(at),
        "cap": config.degree_cap,
        "suspectLimit": config.suspect_limit,
        "punitiveKinds": list(PUNITIVE_KINDS),
    }
    rows = await graph.read(PROJECTION, params, name="riskClusters")
    row = native(rows[0]) if rows else {"bonds": [], "members": []}
    members = row["members"]
    clean = unique_bonds(row["bonds"])
    nodes, edges = weighted_edges(members, clean)
    if pool is None:
        found = communities(nodes, edges, config.cluster_seed)
    else:
        found = await pool.run("riskClusters", communities, nodes, edges, config.cluster_seed)
    return assemble(members, clean, found, min_size=min_size)
