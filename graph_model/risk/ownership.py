"""ultimateBeneficialOwners: the upward SHAREHOLDER_OF walk and the owners it finds.

One query finds every holder with a chain of links valid on the asked day up to
`ownership_hops` long (Neo4j walks it breadth-first, visiting each holder once, so
cycles stop by themselves), then reads every valid holding into those holders;
`domain.scoring.ownership` solves the total holdings and picks the owners.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from domain.errors import BadUserInput, NotFound
from domain.identifiers import SubjectKind
from domain.scoring.ownership import Holdings, Owner, ultimate_owners
from domain.time import city_date
from domain.vocabulary import Label, Rel
from graph_model.driver import Graph
from graph_model.risk.common import link_map, subject_map, valid
from graph_model.risk.config import DEFAULT_CONFIG, RiskConfig
from graph_model.values import native


@lru_cache(maxsize=8)
def upward_query(hops: int, with_controls: bool) -> str:
    """Everyone with a chain of valid SHAREHOLDER_OF links up to `hops` long to $id (a
    breadth-first reachability walk: each holder is visited once, cycles included), then
    every valid holding into those holders (and, for controllers, declared controls)."""
    controls = "[] AS controls"
    if with_controls:
        controls = "controls"
    head = (
        f"MATCH (t:{Label.SUBJECT.value} {{id: $id}})\n"
        f"OPTIONAL MATCH (t)<-[rs:{Rel.SHAREHOLDER_OF.value}*1..{int(hops)}]-(o)\n"
        f"WHERE all(r IN rs WHERE {valid('r')})\n"
        "WITH DISTINCT t, o\n"
        "WITH t, [x IN collect(o) WHERE x <> t] AS found\n"
        "WITH t, [t] + found[..$budget] AS seen, size(found) > $budget AS cut\n"
        "CALL (seen) {\n"
        "  UNWIND seen AS a\n"
        f"  MATCH (a)<-[r:{Rel.SHAREHOLDER_OF.value}]-(o)\n"
        f"  WHERE {valid('r')}\n"
        f"  RETURN collect({link_map('r')}) AS edges\n"
        "}\n"
    )
    if with_controls:
        head += (
            "CALL (seen) {\n"
            "  UNWIND seen AS a\n"
            f"  MATCH (a)<-[r:{Rel.ACTUAL_CONTROLLER_OF.value}]-(p)\n"
            f"  WHERE {valid('r')}\n"
            f"  RETURN collect({{link: {link_map('r')},"
            f" controller: {subject_map('p')}}}) AS controls\n"
            "}\n"
        )
    return head + (
        f"RETURN t.kind AS kind, [n IN seen | {subject_map('n')}] AS nodes, edges, {controls}, cut"
    )


async def holdings_above(
    graph: Graph,
    target: str,
    at: dt.datetime,
    *,
    field: str,
    allowed: frozenset[str],
    with_controls: bool = False,
    config: RiskConfig = DEFAULT_CONFIG,
    name: str = "ultimateBeneficialOwners",
) -> Holdings:
    params = {"id": target, "at": at, "day": city_date(at), "budget": config.ownership_budget}
    rows = await graph.read(upward_query(config.ownership_hops, with_controls), params, name=name)
    if not rows:
        raise NotFound(f"{field}: no subject {target}", field=field)
    row = native(rows[0])
    kind = row["kind"]
    if kind not in allowed:
        what = "a person" if kind == SubjectKind.PERSON.value else f"a {kind}"
        raise BadUserInput(
            f"{field}: {target} is {what}, not {' or '.join(sorted(allowed))}", field=field
        )
    nodes = {n["id"]: n for n in row["nodes"]}
    # holders beyond the hop limit or the budget: their holdings are left out, and the
    # units they hold are marked as not fully walked
    beyond = {e["to"] for e in row["edges"] if e["from"] not in nodes}
    return Holdings(
        target=target,
        kind=kind,
        nodes=nodes,
        links=[e for e in row["edges"] if e["from"] in nodes],
        controls=row["controls"],
        unexpanded=beyond,
        truncated=bool(row["cut"]) or bool(beyond),
    )


async def beneficial_owners(
    graph: Graph,
    enterprise_id: str,
    threshold: float,
    at: dt.datetime,
    *,
    config: RiskConfig = DEFAULT_CONFIG,
) -> list[Owner]:
    field = "enterpriseId"
    holdings = await holdings_above(
        graph,
        enterprise_id,
        at,
        field=field,
        allowed=frozenset({SubjectKind.ENTERPRISE.value}),
        config=config,
    )
    return ultimate_owners(holdings, threshold, field=field, path_count_cap=config.path_count_cap)
