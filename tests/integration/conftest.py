"""Each integration test starts from an empty graph (schema and departments kept)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from graph_model.driver import Graph
from tests.integration.helpers import WIPE, wipe_graph

__all__ = ["WIPE"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(autouse=True)
async def clean_graph(graph: Graph) -> AsyncIterator[None]:
    await wipe_graph(graph)
    yield
