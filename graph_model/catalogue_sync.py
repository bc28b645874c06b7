"""Mirror the catalogue's departments into the graph, so sanctions can hang off them."""

from __future__ import annotations

from domain.vocabulary import Label
from graph_model.driver import Graph
from rules.models import Catalogue

SYNC_DEPARTMENTS = (
    f"UNWIND $rows AS row MERGE (d:{Label.DEPARTMENT.value} {{id: row.id}}) SET d.name = row.name"
)


async def sync_departments(graph: Graph, catalogue: Catalogue) -> None:
    rows = [{"id": d.id, "name": d.name} for d in catalogue.departments.values()]
    await graph.write(SYNC_DEPARTMENTS, {"rows": rows}, name="catalogue.syncDepartments")
