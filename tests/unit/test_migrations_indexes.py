"""graph_model.migrations.await_indexes alone, with a stand-in Graph: polls until every
index is ONLINE, reports progress, and fails clearly on a FAILED index or a timeout."""

from __future__ import annotations

from typing import Any

import pytest

from domain.errors import InternalError, ServiceUnavailable
from graph_model.migrations import INDEXES_NOT_ONLINE, await_indexes


class _Graph:
    def __init__(self, polls: list[list[dict[str, Any]]]) -> None:
        self.polls = polls
        self.queries: list[str] = []

    async def read(self, query: str, params: Any = None, *, name: str = "") -> Any:
        self.queries.append(query)
        return self.polls[min(len(self.queries), len(self.polls)) - 1]


def _populating(percent: float) -> dict[str, Any]:
    return {"name": "subject_id_unique", "state": "POPULATING", "populationPercent": percent}


async def test_waits_until_no_index_is_populating_and_reports_each_poll() -> None:
    graph = _Graph([[_populating(10.0)], [_populating(80.0)], []])
    seen: list[float] = []
    await await_indexes(
        graph,  # type: ignore[arg-type]
        poll=0.001,
        progress=lambda rows: seen.append(rows[0]["populationPercent"]),
    )
    assert graph.queries == [INDEXES_NOT_ONLINE] * 3
    assert seen == [10.0, 80.0]


async def test_a_failed_index_is_an_error_naming_it() -> None:
    failed = {"name": "subject_name_fulltext", "state": "FAILED", "populationPercent": 3.0}
    graph = _Graph([[failed]])
    with pytest.raises(InternalError, match="subject_name_fulltext"):
        await await_indexes(graph, poll=0.001)  # type: ignore[arg-type]


async def test_gives_up_after_the_timeout_naming_what_still_populates() -> None:
    graph = _Graph([[_populating(42.0)]])
    with pytest.raises(ServiceUnavailable, match="subject_id_unique 42%"):
        await await_indexes(graph, timeout=0.01, poll=0.005)  # type: ignore[arg-type]
