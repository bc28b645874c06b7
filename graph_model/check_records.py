"""The closed loop: every check recorded, feedback on it, statistics over both.

Recording must not cost the check its speed, so records are buffered and written in
UNWIND batches by one background task; `flush()` is awaited before anything reads
records (feedback, statistics) so a caller never misses its own check. A check asked
alone is one `CheckRecord`; a batchCheck call is one `CheckBatch` holding its checks as
parallel lists in input order (ids in `graph_model.check_ids`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid
from typing import Any

from neo4j import AsyncManagedTransaction

from graph_model.check_ids import split_batch_item
from graph_model.checks import CheckOutcome
from graph_model.driver import Graph
from graph_model.errors import BadUserInput, Conflict, CreditLinkError, Forbidden, NotFound
from graph_model.labels import Label, SystemRel
from graph_model.values import epoch_pair, native

log = logging.getLogger(__name__)


def _write_rows(label: Label, *, again: bool = False) -> str:
    # instants arrive as epoch pairs (values.epoch_pair) and become DateTimes here
    node = (
        f"MERGE (c:{label.value} {{id: row.id}}) ON CREATE SET"
        if again
        else f"CREATE (c:{label.value}) SET"
    )
    return (
        f"UNWIND $rows AS row {node} "
        "c = row {.*, at: datetime({epochSeconds: row.at[0], nanosecond: row.at[1]}), "
        "askedAt: datetime({epochSeconds: row.askedAt[0], nanosecond: row.askedAt[1]})}"
    )


WRITE_RECORDS = _write_rows(Label.CHECK_RECORD)
WRITE_BATCHES = _write_rows(Label.CHECK_BATCH)
# After a failed write its rows may have landed: a connection lost during COMMIT leaves
# that unknown (the driver's IncompleteCommit). Written again with CREATE, rows that had
# landed would break the id constraint on every retry and hold up all later records;
# MERGE on the id keeps those as they are and creates the rest.
WRITE_AGAIN = {
    WRITE_RECORDS: _write_rows(Label.CHECK_RECORD, again=True),
    WRITE_BATCHES: _write_rows(Label.CHECK_BATCH, again=True),
}
# the feedback node, on the check's record `c` (a CheckRecord or a CheckBatch)
_CREATE_FEEDBACK_ON_C = (
    f"CREATE (f:{Label.FEEDBACK.value} {{id: $id, checkId: $checkId, outcome: $outcome, "
    "note: $note, department: $department, keyName: $keyName, recordedAt: datetime()})"
    f"-[:{SystemRel.ON_CHECK.value}]->(c) "
)
_FEEDBACK_FIELDS = "RETURN f {.id, .checkId, .outcome, .note, .recordedAt} AS feedback"
GET_RECORD = (
    f"MATCH (c:{Label.CHECK_RECORD.value} {{id: $checkId}}) "
    f"OPTIONAL MATCH (f:{Label.FEEDBACK.value})-[:{SystemRel.ON_CHECK.value}]->(c) "
    "RETURN c {.*} AS record, f.id AS feedbackId"
)
CREATE_FEEDBACK = (
    f"MATCH (c:{Label.CHECK_RECORD.value} {{id: $checkId}}) "
    + _CREATE_FEEDBACK_ON_C
    + "SET c.feedbackOutcome = $outcome "
    + _FEEDBACK_FIELDS
)
GET_BATCH_ITEM = (
    f"MATCH (b:{Label.CHECK_BATCH.value} {{id: $batchId}}) WHERE $position < b.size "
    f"OPTIONAL MATCH (f:{Label.FEEDBACK.value} {{checkId: $checkId}})"
    f"-[:{SystemRel.ON_CHECK.value}]->(b) "
    "RETURN b {.department, .keyName} AS record, f.id AS feedbackId"
)
CREATE_BATCH_FEEDBACK = (
    f"MATCH (c:{Label.CHECK_BATCH.value} {{id: $batchId}}) "
    + _CREATE_FEEDBACK_ON_C
    + _FEEDBACK_FIELDS
)
_IN_WINDOW = (
    "WHERE {v}.askedAt >= $from AND {v}.askedAt < $to "
    "AND ($department IS NULL OR {v}.department = $department) "
    "AND ($area IS NULL OR {v}.area = $area) "
)
# a single check's feedback is on its record (`feedbackOutcome`); a batch's are the
# Feedback nodes on the batch, counted per batch before the batches are summed
LINKAGE_STATS = (
    "CALL () {\n"
    f"MATCH (c:{Label.CHECK_RECORD.value}) "
    + _IN_WINDOW.format(v="c")
    + "RETURN c.department AS department, c.area AS area, count(*) AS checks, "
    "count(CASE WHEN c.hit THEN 1 END) AS hits, "
    "count(c.feedbackOutcome) AS feedbacks, "
    "count(CASE WHEN c.feedbackOutcome = 'APPLIED' THEN 1 END) AS applied, "
    "count(CASE WHEN c.feedbackOutcome = 'PARTIALLY_APPLIED' THEN 1 END) AS partiallyApplied, "
    "count(CASE WHEN c.feedbackOutcome = 'NOT_APPLIED' THEN 1 END) AS notApplied\n"
    "UNION ALL\n"
    f"MATCH (b:{Label.CHECK_BATCH.value}) "
    + _IN_WINDOW.format(v="b")
    + f"OPTIONAL MATCH (f:{Label.FEEDBACK.value})-[:{SystemRel.ON_CHECK.value}]->(b) "
    "WITH b, count(f) AS feedbacks, "
    "count(CASE WHEN f.outcome = 'APPLIED' THEN 1 END) AS applied, "
    "count(CASE WHEN f.outcome = 'PARTIALLY_APPLIED' THEN 1 END) AS partiallyApplied, "
    "count(CASE WHEN f.outcome = 'NOT_APPLIED' THEN 1 END) AS notApplied "
    "RETURN b.department AS department, b.area AS area, sum(b.size) AS checks, "
    "sum(b.hits) AS hits, sum(feedbacks) AS feedbacks, sum(applied) AS applied, "
    "sum(partiallyApplied) AS partiallyApplied, sum(notApplied) AS notApplied\n"
    "}\n"
    "RETURN department, area, sum(checks) AS checks, sum(hits) AS hits, "
    "sum(feedbacks) AS feedbacks, sum(applied) AS applied, "
    "sum(partiallyApplied) AS partiallyApplied, sum(notApplied) AS notApplied "
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
        self._batches: list[dict[str, Any]] = []
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._written = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        # the queries whose first rows were in a failed write (see WRITE_AGAIN)
        self._maybe_landed: set[str] = set()
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
        """Buffer one check asked alone (a `record_row`)."""
        if not self.enabled:
            return
        self._pending.append(row)
        if self.pending >= self.batch_size:
            self._wake.set()

    def record_batch(self, row: dict[str, Any]) -> None:
        """Buffer one batchCheck call (a `batch_row`), which counts as its checks."""
        if not self.enabled:
            return
        self._batches.append(row)
        if self.pending >= self.batch_size:
            self._wake.set()

    @property
    def pending(self) -> int:
        """Checks buffered and not yet written."""
        # a few batch rows at most wait (the buffer is bounded), so summing is cheap
        return len(self._pending) + sum(int(row["size"]) for row in self._batches)

    async def make_room(self) -> None:
        """Return once at most `max_pending` records wait to be written.

        Callers that check faster than Neo4j can record are slowed to the rate records
        land: the buffer stays bounded, and a throughput figure counts the writes its
        checks cost instead of leaving them to drain after the run. While records cannot
        be written at all (Neo4j away) a caller waits `room_timeout` and goes on; the
        records stay buffered, never dropped.
        """
        if self.pending <= self.max_pending:
            return
        self._wake.set()
        async with self._written:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._written.wait_for(lambda: self.pending <= self.max_pending),
                    self.room_timeout,
                )

    async def flush(self) -> None:
        """Write every record buffered when this is called.

        Records buffered while it writes wait for the next flush. Draining until the
        buffer is empty instead would, under steady load, chase the records that arrive
        during each write: back-to-back transactions of a few rows each (65-95 a second
        at 500 checks/s, against the 20 the interval allows), each with a fixed cost in
        this process and in Neo4j (bench/README.md, "What was tried").
        """
        async with self._lock:
            singles, batches = len(self._pending), len(self._batches)
            while singles or batches:
                if singles:
                    count = min(singles, self.batch_size)
                    await self._write(WRITE_RECORDS, self._pending, count)
                    singles -= count
                if batches:
                    # whole calls, up to about `batch_size` checks per transaction
                    taken, checks = 0, 0
                    while taken < batches and checks < self.batch_size:
                        checks += self._batches[taken]["size"]
                        taken += 1
                    await self._write(WRITE_BATCHES, self._batches, taken)
                    batches -= taken
                async with self._written:
                    self._written.notify_all()

    async def _write(self, query: str, rows: list[dict[str, Any]], count: int) -> None:
        """Write the first `count` of `rows` in one transaction, then drop them from it."""
        chunk = rows[:count]
        sent = WRITE_AGAIN[query] if query in self._maybe_landed else query
        try:
            await self.graph.write(sent, {"rows": chunk}, name="checkRecords.write")
        except BaseException:
            # failed, or cancelled by `stop` while the shielded write goes on: the rows
            # stay first in `rows`, so the next write of this query holds them
            self._maybe_landed.add(query)
            raise
        self._maybe_landed.discard(query)
        del rows[: len(chunk)]
        # The driver keeps a copy of the parameters in per-query objects that form
        # reference cycles, so the rows would live until a full GC and make every full
        # collection walk them: emptied, they are freed now.
        chunk.clear()

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


def batch_row(
    *,
    batch_id: str,
    outcomes: list[CheckOutcome],
    area: str,
    at: dt.datetime,
    department: str | None,
    key_name: str,
    asked_at: dt.datetime,
) -> dict[str, Any]:
    """One batchCheck call's record: its checks as parallel lists in input order.

    Neo4j properties cannot nest lists, so each check's measure and sanction ids are
    concatenated into one list, with per-check counts to cut it back apart.
    """
    measure_ids: list[str] = []
    measure_counts: list[int] = []
    sanction_ids: list[str] = []
    sanction_counts: list[int] = []
    decisions: list[str] = []
    hits = 0
    for outcome in outcomes:
        decisions.append(outcome.decision)
        hits += outcome.decision != "CLEAR"
        measure_ids.extend(m.measure.id for m in outcome.measures)
        measure_counts.append(len(outcome.measures))
        sanctions = sorted({m.sanction["id"] for m in outcome.measures})
        sanction_ids.extend(sanctions)
        sanction_counts.append(len(sanctions))
    return {
        "id": batch_id,
        "size": len(outcomes),
        "hits": hits,
        "area": area,
        "at": epoch_pair(at),
        "askedAt": epoch_pair(asked_at),
        "subjectIds": [o.subject_id for o in outcomes],
        "subjectKnown": [o.subject_known for o in outcomes],
        "decisions": decisions,
        "measureIds": measure_ids,
        "measureCounts": measure_counts,
        "sanctionIds": sanction_ids,
        "sanctionCounts": sanction_counts,
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

    item = split_batch_item(check_id)
    if item is None:
        get_record, create_feedback = GET_RECORD, CREATE_FEEDBACK
        keys: dict[str, Any] = {"checkId": check_id}
    else:
        get_record, create_feedback = GET_BATCH_ITEM, CREATE_BATCH_FEEDBACK
        keys = {"checkId": check_id, "batchId": item[0], "position": item[1]}

    async def work(tx: AsyncManagedTransaction) -> dict[str, Any]:
        found = await (await tx.run(get_record, keys)).single()
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
            **keys,
            "id": f"F{uuid.uuid4().hex}",
            "outcome": outcome,
            "note": note,
            "department": department,
            "keyName": key_name,
        }
        created = await (await tx.run(create_feedback, params)).single()
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
