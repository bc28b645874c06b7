"""Communities of sanctioned and risk-adjacent subjects (networkx Louvain).

The members (each with its applying black- and watch-list entries) and the bonds between
them are read by `graph_model.risk.clusters`: registered links and shared phones,
addresses and households. `unique_bonds` and `weighted_edges` make Louvain's input,
`communities` runs it with a fixed seed (so the same data yields the same clusters; the
app runs this step in an analytics worker), and `assemble` explains each community.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import networkx as nx

from domain.scoring.suspicion import SuspicionBasis
from domain.vocabulary import Rel

Edge = tuple[str, str, float]

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
    """The clusters in one call; the app runs `communities` in a worker and then `assemble`."""
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
