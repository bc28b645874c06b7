"""Each integration test starts from an empty graph (schema and departments kept)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from graph_model.catalogue_sync import sync_departments
from graph_model.driver import Graph
from rules.loader import load_catalogue

WIPE = "MATCH (n) WHERE NOT n:Migration CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(autouse=True)
async def clean_graph(graph: Graph) -> AsyncIterator[None]:
    async with graph.driver.session(database=graph.database) as session:
        await (await session.run(WIPE)).consume()
    await sync_departments(graph, load_catalogue())
    yield
