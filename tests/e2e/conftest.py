"""End-to-end tests: the real app over a real Neo4j, driven in a real headless browser."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from graph_model.driver import Graph
from tests.integration.helpers import wipe_graph


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e" in str(item.fspath) and "graph" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
async def empty_graph(graph: Graph) -> AsyncIterator[Graph]:
    """An empty graph (schema and departments kept), as each integration test starts from."""
    await wipe_graph(graph)
    yield graph
