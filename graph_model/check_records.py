"""The closed loop: every check recorded, feedback on it, statistics over both.

Recording must not cost the check its speed, so records are buffered and written in
UNWIND batches by one background task; `flush()` is awaited before anything reads
records (feedback, statistics) so a caller never misses its own check.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid
from typing import Any

from neo4j import AsyncManagedTransaction

from graph_model.driver import Graph
from graph_model.errors import BadUserInput, Conflict, CreditLinkError, Forbidden, NotFound
from graph_model.labels import Label, SystemRel
from graph_model.values import epoch_pair, native

log = logging.getLogger(__name__)

# instants arrive as epoch pairs (values.epoch_pair) and become DateTimes here
WRITE_RECORDS = (
    f"UNWIND $rows AS row CREATE (c:{Label.CHECK_RECORD.value}) "
    "SET c = row {.*, at: datetime({epochSeconds: row.at[0], nanosecond: row.at[1]}), "
    "askedAt: datetime({epochSeconds: row.askedAt[0], nanosecond: row.askedAt[1]})}"
)
GET_RECORD = (
    f"MATCH (c:{Label.CHECK_RECORD.value} {{id: $id}}) "
    f"OPTIONAL MATCH (f:{Label.FEEDBACK.value})-[:{SystemRel.ON_CHECK.value}]->(c) "
    "RETURN c {.*} AS record, f.id AS feedbackId"
)
CREATE_FEEDBACK = (
    f"MATCH (c:{Label.CHECK_RECORD.value} {{id: $checkId}}) "
    f"CREATE (f:{Label.FEEDBACK.value} {{id: $id, checkId: $checkId, outcome: $outcome, "
    "note: $note, department: $department, keyName: $keyName, recordedAt: datetime()})"
    f"-[:{SystemRel.ON_CHECK.value}]->(c) "
    "SET c.feedbackOutcome = $outcome "
    "RETURN f {.id, .checkId, .outcome, .note, .recordedAt} AS feedback"
)
LINKAGE_STATS = (
    f"MATCH (c:{Label.CHECK_RECORD.value}) "
    "WHERE c.askedAt >= $from AND c.askedAt < $to "
    "AND ($department IS NULL OR c.department = $department) "
    "AND ($area IS NULL OR c.area = $area) "
    "RETURN c.department AS department, c.area AS area, count(*) AS checks, "
    "count(CASE WHEN c.hit THEN 1 END) AS hits, "
    "count(c.feedbackOutcome) AS feedbacks, "
    "count(CASE WHEN c.feedbackOutcome = 'APPLIED' THEN 1 END) AS applied, "
    "count(CASE WHEN c.feedbackOutcome = 'PARTIALLY_APPLIED' THEN 1 END) AS partiallyApplied, "
    "count(CASE WHEN c.feedbackOutcome = 'NOT_APPLIED' THEN 1 END) AS notApplied "
    "ORDER BY department, area"
)

FEEDBACK_OUTCOMES = frozenset({"APPLIED", "NOT_APPLIED", "PARTIALLY_APPLIED"})
MAX_NOTE = 1000


class CheckRecorder:
    def __init__(
        self,
        graph: Graph,
        *,
        batch_size: int = 2000,
        interval: float = 0.05,
        max_pending: int = 10_000,
        room_timeout: float = 10.0,
    ) -> None:
        self.graph = graph
        self.batch_size = batch_size
        self.interval = interval
        self.max_pending = max_pending
        self.room_timeout = room_timeout
        self._pending: list[dict[str, Any]] = []
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._written = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self.enabled = True

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(CreditLinkError):
            await self.flush()

    def record(self, row: dict[str, Any]) -> None:
        if not self.enabled:
            return
        self._pending.append(row)
        if len(self._pending) >= self.batch_size:
            self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def make_room(self) -> None:
        """Return once at most `max_pending` records wait to be written.

        Callers that check faster than Neo4j can record are slowed to the rate records
        land: the buffer stays bounded, and a throughput figure counts the writes its
        checks cost instead of leaving them to drain after the run. While records cannot
        be written at all (Neo4j away) a caller waits `room_timeout` and goes on; the
        records stay buffered, never dropped.
        """
        if len(self._pending) <= self.max_pending:
            return
        self._wake.set()
        async with self._written:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._written.wait_for(lambda: len(self._pending) <= self.max_pending),
                    self.room_timeout,
                )

    async def flush(self) -> None:
        async with self._lock:
            while self._pending:
                batch = self._pending[: self.batch_size]
                await self.graph.write(WRITE_RECORDS, {"rows": batch}, name="checkRecords.write")
                del self._pending[: len(batch)]
                # The driver keeps a copy of the parameters in per-query objects that form
                # reference cycles, so the rows would live until a full GC and make every
                # full collection walk them: emptied, they are freed now.
                batch.clear()
                async with self._written:
                    self._written.notify_all()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()
            try:
                await self.flush()
            except CreditLinkError as exc:
                # Neo4j is away: keep the records and try again, never drop them
                log.warning("check records not yet written", extra={"reason": exc.message})
                await asyncio.sleep(1.0)


def record_row(
    *,
    check_id: str,
    subject_id: str,
    subject_known: bool,
    area: str,
    at: dt.datetime,
    decision: str,
    measure_ids: list[str],
    sanction_ids: list[str],
    department: str | None,
    key_name: str,
    asked_at: dt.datetime,
) -> dict[str, Any]:
    return {
        "id": check_id,
        "subjectId": subject_id,
        "subjectKnown": subject_known,
        "area": area,
        "at": epoch_pair(at),
        "askedAt": epoch_pair(asked_at),
        "decision": decision,
        "hit": decision != "CLEAR",
        "measureIds": measure_ids,
        "sanctionIds": sorted(set(sanction_ids)),
        "department": department,
        "keyName": key_name,
    }


async def record_feedback(
    graph: Graph,
    recorder: CheckRecorder,
    *,
    check_id: str,
    outcome: str,
    note: str | None,
    department: str | None,
    key_name: str,
    any_department: bool,
) -> dict[str, Any]:
    if outcome not in FEEDBACK_OUTCOMES:
        raise BadUserInput(
            f"input.outcome: unknown outcome {outcome[:40]!r}", field="input.outcome"
        )
    if note is not None and len(note) > MAX_NOTE:
        raise BadUserInput(f"input.note: longer than {MAX_NOTE} characters", field="input.note")
    await recorder.flush()

    async def work(tx: AsyncManagedTransaction) -> dict[str, Any]:
        found = await (await tx.run(GET_RECORD, id=check_id)).single()
        if found is None:
            raise NotFound(f"input.checkId: no check {check_id[:60]}", field="input.checkId")
        record = found["record"]
        mine = (
            record.get("department") == department
            if department is not None
            else record.get("keyName") == key_name
        )
        if not (mine or any_department):
            raise Forbidden(
                "input.checkId: feedback may only be recorded on your own department's checks",
                field="input.checkId",
            )
        if found["feedbackId"] is not None:
            raise Conflict(
                f"input.checkId: feedback on check {check_id} is already recorded",
                field="input.checkId",
            )
        params = {
            "checkId": check_id,
            "id": f"F{uuid.uuid4().hex}",
            "outcome": outcome,
            "note": note,
            "department": department,
            "keyName": key_name,
        }
        created = await (await tx.run(CREATE_FEEDBACK, params)).single()
        assert created is not None
        return dict(native(created["feedback"]))

    return await graph.write_tx(work, name="recordFeedback")


async def linkage_stats(
    graph: Graph,
    recorder: CheckRecorder,
    *,
    start: dt.datetime,
    end: dt.datetime,
    department: str | None,
    area: str | None,
) -> list[dict[str, Any]]:
    if end <= start:
        raise BadUserInput("to: must be after from", field="to")
    await recorder.flush()
    params = {"from": start, "to": end, "department": department, "area": area}
    return await graph.read(LINKAGE_STATS, params, name="linkageStats")
