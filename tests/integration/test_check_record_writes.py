"""CheckRecords written again after a write whose outcome is unknown.

A connection lost during COMMIT leaves it unknown whether a write's rows landed. The
recorder keeps the rows and writes them again; with CREATE, rows that had landed would
break the id constraint on every retry and hold up every later record. Against the real
Neo4j: the again-queries create only what is missing, and a recorder whose first write
lands but reports a failure ends with every check recorded once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from domain.errors import Conflict, ServiceUnavailable
from domain.vocabulary import Label
from graph_model.check_records import (
    WRITE_AGAIN,
    WRITE_BATCHES,
    WRITE_RECORDS,
    CheckRecorder,
    batch_row,
    record_row,
)
from graph_model.driver import Graph
from rules.decision import CheckOutcome

AT = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)


def _row(check_id: str, decision: str = "CLEAR") -> dict[str, Any]:
    return record_row(
        check_id=check_id,
        subject_id="S1",
        subject_known=True,
        area="CONVENIENCE_SERVICES",
        at=AT,
        decision=decision,
        measure_ids=[],
        sanction_ids=[],
        department="dept-a",
        key_name="key-a",
        asked_at=AT,
    )


async def _records(graph: Graph, label: Label) -> dict[str, Any]:
    rows = await graph.read(
        f"MATCH (c:{label.value}) RETURN c.id AS id, c.decision AS decision, "
        "c.decisions AS decisions"
    )
    return {row["id"]: row["decision"] or row["decisions"] for row in rows}


async def test_records_written_again_are_created_once(graph: Graph) -> None:
    await graph.write(WRITE_RECORDS, {"rows": [_row("C1", "PROHIBITED"), _row("C2")]})
    with pytest.raises(Conflict):  # why the retry cannot simply create them again
        await graph.write(WRITE_RECORDS, {"rows": [_row("C1"), _row("C2"), _row("C3")]})
    await graph.write(
        WRITE_AGAIN[WRITE_RECORDS], {"rows": [_row("C1"), _row("C2"), _row("C3", "ALERT")]}
    )
    assert await _records(graph, Label.CHECK_RECORD) == {
        "C1": "PROHIBITED",  # the landed row is kept as it was
        "C2": "CLEAR",
        "C3": "ALERT",
    }


async def test_batches_written_again_are_created_once(graph: Graph) -> None:
    def batch(batch_id: str) -> dict[str, Any]:
        outcome = CheckOutcome(
            check_id=f"{batch_id}-0",
            subject_id="S1",
            subject_known=True,
            area="CONVENIENCE_SERVICES",
            at=AT,
            decision="CLEAR",
            measures=[],
        )
        return batch_row(
            batch_id=batch_id,
            outcomes=[outcome],
            area="CONVENIENCE_SERVICES",
            at=AT,
            department="dept-a",
            key_name="key-a",
            asked_at=AT,
        )

    await graph.write(WRITE_BATCHES, {"rows": [batch("B1")]})
    await graph.write(WRITE_AGAIN[WRITE_BATCHES], {"rows": [batch("B1"), batch("B2")]})
    assert await _records(graph, Label.CHECK_BATCH) == {"B1": ["CLEAR"], "B2": ["CLEAR"]}


class _CommitLostOnce(Graph):
    """The real graph, except that its first write lands and then reports a lost
    connection, as the driver's IncompleteCommit does."""

    def __init__(self, graph: Graph) -> None:
        super().__init__(graph.driver, graph.database)
        self.lost = False

    async def write(
        self, query: str, params: dict[str, Any] | None = None, *, name: str = "write"
    ) -> list[dict[str, Any]]:
        rows = await super().write(query, params, name=name)
        if not self.lost:
            self.lost = True
            raise ServiceUnavailable("Neo4j is unreachable; try again shortly")
        return rows


async def test_a_recorder_whose_write_landed_unacknowledged_records_each_check_once(
    graph: Graph,
) -> None:
    recorder = CheckRecorder(_CommitLostOnce(graph))
    for n in range(3):
        recorder.record(_row(f"C{n}"))
    with pytest.raises(ServiceUnavailable):
        await recorder.flush()
    assert recorder.pending == 3  # kept, as its outcome is unknown
    recorder.record(_row("C3"))
    await recorder.flush()
    assert recorder.pending == 0
    assert sorted(await _records(graph, Label.CHECK_RECORD)) == ["C0", "C1", "C2", "C3"]
