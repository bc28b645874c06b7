"""The ownership solver against the closed form T = A (I - A)^-1, computed exactly."""

from __future__ import annotations

import itertools
from fractions import Fraction

import networkx as nx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from domain.scoring.equity import (
    InconsistentOwnership,
    OwnershipGraph,
    count_chains,
    strongest_chain,
    total_holdings,
)
from tests.reference.ownership import closed_form


@st.composite
def ownership_worlds(draw: st.DrawFn) -> tuple[int, int, dict[tuple[int, int], Fraction]]:
    """Companies 0..c-1 and persons c..n-1; every company keeps >= 10% with a person, so
    the companies' shares among themselves add up to at most 90% (spectral radius < 1)."""
    companies = draw(st.integers(2, 7))
    persons = draw(st.integers(1, 4))
    n = companies + persons
    edges: dict[tuple[int, int], Fraction] = {}
    for held in range(companies):
        person = draw(st.integers(companies, n - 1))
        budget = Fraction(9, 10)
        edges[(person, held)] = Fraction(1, 10) + draw(st.integers(0, 3)) * Fraction(1, 40)
        budget = Fraction(1) - edges[(person, held)]
        for holder in draw(st.lists(st.integers(0, n - 1), max_size=4, unique=True)):
            if holder == held or budget <= 0:
                continue
            ratio = min(budget, Fraction(draw(st.integers(1, 60)), 100))
            edges[(holder, held)] = edges.get((holder, held), Fraction(0)) + ratio
            budget -= ratio
    return companies, n, edges


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ownership_worlds())
def test_total_holdings_match_the_closed_form(
    world: tuple[int, int, dict[tuple[int, int], Fraction]],
) -> None:
    companies, n, edges = world
    event("cyclic" if not nx.is_directed_acyclic_graph(nx.DiGraph(list(edges))) else "acyclic")
    graph = OwnershipGraph.of((i, j, float(r)) for (i, j), r in edges.items())
    exact = closed_form(n, edges)
    for target in range(companies):
        h = total_holdings(graph, target)
        for holder in range(n):
            expected = float(exact[holder][target])
            assert abs(h.get(holder, 0.0) - expected) <= 1e-9, (holder, target, h, expected)


def test_a_two_company_cycle_by_hand() -> None:
    # P holds 60% of A; A holds 50% of B; B holds 40% of A.  h_A in B: 0.5 / (1 - 0.2)
    graph = OwnershipGraph.of([("P", "A", 0.6), ("A", "B", 0.5), ("B", "A", 0.4), ("Q", "B", 0.5)])
    h = total_holdings(graph, "B")
    assert h["A"] == pytest.approx(0.5 / 0.8, abs=1e-12)
    assert h["P"] == pytest.approx(0.6 * 0.5 / 0.8, abs=1e-12)
    assert h["Q"] == pytest.approx(0.5 / 0.8, abs=1e-12)  # B's own 40% of A comes back


def test_parallel_links_add_up_and_chains_count_pairs() -> None:
    graph = OwnershipGraph.of([("P", "T", 0.1), ("P", "T", 0.2), ("P", "M", 1.0), ("M", "T", 0.3)])
    assert total_holdings(graph, "T")["P"] == pytest.approx(0.6)
    assert count_chains(graph, "T", cap=100) == {"P": 2, "M": 1}


def test_a_cycle_holding_all_of_itself_is_refused() -> None:
    graph = OwnershipGraph.of([("A", "B", 1.0), ("B", "A", 1.0), ("A", "T", 0.5)])
    with pytest.raises(InconsistentOwnership):
        total_holdings(graph, "T")


def test_chain_counts_with_cycles_and_the_cap() -> None:
    # P -> A -> T, P -> B -> T, A <-> B: simple chains P-A-T, P-B-T, P-A-B-T, P-B-A-T
    graph = OwnershipGraph.of(
        [
            ("P", "A", 0.5),
            ("P", "B", 0.5),
            ("A", "T", 0.3),
            ("B", "T", 0.3),
            ("A", "B", 0.1),
            ("B", "A", 0.1),
        ]
    )
    counts = count_chains(graph, "T", cap=100)
    reference = nx.DiGraph([(h, k) for h, row in graph.share.items() for k in row])
    for holder in ("P", "A", "B"):
        assert counts[holder] == len(list(nx.all_simple_paths(reference, holder, "T")))
    assert counts["P"] == 4
    assert count_chains(graph, "T", cap=3)["P"] == 3


@settings(max_examples=100, deadline=None)
@given(ownership_worlds())
def test_chain_counts_match_networkx(
    world: tuple[int, int, dict[tuple[int, int], Fraction]],
) -> None:
    companies, n, edges = world
    graph = OwnershipGraph.of((i, j, float(r)) for (i, j), r in edges.items())
    reference = nx.DiGraph(list(edges))
    for target in range(companies):
        counts = count_chains(graph, target, cap=10_000)
        for holder in range(n):
            if holder == target or holder not in reference:
                continue
            expected = len(list(nx.all_simple_paths(reference, holder, target)))
            assert counts.get(holder, 0) == expected


def test_strongest_chain_maximises_the_product() -> None:
    graph = OwnershipGraph.of(
        [("P", "A", 0.9), ("A", "T", 0.9), ("P", "T", 0.5), ("P", "B", 1.0), ("B", "T", 0.7)]
    )
    assert strongest_chain(graph, "P", "T") == ["P", "A", "T"]  # 0.81 > 0.7 > 0.5
    products = {
        tuple(path): __import__("math").prod(graph.share[a][b] for a, b in itertools.pairwise(path))
        for path in (["P", "A", "T"], ["P", "T"], ["P", "B", "T"])
    }
    assert max(products, key=lambda p: products[p]) == ("P", "A", "T")
