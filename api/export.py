"""exportNeighbourhood: a neighbourhood as GraphML or Cytoscape JSON, for analysts' tools.

Nodes carry the subject's kind, name, district, distance, degree, whether it is a capped
super-node and whether a black- or watch-list entry applies (with the list types); links
carry their id, relation, ratio, role and dates. Absent values are left out (GraphML has
no null). The graph's own attributes say which subject, depth, relations and time.
Writing a document of thousands of nodes is CPU work: the resolver runs `export` in an
analytics worker process (`api.analytics`), bounded in time.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

import networkx as nx

from domain.vocabulary import PUNITIVE_KINDS
from graph_model.risk.neighbourhood import NeighbourhoodPage


class ExportFormat(StrEnum):
    GRAPHML = "GRAPHML"
    CYTOSCAPE_JSON = "CYTOSCAPE_JSON"


def _scalar(value: Any) -> str | int | float | bool:
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _clean(data: dict[str, Any]) -> dict[str, str | int | float | bool]:
    return {k: _scalar(v) for k, v in data.items() if v is not None}


def node_data(item: dict[str, Any]) -> dict[str, str | int | float | bool]:
    node = item["node"]
    punitive = [s for s in item["sanctions"] if s["kind"] in PUNITIVE_KINDS]
    return _clean(
        {
            "label": node.get("name") or node["id"],
            "kind": node.get("kind"),
            "name": node.get("name"),
            "district": node.get("district"),
            "distance": item["distance"],
            "degree": item["degree"],
            "capped": item["capped"],
            "sanctioned": bool(punitive),
            "listTypes": ",".join(sorted({s["listType"] for s in item["sanctions"]})) or None,
        }
    )


def link_data(link: dict[str, Any]) -> dict[str, str | int | float | bool]:
    return _clean(
        {
            "id": link["id"],
            "relation": link["relation"],
            "ratio": link.get("ratio"),
            "role": link.get("role"),
            "validFrom": link.get("validFrom"),
            "validTo": link.get("validTo"),
        }
    )


def graph_data(page: NeighbourhoodPage) -> dict[str, str | int | float | bool]:
    return _clean(
        {
            "subjectId": page.subject_id,
            "at": page.at.isoformat(),
            "maxDepth": page.depth,
            "relations": ",".join(r.value for r in page.relations),
            "degreeCap": page.degree_cap,
            "nodeCount": page.total,
            "truncated": page.truncated or page.has_more,
            "cappedNodes": ",".join(c["id"] for c in page.capped) or None,
        }
    )


def to_networkx(page: NeighbourhoodPage) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph(**graph_data(page))
    for item in page.nodes:
        g.add_node(item["node"]["id"], **node_data(item))
    for item in page.nodes:
        for link in item["links"]:
            g.add_edge(link["from"], link["to"], key=link["id"], **link_data(link))
    return g


def to_graphml(page: NeighbourhoodPage) -> str:
    return "\n".join(nx.generate_graphml(to_networkx(page))) + "\n"


def to_cytoscape(page: NeighbourhoodPage) -> str:
    """Cytoscape.js JSON: {data, elements: {nodes: [{data}], edges: [{data}]}}."""
    nodes = [{"data": {"id": item["node"]["id"], **node_data(item)}} for item in page.nodes]
    edges = [
        {"data": {**link_data(link), "source": link["from"], "target": link["to"]}}
        for item in page.nodes
        for link in item["links"]
    ]
    document = {"data": graph_data(page), "elements": {"nodes": nodes, "edges": edges}}
    return json.dumps(document, ensure_ascii=False, sort_keys=True)


def export(page: NeighbourhoodPage, fmt: ExportFormat) -> str:
    if fmt is ExportFormat.GRAPHML:
        return to_graphml(page)
    return to_cytoscape(page)
