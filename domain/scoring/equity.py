"""Equity penetration in pure Python: integrated ownership through chains and cycles.

`A[j][k]` is the share holder j holds directly in k (parallel links of one pair add up).
The total holding of j in target t counts every chain j -> ... -> t, multiplying ratios
along it and summing over chains; with cycles that is the closed form
`T = A (I - A)^-1`, whose column t solves `(I - A) h = A[:, t]`, i.e.
`h_j = A[j][t] + sum_k A[j][k] h_k`.

The solver works on the holders upstream of t only (nodes with no chain to t hold 0),
condenses them into strongly connected components and solves them sinks first: an
acyclic component is one substitution, a cycle is a small dense system solved exactly
by Gaussian elimination with partial pivoting (iterative Gauss-Seidel past
`DENSE_LIMIT` holders). A cycle whose members hold all of one another (spectral radius
at least 1) has no finite answer: `InconsistentOwnership`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import networkx as nx

N = TypeVar("N", bound=Hashable)

DENSE_LIMIT = 400  # cycles with more holders than this are solved iteratively
GS_TOLERANCE = 1e-15
GS_MAX_SWEEPS = 100_000
POSITIVE_EPS = 1e-300


class InconsistentOwnership(ValueError):
    """Shareholdings in a cycle add up to 100% or more of one another."""

    def __init__(self, members: list[str]) -> None:
        self.members = members
        shown = ", ".join(members[:6]) + (" ..." if len(members) > 6 else "")
        super().__init__(f"the cross-holdings among {shown} add up to 100% or more")


@dataclass
class OwnershipGraph(Generic[N]):
    """Direct holdings: `share[j][k]` = what j holds in k (summed over parallel links)."""

    share: dict[N, dict[N, float]] = field(default_factory=lambda: defaultdict(dict))

    @classmethod
    def of(cls, edges: Iterable[tuple[N, N, float]]) -> OwnershipGraph[N]:
        graph: OwnershipGraph[N] = cls()
        for holder, held, ratio in edges:
            if holder == held or not ratio > 0:  # no self-holding; a zero stake is no link
                continue
            row = graph.share[holder]
            row[held] = row.get(held, 0.0) + float(ratio)
        return graph

    def holders_of(self) -> dict[N, dict[N, float]]:
        """held -> {holder: share}."""
        inverse: dict[N, dict[N, float]] = defaultdict(dict)
        for holder, row in self.share.items():
            for held, ratio in row.items():
                inverse[held][holder] = ratio
        return inverse

    def digraph(self) -> nx.DiGraph:
        g = nx.DiGraph()
        for holder, row in self.share.items():
            for held, ratio in row.items():
                g.add_edge(holder, held, ratio=ratio)
        return g


def upstream(graph: OwnershipGraph[N], target: N) -> set[N]:
    """Every holder with a chain to `target` (and `target` itself)."""
    holders = graph.holders_of()
    seen = {target}
    stack = [target]
    while stack:
        node = stack.pop()
        for holder in holders.get(node, {}):
            if holder not in seen:
                seen.add(holder)
                stack.append(holder)
    return seen


def total_holdings(graph: OwnershipGraph[N], target: N) -> dict[N, float]:
    """h_j for every j upstream of `target` (the target's own entry included)."""
    nodes = upstream(graph, target)
    g = nx.DiGraph()
    g.add_nodes_from(nodes)
    for holder in nodes:
        for held, ratio in graph.share.get(holder, {}).items():
            if held in nodes:
                g.add_edge(holder, held, ratio=ratio)
    condensed = nx.condensation(g)
    members: Mapping[int, set[N]] = nx.get_node_attributes(condensed, "members")
    h: dict[N, float] = {}
    # holders point at what they hold: solve the components nearest the target first
    for component in reversed(list(nx.topological_sort(condensed))):
        group = sorted(members[component], key=repr)
        inside = set(group)
        rhs = {
            j: sum(
                ratio * ((1.0 if held == target else 0.0) + (0.0 if held in inside else h[held]))
                for held, ratio in graph.share.get(j, {}).items()
                if held in nodes
            )
            for j in group
        }
        if len(group) == 1 and not any(k in inside for k in graph.share.get(group[0], {})):
            h[group[0]] = rhs[group[0]]
            continue
        # the direct share in the target counts even when the target is in this cycle
        inner = {j: {k: r for k, r in graph.share.get(j, {}).items() if k in inside} for j in group}
        solved = _solve_cycle(group, inner, rhs)
        h.update(solved)
    return h


def _solve_cycle(
    group: list[N], inner: dict[N, dict[N, float]], rhs: dict[N, float]
) -> dict[N, float]:
    """Solve (I - A_S) x = b for one strongly connected component S."""
    solver = _gauss_seidel if len(group) > DENSE_LIMIT else _gauss
    x = solver(group, inner, rhs)
    # Collatz-Wielandt: a positive x with A x <= x, A x != x (b >= 0, b != 0) exists
    # exactly when the spectral radius of the irreducible A_S is below 1.
    if x is None or any(not (v > POSITIVE_EPS) or not math.isfinite(v) for v in x.values()):
        raise InconsistentOwnership([str(n) for n in group])
    return x


def _gauss(
    group: list[N], inner: dict[N, dict[N, float]], rhs: dict[N, float]
) -> dict[N, float] | None:
    n = len(group)
    index = {node: i for i, node in enumerate(group)}
    m = [[0.0] * (n + 1) for _ in range(n)]
    for i, j in enumerate(group):
        m[i][i] = 1.0
        for k, ratio in inner[j].items():
            m[i][index[k]] -= ratio
        m[i][n] = rhs[j]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        if abs(m[pivot][col]) < 1e-13:
            return None
        m[col], m[pivot] = m[pivot], m[col]
        p = m[col][col]
        for r in range(col + 1, n):
            factor = m[r][col] / p
            if factor != 0.0:
                row, top = m[r], m[col]
                for c in range(col, n + 1):
                    row[c] -= factor * top[c]
    x = [0.0] * n
    for i in range(n - 1, -1, -1):
        acc = m[i][n] - sum(m[i][c] * x[c] for c in range(i + 1, n))
        x[i] = acc / m[i][i]
    return {node: x[i] for i, node in enumerate(group)}


def _gauss_seidel(
    group: list[N], inner: dict[N, dict[N, float]], rhs: dict[N, float]
) -> dict[N, float] | None:
    x = dict.fromkeys(group, 0.0)
    for _ in range(GS_MAX_SWEEPS):
        change = 0.0
        for j in group:
            value = rhs[j] + sum(r * x[k] for k, r in inner[j].items())
            change = max(change, abs(value - x[j]))
            x[j] = value
        if not math.isfinite(change) or change > 1e12:
            return None
        if change <= GS_TOLERANCE * max(1.0, max(x.values())):
            return x
    return None


# -- chains ------------------------------------------------------------------------------------


def count_chains(
    graph: OwnershipGraph[N], target: N, *, cap: int, step_budget: int = 200_000
) -> dict[N, int]:
    """Distinct simple chains from each holder to `target`, each count capped at `cap`.

    Acyclic holdings are counted exactly by dynamic programming; with cycles the simple
    chains are enumerated backwards from the target, at most `step_budget` steps.
    """
    nodes = upstream(graph, target)
    holders = graph.holders_of()
    sub = nx.DiGraph()
    sub.add_nodes_from(nodes)
    for held in nodes:
        for owner in holders.get(held, {}):
            sub.add_edge(owner, held)
    if nx.is_directed_acyclic_graph(sub):
        counts: dict[N, int] = {target: 1}
        for node in reversed(list(nx.topological_sort(sub))):
            if node == target:
                continue
            counts[node] = min(cap, sum(counts.get(k, 0) for k in sub.successors(node)))
        counts.pop(target)
        return counts
    found: dict[N, int] = defaultdict(int)
    steps = 0
    on_path = {target}
    # iterative DFS over (node, iterator of its holders)
    stack = [(target, iter(sorted(holders.get(target, {}), key=repr)))]
    while stack and steps < step_budget:
        node, it = stack[-1]
        holder = next(it, None)
        if holder is None:
            stack.pop()
            on_path.discard(node)
            continue
        steps += 1
        if holder in on_path:
            continue
        if found[holder] < cap:
            found[holder] += 1
        on_path.add(holder)
        stack.append((holder, iter(sorted(holders.get(holder, {}), key=repr))))
    return dict(found)


def strongest_chain(graph: OwnershipGraph[N], holder: N, target: N) -> list[N]:
    """The chain holder -> ... -> target with the largest product of shares."""
    g = nx.DiGraph()
    for j, row in graph.share.items():
        for k, ratio in row.items():
            g.add_edge(j, k, cost=-math.log(min(max(ratio, 1e-300), 1.0)))
    path: list[N] = nx.dijkstra_path(g, holder, target, weight="cost")
    return path
