"""The pure parts of the risk features: cursors, search input, config, export, clusters."""

from __future__ import annotations

import datetime as dt
import json
import re

import networkx as nx
import pytest

from api import export
from api.arguments import (
    clean_query,
    decode_cursor,
    depth_arg,
    encode_cursor,
    fingerprint,
    first_arg,
    relations_arg,
)
from domain.errors import BadUserInput
from domain.scoring import clusters
from domain.vocabulary import Rel
from graph_model.risk import search
from graph_model.risk.neighbourhood import NeighbourhoodPage, neighbourhood_query


def test_cursors_round_trip_and_refuse_strangers() -> None:
    at = dt.datetime(2026, 11, 1, 2, tzinfo=dt.UTC)
    mine = fingerprint("A", 2)
    cursor = encode_cursor("relatedParties", mine, [1, "B"], at=at)
    decoded = decode_cursor(cursor, "relatedParties", mine, arity=2)
    assert decoded.key == [1, "B"] and decoded.at == at
    with pytest.raises(BadUserInput, match="other arguments"):
        decode_cursor(cursor, "relatedParties", fingerprint("A", 3), arity=2)
    with pytest.raises(BadUserInput, match="not a cursor"):
        decode_cursor(cursor, "searchSubjects", mine, arity=2)
    for junk in ("", "!!!", "e30", "x" * 3000, encode_cursor("relatedParties", mine, [1])):
        with pytest.raises(BadUserInput):
            decode_cursor(junk, "relatedParties", mine, arity=2)


def test_argument_checks_name_the_input() -> None:
    with pytest.raises(BadUserInput, match=r"^maxDepth: 4 is above the maximum of 3$"):
        depth_arg(4, maximum=3)
    with pytest.raises(BadUserInput, match=r"^maxDepth:"):
        depth_arg(0, maximum=3)
    with pytest.raises(BadUserInput, match=r"^first:"):
        first_arg(201, maximum=200)
    with pytest.raises(BadUserInput, match=r"^relations:"):
        relations_arg([])
    assert relations_arg(None) == tuple(Rel)
    assert relations_arg([Rel.MEMBER_OF, Rel.LEGAL_REPRESENTATIVE_OF, Rel.MEMBER_OF]) == (
        Rel.LEGAL_REPRESENTATIVE_OF,
        Rel.MEMBER_OF,
    )


def test_lucene_input_is_escaped_words_and_ids_are_prefixes() -> None:
    assert search.lucene_words("瓯江 鞋业") == '"瓯江" AND "鞋业"'
    assert search.lucene_words('a"b (c) *:* x~2 ^3 \\ /') == (
        '"a\\"b" AND "\\(c\\)" AND "x\\~2" AND "\\^3"'  # words without letters are dropped
    )
    assert search.lucene_words("( ) - &&") is None
    assert search.id_prefix(" 91330302ma ") == "91330302MA"
    assert search.id_prefix("9") is None  # too short to be worth a prefix
    assert search.id_prefix("瓯江") is None
    assert search.id_prefix("91330302MA01234567X") is None  # longer than an id
    with pytest.raises(BadUserInput, match=r"^query: must not be blank$"):
        clean_query("  \t ")
    assert clean_query("  瓯江   鞋业 ") == "瓯江 鞋业"


def test_the_neighbourhood_query_is_bounded_text() -> None:
    """Every hop is written out: no variable-length relationship pattern anywhere."""
    query = neighbourhood_query(tuple(Rel))
    assert re.search(r"-\[[^\]]*\*", query) is None
    assert query.count("MATCH (a)-[r:") == 2  # levels 2 and 3 (level 1 starts at the centre)


def page() -> NeighbourhoodPage:
    def node(i: str, kind: str, distance: int, **extra: object) -> dict[str, object]:
        return {
            "node": {"id": i, "kind": kind, "name": f"名{i}", "district": "330302"},
            "distance": distance, "degree": 1, "expanded": True, "capped": False,
            "sanctions": [], "links": [], **extra,
        }  # fmt: skip

    link = {
        "id": "L1", "from": "P", "to": "E", "relation": "LEGAL_REPRESENTATIVE_OF", "ratio": None,
        "role": None, "validFrom": dt.date(2020, 1, 1), "validTo": None,
    }  # fmt: skip
    sanction = {"id": "S1", "listType": "DISHONEST_JUDGMENT_DEBTOR", "kind": "BLACK"}
    return NeighbourhoodPage(
        subject_id="E", at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC), depth=2,
        relations=tuple(Rel), degree_cap=200, total=3, truncated=False, has_more=False,
        capped=[],
        nodes=[
            node("E", "ENTERPRISE", 0, sanctions=[sanction]),
            node("P", "PERSON", 1, links=[link]),
            node("H", "HOUSEHOLD", 2),
        ],
    )  # fmt: skip


def test_graphml_and_cytoscape_documents() -> None:
    g = nx.parse_graphml(export.export(page(), export.ExportFormat.GRAPHML), force_multigraph=True)
    assert set(g.nodes) == {"E", "P", "H"}
    assert (
        g.nodes["E"]["sanctioned"] is True
        and g.nodes["E"]["listTypes"] == "DISHONEST_JUDGMENT_DEBTOR"
    )
    assert g.nodes["H"]["kind"] == "HOUSEHOLD"
    [(a, b, data)] = list(g.edges(data=True))
    assert (a, b, data["relation"], data["validFrom"]) == (
        "P",
        "E",
        "LEGAL_REPRESENTATIVE_OF",
        "2020-01-01",
    )
    assert "ratio" not in data  # absent values are left out
    cy = json.loads(export.export(page(), export.ExportFormat.CYTOSCAPE_JSON))
    assert [n["data"]["id"] for n in cy["elements"]["nodes"]] == ["E", "P", "H"]
    assert cy["elements"]["edges"] == [
        {"data": {"id": "L1", "source": "P", "target": "E", "relation": "LEGAL_REPRESENTATIVE_OF",
                  "validFrom": "2020-01-01"}}
    ]  # fmt: skip
    assert cy["data"]["subjectId"] == "E"


def test_clusters_are_deterministic_and_explained() -> None:
    def member(i: str, sanctioned: bool) -> dict[str, object]:
        sanctions = [{"id": f"S{i}", "subjectId": i}] if sanctioned else []
        return {"subject": {"id": i}, "sanctions": sanctions}

    members = [member("A", True), member("B", True), member("P", False), member("Q", False)]
    members += [member("X", True), member("Y", False), member("Z", False)]
    bonds = [
        {"a": "P", "b": "A", "basis": "LEGAL_REPRESENTATIVE_OF", "ref": "L1"},
        {"a": "P", "b": "B", "basis": "LEGAL_REPRESENTATIVE_OF", "ref": "L2"},
        {"a": "Q", "b": "A", "basis": "SHARED_ADDRESS", "ref": None},
        {"a": "A", "b": "Q", "basis": "SHARED_ADDRESS", "ref": None},  # found from both ends
        {"a": "X", "b": "Y", "basis": "SHARED_HOUSEHOLD", "ref": "H1"},
        {"a": "X", "b": "Z", "basis": "OPERATOR_OF", "ref": "L3"},
    ]
    first = clusters.build_clusters(members, bonds, min_size=3, seed=7)
    again = clusters.build_clusters(
        list(reversed(members)), list(reversed(bonds)), min_size=3, seed=7
    )
    assert first == again
    assert [[m["subject"]["id"] for m in c.members] for c in first] == [
        ["A", "B", "P", "Q"],
        ["X", "Y", "Z"],
    ]
    assert first[0].bond_counts == {"LEGAL_REPRESENTATIVE_OF": 2, "SHARED_ADDRESS": 1}
    assert "2 sanctioned" in first[0].why
    assert clusters.build_clusters(members, bonds, min_size=4, seed=7)[0].id == first[0].id
