"""relatedParties and exportNeighbourhood against real Neo4j: time validity, super-nodes,
keyset pages that yield every node and link once, export formats, bad input, roles."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

import networkx as nx

from api.settings import Settings
from domain.vocabulary import Rel
from graph_model.driver import Graph
from tests.conftest import ApiServer, Neo4jServer, api_settings
from tests.integration.helpers import person_id, serve_app
from tests.integration.risk_world import NOW, errors_of, link, put, subject
from tests.integration.scenario import build_shoe_world, impose

RELATED = """
query($id: ID!, $depth: Int! = 2, $rels: [RelationType!], $at: DateTime, $first: Int! = 50,
      $after: String) {
  relatedParties(subjectId: $id, maxDepth: $depth, relations: $rels, at: $at, first: $first,
                 after: $after) {
    subjectId at maxDepth relations degreeCap totalCount truncated
    nodes {
      id kind name district distance degree expanded capped sanctioned
      sanctions { id status listType { id kind } }
      subject { id kind } household { id }
    }
    links { id from to relation ratio role validFrom validTo }
    capped { id distance degree hint }
    pageInfo { hasNextPage endCursor }
  }
}"""
EXPORT = """
query($id: ID!, $depth: Int! = 2, $format: ExportFormat!, $at: DateTime) {
  exportNeighbourhood(subjectId: $id, maxDepth: $depth, format: $format, at: $at)
}"""


def related(api: ApiServer, key: str = "regulator-key", **variables: Any) -> dict[str, Any]:
    body = api.post(RELATED, variables, key=key)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["relatedParties"]
    return result


def walk(
    api: ApiServer, **variables: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """Every page: all nodes and links in page order, and the first page."""
    nodes: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    after = None
    first_page: dict[str, Any] | None = None
    for _ in range(1000):
        page = related(api, after=after, **variables)
        first_page = first_page or page
        nodes += page["nodes"]
        links += page["links"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert first_page is not None
    return nodes, links, first_page


async def test_neighbourhood_follows_link_dates_and_annotates_sanctions(
    api_server: ApiServer,
) -> None:
    w = build_shoe_world(api_server)
    impose(api_server, subjectId=w.company)
    now = related(api_server, id=w.company, depth=1, at=NOW)
    ids = {n["id"]: n for n in now["nodes"]}
    # legal_rep left on 2025-06-01; later_rep took over; controller, chair, director stay
    assert set(ids) == {w.company, w.later_rep, w.chair, w.director, w.controller}
    assert ids[w.company]["distance"] == 0 and ids[w.company]["sanctioned"] is True
    assert ids[w.company]["sanctions"][0]["listType"]["id"] == "DISHONEST_JUDGMENT_DEBTOR"
    assert (
        ids[w.later_rep]["sanctioned"] is False and ids[w.later_rep]["subject"]["kind"] == "PERSON"
    )
    assert {(x["from"], x["relation"], x["to"]) for x in now["links"]} == {
        (w.later_rep, "LEGAL_REPRESENTATIVE_OF", w.company),
        (w.chair, "EXECUTIVE_OF", w.company),
        (w.director, "EXECUTIVE_OF", w.company),
        (w.controller, "ACTUAL_CONTROLLER_OF", w.company),
    }
    assert now["capped"] == [] and now["truncated"] is False and now["totalCount"] == 5

    # before the change: legal_rep, and through the household (MEMBER_OF) spouse and child
    then = related(api_server, id=w.company, depth=3, at="2025-01-01T12:00:00+08:00")
    by_id = {n["id"]: n for n in then["nodes"]}
    assert w.later_rep not in by_id
    assert by_id[w.legal_rep]["distance"] == 1
    assert by_id[w.household]["distance"] == 2 and by_id[w.household]["kind"] == "HOUSEHOLD"
    assert (
        by_id[w.household]["subject"] is None
        and by_id[w.household]["household"]["id"] == w.household
    )
    assert by_id[w.spouse]["distance"] == 3 and by_id[w.child]["distance"] == 3
    # the sanction was decided 2025-01-10: not yet applying on 2025-01-01
    assert by_id[w.company]["sanctioned"] is False
    # nodes ordered by (distance, id)
    assert [(n["distance"], n["id"]) for n in then["nodes"]] == sorted(
        (n["distance"], n["id"]) for n in then["nodes"]
    )
    # a relation filter keeps the walk on those links only
    only = related(api_server, id=w.company, depth=3, at=NOW, rels=["EXECUTIVE_OF"])
    assert {n["id"] for n in only["nodes"]} == {w.company, w.chair, w.director}
    assert only["relations"] == ["EXECUTIVE_OF"]


async def test_a_super_node_is_listed_not_expanded_and_paged_on_its_own(
    api_server: ApiServer, graph: Graph
) -> None:
    center = subject("PERSON", "中心人")
    hub = subject("ENTERPRISE", "温州大厂有限公司")
    small = subject("ENTERPRISE", "温州小厂有限公司")
    staff = [subject("PERSON", f"员工{i}") for i in range(205)]
    links = [link(center["id"], hub["id"], Rel.LEGAL_REPRESENTATIVE_OF)]
    links.append(link(center["id"], small["id"], Rel.LEGAL_REPRESENTATIVE_OF))
    links += [link(p["id"], hub["id"], Rel.EXECUTIVE_OF, role="OTHER") for p in staff]
    links.append(link(staff[0]["id"], small["id"], Rel.EXECUTIVE_OF, role="DIRECTOR"))
    await put(graph, [center, hub, small, *staff], links)

    page = related(api_server, id=center["id"], depth=2, at=NOW)
    by_id = {n["id"]: n for n in page["nodes"]}
    # the hub is listed with its degree but not walked; staff[0] comes in through `small`
    assert set(by_id) == {center["id"], hub["id"], small["id"], staff[0]["id"]}
    assert by_id[hub["id"]]["capped"] is True and by_id[hub["id"]]["expanded"] is False
    assert by_id[hub["id"]]["degree"] == 206
    assert page["capped"] == [
        {"id": hub["id"], "distance": 1, "degree": 206, "hint": page["capped"][0]["hint"]}
    ]
    assert "relatedParties" in page["capped"][0]["hint"] and hub["id"] in page["capped"][0]["hint"]
    # staff[0] -EXECUTIVE_OF-> hub is a link between two nodes of the answer, but neither end
    # is expanded: not part of the neighbourhood
    assert {x["to"] for x in page["links"]} == {hub["id"], small["id"]}
    assert len(page["links"]) == 3

    # the centre itself is always expanded: the hub's neighbours come page by page
    nodes, links_seen, first = walk(api_server, id=hub["id"], depth=1, at=NOW, first=40)
    assert first["totalCount"] == 207 and first["capped"] == []
    assert len(nodes) == 207 and len({n["id"] for n in nodes}) == 207
    assert len(links_seen) == 206 and len({x["id"] for x in links_seen}) == 206


async def test_risk_settings_from_the_environment_reach_the_resolvers(
    api_server: ApiServer, graph: Graph, neo4j_server: Neo4jServer, keys_file: Path
) -> None:
    """CREDITLINK_RISK_DEGREE_CAP, read by Settings.from_env, is what an app built by
    create_app caps super-nodes at (the default app beside it keeps 200)."""
    center = subject("PERSON", "中心人")
    hub = subject("ENTERPRISE", "温州大厂有限公司")
    small = subject("ENTERPRISE", "温州小厂有限公司")
    staff = [subject("PERSON", f"员工{i}") for i in range(2)]
    links = [
        link(center["id"], hub["id"], Rel.LEGAL_REPRESENTATIVE_OF),
        link(center["id"], small["id"], Rel.LEGAL_REPRESENTATIVE_OF),
        *(link(p["id"], hub["id"], Rel.EXECUTIVE_OF, role="OTHER") for p in staff),
    ]
    await put(graph, [center, hub, small, *staff], links)
    variables = {"id": center["id"], "depth": 2, "at": NOW}

    default = related(api_server, **variables)
    assert default["degreeCap"] == 200 and default["capped"] == []

    risk = Settings.from_env({"CREDITLINK_RISK_DEGREE_CAP": "2"}).risk
    assert risk.degree_cap == 2
    with serve_app(api_settings(neo4j_server, keys_file, risk=risk)) as app:
        body = app.request(RELATED, variables, "regulator-key").json()
    assert "errors" not in body, body
    page = body["data"]["relatedParties"]
    assert page["degreeCap"] == 2
    assert [c["id"] for c in page["capped"]] == [hub["id"]]  # 3 links > 2: not expanded
    assert "above the cap of 2" in page["capped"][0]["hint"]
    assert {n["id"] for n in page["nodes"]} == {center["id"], hub["id"], small["id"]}


def reference(
    links: list[tuple[Rel, dict[str, Any]]],
    center: str,
    depth: int,
    day: dt.date,
    cap: int,
    relations: set[Rel],
) -> tuple[dict[str, int], set[str], set[str]]:
    """The neighbourhood by plain BFS: distances, link ids, capped node ids."""
    degree: dict[str, int] = defaultdict(int)
    adjacent: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for rel, row in links:
        if rel not in relations:
            continue
        degree[row["src"]] += 1
        degree[row["dst"]] += 1
        if row["validFrom"] <= day and (row["validTo"] is None or day < row["validTo"]):
            adjacent[row["src"]].append((row["dst"], row["id"]))
            adjacent[row["dst"]].append((row["src"], row["id"]))
    distance = {center: 0}
    expanded = {center}
    frontier = [center]
    for level in range(1, depth + 1):
        new = sorted({b for a in frontier for b, _ in adjacent[a] if b not in distance})
        for b in new:
            distance[b] = level
        frontier = [b for b in new if degree[b] <= cap] if level < depth else []
        expanded.update(frontier)
    link_ids = {lid for a in expanded for _, lid in adjacent[a]}
    capped = {n for n, d in distance.items() if 0 < d < depth and n not in expanded}
    return distance, link_ids, capped


async def test_pages_match_a_plain_bfs_and_yield_everything_once(
    api_server: ApiServer, graph: Graph
) -> None:
    rng = random.Random(20261127)
    persons = [subject("PERSON", f"人{i}") for i in range(50)]
    units = [subject("ENTERPRISE", f"企业{i}") for i in range(30)]
    households = [{"id": f"H{i:04d}", "district": "330302", "address": "x"} for i in range(8)]
    hub = subject("ENTERPRISE", "大厂")
    crowd = [subject("PERSON", f"工{i}") for i in range(201)]

    def dates() -> tuple[dt.date, dt.date | None]:
        roll = rng.random()
        if roll < 0.7:
            return dt.date(2020, 1, 1), None
        if roll < 0.85:
            return dt.date(2019, 1, 1), dt.date(2024, 1, 1)  # ended
        return dt.date(2027, 1, 1), None  # not yet

    def person_to_unit(relation: Rel, **extra: Any) -> tuple[Rel, dict[str, Any]]:
        """A link from a random person to a random unit, over random dates."""
        vf, vt = dates()
        return link(rng.choice(persons)["id"], rng.choice(units)["id"], relation, vf, vt, **extra)

    links = [person_to_unit(Rel.LEGAL_REPRESENTATIVE_OF) for _ in range(45)]
    for _ in range(45):
        vf, vt = dates()
        holder = rng.choice(persons + units)["id"]
        held = rng.choice(units)["id"]
        if holder != held:
            links.append(link(holder, held, Rel.SHAREHOLDER_OF, vf, vt, ratio=0.1))
    links += [person_to_unit(Rel.EXECUTIVE_OF, role="DIRECTOR") for _ in range(25)]
    for p in persons[:30]:
        vf, vt = dates()
        links.append(
            link(p["id"], rng.choice(households)["id"], Rel.MEMBER_OF, vf, vt, role="OTHER")
        )
    for _ in range(10):
        a, b = rng.sample(units, 2)
        links.append(link(a["id"], b["id"], Rel.BRANCH_OF))
    links += [link(p["id"], hub["id"], Rel.EXECUTIVE_OF, role="OTHER") for p in crowd]
    for p in persons[:6]:
        links.append(link(p["id"], hub["id"], Rel.EXECUTIVE_OF, role="DIRECTOR"))
    await put(graph, [*persons, *units, hub, *crowd], links, households)

    day = dt.date(2026, 11, 1)
    cases = [
        (persons[0]["id"], 3, set(Rel)),
        (persons[1]["id"], 2, set(Rel)),
        (units[0]["id"], 3, set(Rel)),
        (units[1]["id"], 1, set(Rel)),
        (persons[2]["id"], 3, {Rel.SHAREHOLDER_OF, Rel.LEGAL_REPRESENTATIVE_OF}),
        (hub["id"], 2, set(Rel)),
    ]
    for center, depth, relations in cases:
        expected_distance, expected_links, expected_capped = reference(
            links, center, depth, day, 200, relations
        )
        rels = sorted(r.value for r in relations) if relations != set(Rel) else None
        nodes, seen_links, first = walk(
            api_server, id=center, depth=depth, at=NOW, first=7, rels=rels
        )
        got = [(n["distance"], n["id"]) for n in nodes]
        assert got == sorted(got), "pages come in (distance, id) order"
        assert len(got) == len(set(got)), "no node twice"
        assert {i: d for d, i in got} == expected_distance
        assert first["totalCount"] == len(expected_distance)
        ids = [x["id"] for x in seen_links]
        assert len(ids) == len(set(ids)), "no link twice"
        assert set(ids) == expected_links
        assert {c["id"] for c in first["capped"]} == expected_capped
        # each link is on the page of its later end, so both ends were seen by then
        position = {i: k for k, (_, i) in enumerate(got)}
        for x in seen_links:
            assert x["from"] in position and x["to"] in position


async def test_export_as_graphml_and_cytoscape(api_server: ApiServer) -> None:
    w = build_shoe_world(api_server)
    impose(api_server, subjectId=w.company)
    body = api_server.post(
        EXPORT, {"id": w.company, "depth": 3, "format": "GRAPHML", "at": NOW}, key="regulator-key"
    )
    assert "errors" not in body, body
    document = body["data"]["exportNeighbourhood"]
    g = nx.parse_graphml(document, force_multigraph=True)
    page = related(api_server, id=w.company, depth=3, at=NOW)
    assert set(g.nodes) == {n["id"] for n in page["nodes"]}
    assert g.number_of_edges() == len(page["links"])
    assert g.nodes[w.company]["sanctioned"] is True
    assert g.nodes[w.company]["listTypes"] == "DISHONEST_JUDGMENT_DEBTOR"
    assert g.graph["subjectId"] == w.company
    rel_of = {(a, b): d["relation"] for a, b, d in g.edges(data=True)}
    assert rel_of[(w.later_rep, w.company)] == "LEGAL_REPRESENTATIVE_OF"

    body = api_server.post(
        EXPORT,
        {"id": w.company, "depth": 3, "format": "CYTOSCAPE_JSON", "at": NOW},
        key="regulator-key",
    )
    assert "errors" not in body, body
    cy = json.loads(body["data"]["exportNeighbourhood"])
    assert {n["data"]["id"] for n in cy["elements"]["nodes"]} == set(g.nodes)
    edges = cy["elements"]["edges"]
    assert {e["data"]["id"] for e in edges} == {x["id"] for x in page["links"]}
    assert all({"source", "target", "relation", "validFrom"} <= set(e["data"]) for e in edges)
    assert all(n["data"]["kind"] != "HOUSEHOLD" for n in cy["elements"]["nodes"])
    # on 2025-01-01 legal_rep still led the company: his household joins the export
    then = api_server.post(
        EXPORT,
        {"id": w.company, "depth": 3, "format": "CYTOSCAPE_JSON", "at": "2025-01-01T00:00:00Z"},
        key="regulator-key",
    )
    nodes = {
        n["data"]["id"]: n["data"]
        for n in json.loads(then["data"]["exportNeighbourhood"])["elements"]["nodes"]
    }
    assert nodes[w.household]["kind"] == "HOUSEHOLD" and nodes[w.household]["distance"] == 2
    assert nodes[w.company]["sanctioned"] is False


async def test_bad_input_and_roles(api_server: ApiServer) -> None:
    w = build_shoe_world(api_server)

    def code(
        key: str = "regulator-key", query: str = RELATED, **variables: Any
    ) -> tuple[str | None, str]:
        return errors_of(api_server.post(query, variables, key=key))

    assert code(id=w.company, depth=4) == (
        "BAD_USER_INPUT",
        "maxDepth: 4 is above the maximum of 3",
    )
    assert code(id=w.company, depth=0)[0] == "BAD_USER_INPUT"
    inline = (
        f'{{ relatedParties(subjectId: "{w.company}", relations: [FRIEND_OF]) {{ totalCount }} }}'
    )
    c, message = errors_of(api_server.post(inline, key="regulator-key"))
    assert c == "BAD_USER_INPUT" and "FRIEND_OF" in message and "RelationType" in message
    assert code(id=w.company, rels=[])[0] == "BAD_USER_INPUT"
    assert code(id=w.company, first=0)[0] == "BAD_USER_INPUT"
    assert code(id=w.company, first=201)[0] == "BAD_USER_INPUT"
    c, message = code(id="91330302MA0000000X")
    assert c == "INVALID_ID" and message.startswith("subjectId:")
    c, message = code(id=person_id())
    assert c == "NOT_FOUND" and message.startswith("subjectId:")
    assert code(id=w.company, after="not-a-cursor") == (
        "BAD_USER_INPUT",
        "after: not a cursor returned by this query",
    )
    page = related(api_server, id=w.company, depth=2, first=1, at=NOW)
    other = code(id=w.company, depth=3, first=1, after=page["pageInfo"]["endCursor"])
    assert other[0] == "BAD_USER_INPUT" and other[1].startswith("after:")
    moved = code(
        id=w.company,
        depth=2,
        first=1,
        at="2025-01-01T00:00:00Z",
        after=page["pageInfo"]["endCursor"],
    )
    assert moved[0] == "BAD_USER_INPUT" and moved[1].startswith("at:")
    # without `at`, the next page reads at the time the first one did
    nxt = related(api_server, id=w.company, depth=2, first=1, after=page["pageInfo"]["endCursor"])
    assert nxt["at"] == page["at"]

    assert code(key="approval-key", id=w.company)[0] == "FORBIDDEN"
    assert code(key="public-key", id=w.company)[0] == "UNAUTHENTICATED"
    assert errors_of(api_server.post(RELATED, {"id": w.company}))[0] == "UNAUTHENTICATED"
    assert related(api_server, key="admin-key", id=w.company)["totalCount"] > 1
    assert code(query=EXPORT, key="approval-key", id=w.company, format="GRAPHML")[0] == "FORBIDDEN"
    assert code(query=EXPORT, id=w.company, format="GRAPHML", depth=5)[0] == "BAD_USER_INPUT"


async def test_an_unknown_relation_in_variables_is_bad_user_input(api_server: ApiServer) -> None:
    w = build_shoe_world(api_server)
    c, message = errors_of(
        api_server.post(RELATED, {"id": w.company, "rels": ["FRIEND_OF"]}, key="regulator-key")
    )
    assert c == "BAD_USER_INPUT" and "FRIEND_OF" in message and "$rels" in message
