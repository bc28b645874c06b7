"""relatedParties: a subject's bounded neighbourhood, one keyset page per call.

The walk is breadth-first over links valid on the asked day, level by level, each
level written out in the query text up to `MAX_DEPTH` (3): no variable-length pattern.
A node with more stored links of the asked types than `degree_cap` (a super-node) is
listed, with its degree, but not expanded; the centre is always expanded (its own
neighbours are what paging is for). Each level keeps at most `level_budget` nodes, the
smallest ids first, so a truncated answer is still the same on every page.

Nodes are ordered by (distance, id). A page carries its nodes and the links owned by
them: every link of the neighbourhood (a valid link with an expanded end) is owned by
its end that comes later in that order, so walking all pages yields every node and
every link exactly once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from domain.errors import NotFound
from domain.vocabulary import Label, Rel
from graph_model.driver import Graph
from graph_model.risk.common import (
    applying_sanctions,
    link_map,
    rel_types,
    risk_params,
    subject_map,
    valid,
)
from graph_model.risk.config import DEFAULT_CONFIG, MAX_DEPTH, RiskConfig
from graph_model.values import native

HOUSEHOLD_KIND = "HOUSEHOLD"


def _level(n: int, types: str) -> str:
    """Level n (2..MAX_DEPTH): neighbours of the expanded nodes of level n-1 not seen yet."""
    seen = " ".join(f"AND NOT n IN l{i}" for i in range(1, n))
    imports = ", ".join(["c", *(f"l{i}" for i in range(1, n)), f"x{n - 1}"])
    return (
        f"CALL ({imports}) {{\n"
        f"  UNWIND x{n - 1} AS a\n"
        f"  MATCH (a)-[r:{types}]-(n)\n"
        f"  WHERE {valid('r')} AND n <> c {seen}\n"
        "  WITH DISTINCT n ORDER BY n.id\n"
        "  WITH collect(n) AS found\n"
        f"  RETURN found[..$budget] AS l{n}, size(found) > $budget AS cut{n}\n"
        "}\n"
    )


@lru_cache(maxsize=256)
def neighbourhood_query(relations: tuple[Rel, ...]) -> str:
    types = rel_types(relations)
    degree = "COUNT {{ ({v})-[:" + types + "]-() }}"
    levels = [
        f"MATCH (c:{Label.SUBJECT.value} {{id: $id}})\n"
        "CALL (c) {\n"
        f"  OPTIONAL MATCH (c)-[r:{types}]-(n)\n"
        f"  WHERE {valid('r')}\n"
        "  WITH DISTINCT n WHERE n IS NOT NULL\n"
        "  ORDER BY n.id\n"
        "  WITH collect(n) AS found\n"
        "  RETURN found[..$budget] AS l1, size(found) > $budget AS cut1\n"
        "}\n"
    ]
    carried = ["c", "l1", "cut1"]
    for n in range(2, MAX_DEPTH + 1):
        # x(n-1): the nodes of level n-1 expanded further (none beyond the asked depth)
        levels.append(
            f"WITH {', '.join(carried)},\n"
            f"     CASE WHEN $depth >= {n} THEN [x IN l{n - 1} WHERE "
            f"{degree.format(v='x')} <= $cap] ELSE [] END AS x{n - 1}\n"
        )
        carried.append(f"x{n - 1}")
        levels.append(_level(n, types))
        carried += [f"l{n}", f"cut{n}"]
    lists = [f"l{i}" for i in range(1, MAX_DEPTH + 1)]
    xs = [f"x{i}" for i in range(1, MAX_DEPTH)]
    cuts = " OR ".join(f"cut{i}" for i in range(1, MAX_DEPTH + 1))
    entries = " + ".join(
        ["[{n: c, d: 0}]"] + [f"[v IN l{i} | {{n: v, d: {i}}}]" for i in range(1, MAX_DEPTH + 1)]
    )
    capped = " + ".join(
        f"[v IN l{i} WHERE $depth > {i} AND NOT v IN x{i} | "
        f"{{id: v.id, distance: {i}, degree: {degree.format(v='v')}}}]"
        for i in range(1, MAX_DEPTH)
    )
    distance_of_q = (
        "CASE WHEN q = c THEN 0 "
        + " ".join(f"WHEN q IN l{i} THEN {i}" for i in range(1, MAX_DEPTH + 1))
        + " END"
    )
    # expanded neighbours a super-node on the page may have, by its distance
    candidates = (
        "CASE d WHEN 1 THEN [c] + [q IN x1 WHERE q.id < n.id] "
        + " ".join(
            f"WHEN {i} THEN x{i - 1} + [q IN x{i} WHERE q.id < n.id]" for i in range(2, MAX_DEPTH)
        )
        + f" ELSE x{MAX_DEPTH - 1} END"
    )
    walked = ", ".join(["c", *lists, *xs])
    scope = f"{walked}, expanded"
    household = f"n {{.id, .district, .address, kind: '{HOUSEHOLD_KIND}'}}"
    tail = (
        f"WITH {walked}, {cuts} AS truncated, [c] + {' + '.join(xs)} AS expanded\n"
        f"WITH {scope}, truncated, {capped} AS capped, {entries} AS entries\n"
        "WITH *, [e IN entries WHERE $afterD IS NULL OR e.d > $afterD"
        " OR (e.d = $afterD AND e.n.id > $afterId)] AS rest\n"
        f"WITH {scope}, truncated, capped, size(entries) AS total,"
        " rest[..$first] AS page, size(rest) > $first AS hasMore\n"
        f"CALL ({scope}, page) {{\n"
        "  UNWIND page AS e\n"
        f"  WITH {scope}, e.n AS n, e.d AS d\n"
        f"  WITH {scope}, n, d, {degree.format(v='n')} AS degree, n IN expanded AS isExpanded\n"
        f"  CALL ({scope}, n, d, degree, isExpanded) {{\n"
        f"    CALL ({scope}, n, d, degree, isExpanded) {{\n"
        "      WITH * WHERE d > 0 AND degree <= $cap\n"
        f"      MATCH (n)-[r:{types}]-(q)\n"
        f"      WHERE {valid('r')}\n"
        f"      WITH r, q, n, d, isExpanded, expanded, {distance_of_q} AS dq\n"
        "      WHERE dq IS NOT NULL AND (dq < d OR (dq = d AND q.id < n.id))"
        " AND (isExpanded OR q IN expanded)\n"
        "      RETURN r\n"
        "      UNION\n"
        "      WITH * WHERE d > 0 AND degree > $cap\n"
        f"      UNWIND {candidates} AS q\n"
        f"      MATCH (n)-[r:{types}]-(q)\n"
        f"      WHERE {valid('r')}\n"
        "      RETURN r\n"
        "    }\n"
        f"    RETURN collect({link_map('r')}) AS links\n"
        "  }\n"
        "  RETURN collect({\n"
        f"    node: CASE WHEN n:{Label.HOUSEHOLD.value} THEN {household}"
        f" ELSE {subject_map('n')} END,\n"
        "    distance: d, degree: degree, expanded: isExpanded, links: links,\n"
        f"    sanctions: CASE WHEN n:{Label.SUBJECT.value}"
        f" THEN {applying_sanctions('n')} ELSE [] END\n"
        "  }) AS nodes\n"
        "}\n"
        "RETURN total, truncated, hasMore, capped, nodes"
    )
    return "".join(levels) + tail


@dataclass(frozen=True)
class NeighbourhoodPage:
    subject_id: str
    at: dt.datetime
    depth: int
    relations: tuple[Rel, ...]
    degree_cap: int
    total: int
    truncated: bool
    has_more: bool
    capped: list[dict[str, Any]]  # {id, distance, degree}
    nodes: list[dict[str, Any]]  # {node, distance, degree, expanded, capped, sanctions, links}


async def neighbourhood_page(
    graph: Graph,
    *,
    subject_id: str,
    depth: int,
    relations: tuple[Rel, ...],
    at: dt.datetime,
    first: int,
    after: tuple[int, str] | None = None,
    config: RiskConfig = DEFAULT_CONFIG,
    name: str = "relatedParties",
) -> NeighbourhoodPage:
    """One page of the neighbourhood; `after` is the (distance, id) of the last node seen."""
    assert 1 <= depth <= MAX_DEPTH
    params = {
        **risk_params(at, config),
        "id": subject_id,
        "depth": depth,
        "budget": config.level_budget,
        "first": first,
        "afterD": after[0] if after else None,
        "afterId": after[1] if after else None,
    }
    rows = await graph.read(neighbourhood_query(relations), params, name=name)
    if not rows:
        raise NotFound(f"subjectId: no subject {subject_id}", field="subjectId")
    row = native(rows[0])
    capped_ids = {c["id"] for c in row["capped"]}
    nodes = []
    for item in row["nodes"]:
        item["capped"] = item["node"]["id"] in capped_ids
        item["links"] = sorted(item["links"], key=lambda link: link["id"])
        nodes.append(item)
    return NeighbourhoodPage(
        subject_id=subject_id,
        at=at,
        depth=depth,
        relations=relations,
        degree_cap=config.degree_cap,
        total=row["total"],
        truncated=row["truncated"],
        has_more=row["hasMore"],
        capped=sorted(row["capped"], key=lambda c: (c["distance"], c["id"])),
        nodes=nodes,
    )
