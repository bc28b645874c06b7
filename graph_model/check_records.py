"""The closed loop: every check recorded, feedback on it, statistics over both.

Recording must not cost the check its speed, so records are buffered and written in
UNWIND batches by one background task; `flush()` is awaited before anything reads
records (feedback, statistics) so a caller never misses its own check. A check asked
alone is one `CheckRecord`; a batchCheck call is one `CheckBatch` holding its checks as
parallel lists in input order (ids in `domain.check_ids`).

The buffer (`RecordBuffer`, shared with `graph_model.access_records`) is bounded: when
records cannot be written for longer than its outage limit, or it holds its most, new
checks are refused before they are answered, never answered without a record. With a
journal (`graph_model.journal`) every buffered record is also on local disk before the
answer leaves (`durable`), so a process killed before its flush loses none: the next
start replays what it left (`recover`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
import uuid
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from neo4j import AsyncManagedTransaction

from domain.check_ids import issued_at, split_batch_item
from domain.errors import (
    BadUserInput,
    Conflict,
    CreditLinkError,
    Forbidden,
    NotFound,
    ServiceUnavailable,
)
from domain.time import epoch_pair
from domain.vocabulary import Label, SystemRel
from graph_model.driver import Graph, single_map
from graph_model.journal import Journal
from rules.decision import CheckOutcome

log = logging.getLogger(__name__)


def unwind_writes(label: Label, instants: tuple[str, ...]) -> tuple[str, str]:
    """The CREATE query writing one `label` node per row of `$rows`, and its MERGE form
    for rows that may have landed already (see WRITE_AGAIN); `instants` arrive as epoch
    pairs (domain.time.epoch_pair) and become DateTimes here."""
    fields = ", ".join(
        f"{name}: datetime({{epochSeconds: row.{name}[0], nanosecond: row.{name}[1]}})"
        for name in instants
    )
    values = f"c = row {{.*, {fields}}}"
    return (
        f"UNWIND $rows AS row CREATE (c:{label.value}) SET {values}",
        f"UNWIND $rows AS row MERGE (c:{label.value} {{id: row.id}}) ON CREATE SET {values}",
    )


_CHECK_INSTANTS = ("at", "askedAt")
WRITE_RECORDS, _WRITE_RECORDS_AGAIN = unwind_writes(Label.CHECK_RECORD, _CHECK_INSTANTS)
WRITE_BATCHES, _WRITE_BATCHES_AGAIN = unwind_writes(Label.CHECK_BATCH, _CHECK_INSTANTS)
# After a failed write its rows may have landed: a connection lost during COMMIT leaves
# that unknown (the driver's IncompleteCommit). Written again with CREATE, rows that had
# landed would break the id constraint on every retry and hold up all later records;
# MERGE on the id keeps those as they are and creates the rest.
WRITE_AGAIN = {WRITE_RECORDS: _WRITE_RECORDS_AGAIN, WRITE_BATCHES: _WRITE_BATCHES_AGAIN}
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

# how long after its id was issued a check's record may take to reach Neo4j from the
# process that answered it (its buffer's `max_lag` and one write), and how often
# feedback on a check not found yet looks again
RECORD_LANDS_WITHIN_S = 2.5
FEEDBACK_RETRY_S = 0.1

FEEDBACK_OUTCOMES = frozenset({"APPLIED", "NOT_APPLIED", "PARTIALLY_APPLIED"})
MAX_NOTE = 1000


CHECKS_REFUSED = "check records cannot be written; the check was not answered"


@dataclass(eq=False)
class Stream:
    """One kind of buffered row, written by `query`, or by `again` (its MERGE form) while
    the rows first in line may have landed in a failed write (see WRITE_AGAIN). With
    `weighted`, a row stands for `row["size"]` records (a batchCheck call)."""

    query: str
    again: str
    weighted: bool = False
    rows: list[dict[str, Any]] = field(default_factory=list)
    # when each row was buffered (the clock's seconds), in step with `rows`
    since: array[float] = field(default_factory=lambda: array("d"))
    # the journal segment each row is in, in step with `rows` (empty without a journal)
    segments: array[int] = field(default_factory=lambda: array("q"))
    records: int = 0
    maybe_landed: bool = False


class RecordBuffer:
    """Rows buffered in memory and written in UNWIND batches by one background task.

    Recording must not cost the caller its speed, so rows wait here for a flush; and it
    must not cost the audit trail its records, so the buffer is bounded: at most
    `capacity` records wait, and once the oldest has waited more than `max_outage`
    seconds without a write succeeding meanwhile, `admit` refuses new work with
    SERVICE_UNAVAILABLE (`refusal` says why) until a write succeeds again. A caller
    passes `admit` before the work its records will stand for, so nothing is answered
    that cannot be recorded; what was buffered stays until written, never dropped.

    With a `journal`, rows are appended to it as they are buffered and marked written
    as they land; `durable` waits until they are on disk, and `recover` (at start, and
    every `recover_interval` seconds for the segments of siblings that died) replays
    what dead processes left.
    """

    def __init__(
        self,
        graph: Graph,
        streams: tuple[Stream, ...],
        *,
        name: str,
        refusal: str,
        batch_size: int = 2000,
        interval: float = 0.05,
        backlog: int = 10_000,
        room_timeout: float = 10.0,
        capacity: int = 50_000,
        max_outage: float = 10.0,
        max_lag: float = 1.0,
        journal: Journal | None = None,
        recover_interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.graph = graph
        self.name = name
        self.refusal = refusal
        self.batch_size = batch_size
        self.interval = interval
        self.capacity = capacity
        self.backlog = min(backlog, capacity)
        self.room_timeout = room_timeout
        self.max_outage = max_outage
        self.max_lag = max_lag
        self.journal = journal
        self.recover_interval = recover_interval
        self._clock = clock
        self._streams = streams
        self._by_query = {stream.query: stream for stream in streams}
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._written = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._last_written = clock()
        self._refused = False  # said once in the log per episode
        self._last_recovered = clock()
        self._failing = False  # the last write failed
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
        if self.journal is not None:
            # records still buffered (Neo4j away) stay in the journal for the next start
            await self.journal.close()

    async def durable(self) -> None:
        """Return once every record buffered so far would survive this process: on disk in
        the journal (SERVICE_UNAVAILABLE if that failed); at once without a journal."""
        if self.journal is not None:
            await self.journal.sync()

    async def recover(self) -> int:
        """Write to Neo4j the records that processes which died left in their journals;
        returns how many rows were replayed. MERGE on each record's id: a row that had
        landed before the crash is kept as it is, never written twice."""
        self._last_recovered = self._clock()
        if self.journal is None:
            return 0
        replayed = 0
        for path, fd in self.journal.orphans():
            try:
                found = Journal.read_orphan(path, fd)
                by_stream: dict[int, list[dict[str, Any]]] = {}
                for entry in found.entries:
                    by_stream.setdefault(entry.stream, []).append(entry.row)
                for index, rows in sorted(by_stream.items()):
                    if not 0 <= index < len(self._streams):
                        log.error(
                            "journal entries of an unknown kind left in place",
                            extra={"segment": path.name, "stream": index, "rows": len(rows)},
                        )
                        raise _KeepSegment
                    again = self._streams[index].again
                    for start in range(0, len(rows), self.batch_size):
                        chunk = rows[start : start + self.batch_size]
                        await self.graph.write(again, {"rows": chunk}, name=f"{self.name}.replay")
                Journal.discard(path, fd)
            except _KeepSegment:
                Journal.release(fd)
                continue
            except BaseException:
                Journal.release(fd)  # unlocked: replayed on a later try
                raise
            replayed += len(found.entries)
            log.info(
                "replayed the journal of a process that stopped",
                extra={"records": self.name, "segment": path.name, "rows": len(found.entries)},
            )
        return replayed

    @property
    def pending(self) -> int:
        """Records buffered and not yet written."""
        return sum(stream.records for stream in self._streams)

    @property
    def oldest_age(self) -> float:
        """Seconds the oldest record not yet written has waited; 0 when none waits."""
        firsts = [stream.since[0] for stream in self._streams if stream.since]
        return max(0.0, self._clock() - min(firsts)) if firsts else 0.0

    @property
    def blocked(self) -> str | None:
        """Why new work is refused now, or None while it is accepted."""
        if self.pending >= self.capacity:
            return f"{self.name}: {self.pending} records wait to be written, the most held"
        age = self.oldest_age
        if age > self.max_outage and self._clock() - self._last_written > self.max_outage:
            return f"{self.name}: none written for {age:.0f} s"
        return None

    def admit(self, records: int = 1) -> None:
        """Return if `records` more could be buffered now, else raise SERVICE_UNAVAILABLE."""
        if not self.enabled:
            return
        reason = self.blocked
        if reason is None and self.pending + records > self.capacity:
            reason = f"{self.name}: no room for {records} more records"
        if reason is None:
            return
        if not self._refused:
            self._refused = True
            log.warning("new work refused until records are written", extra={"reason": reason})
        raise ServiceUnavailable(self.refusal)

    def _add(self, stream: Stream, row: dict[str, Any], records: int) -> None:
        """Buffer `row`; past `capacity` it is refused instead, so the bound holds
        whatever a caller did since `admit`."""
        if self.pending + records > self.capacity:
            raise ServiceUnavailable(self.refusal)
        if self.journal is not None:
            stream.segments.append(self.journal.append(self._streams.index(stream), row))
        stream.rows.append(row)
        stream.since.append(self._clock())
        stream.records += records
        if self.pending >= self.batch_size:
            self._wake.set()

    @property
    def _behind(self) -> bool:
        # late records wait on a writer that is slow, not on one that cannot write at all:
        # in an outage callers go on, and `admit` refuses them once it lasts
        late = self.oldest_age > self.max_lag and not self._failing
        return late or self.pending > self.backlog

    async def make_room(self) -> None:
        """Return once at most `backlog` records wait to be written, the oldest of them
        for no longer than `max_lag` seconds (so other processes see a check's record,
        for feedback, within about that long).

        Callers that work faster than Neo4j can record are slowed to the rate records
        land: the buffer stays short, and a throughput figure counts the writes its
        checks cost instead of leaving them to drain after the run. While records cannot
        be written at all (Neo4j away) a caller waits `room_timeout` and goes on; the
        records stay buffered, never dropped, and `admit` bounds what follows.
        """
        if not self._behind:
            return
        self._wake.set()
        async with self._written:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._written.wait_for(lambda: not self._behind), self.room_timeout
                )

    async def flush(self) -> None:
        """Write every record buffered when this is called.

        Records buffered while it writes wait for the next flush. Draining until the
        buffer is empty instead would, under steady load, chase the records that arrive
        during each write: back-to-back transactions of a few rows each, far more than
        one per interval, each with a fixed cost in this process and in Neo4j.
        """
        async with self._lock:
            left = [len(stream.rows) for stream in self._streams]
            while any(left):
                for n, stream in enumerate(self._streams):
                    if left[n]:
                        count = self._take(stream, left[n])
                        await self._write_stream(stream, count)
                        left[n] -= count
                async with self._written:
                    self._written.notify_all()

    def _take(self, stream: Stream, left: int) -> int:
        """How many of the first rows go in one transaction: `batch_size` records, or
        for weighted rows whole rows up to about that many."""
        if not stream.weighted:
            return min(left, self.batch_size)
        taken, records = 0, 0
        while taken < left and records < self.batch_size:
            records += int(stream.rows[taken]["size"])
            taken += 1
        return taken

    async def _write_stream(self, stream: Stream, count: int) -> None:
        records = sum(int(row["size"]) for row in stream.rows[:count]) if stream.weighted else count
        await self._write(stream.query, stream.rows, count)
        if self.journal is not None:
            self.journal.written(stream.segments[:count])
            del stream.segments[:count]
        del stream.since[:count]
        stream.records -= records
        self._last_written = self._clock()
        if self._refused and self.blocked is None:
            self._refused = False
            log.info(
                "records are written again; new work is accepted", extra={"records": self.name}
            )

    async def _write(self, query: str, rows: list[dict[str, Any]], count: int) -> None:
        """Write the first `count` of `rows` in one transaction, then drop them from it."""
        stream = self._by_query[query]
        chunk = rows[:count]
        sent = stream.again if stream.maybe_landed else query
        try:
            await self.graph.write(sent, {"rows": chunk}, name=f"{self.name}.write")
        except BaseException:
            # failed, or cancelled by `stop` while the shielded write goes on: the rows
            # stay first in `rows`, so the next write of this query holds them
            stream.maybe_landed = True
            self._failing = True
            raise
        stream.maybe_landed = False
        self._failing = False
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
                if self._clock() - self._last_recovered >= self.recover_interval:
                    await self.recover()
            except CreditLinkError as exc:
                # Neo4j is away: keep the records and try again, never drop them
                log.warning(
                    "records not yet written", extra={"records": self.name, "reason": exc.message}
                )
                await asyncio.sleep(1.0)


class _KeepSegment(Exception):
    """A journal segment that cannot be replayed by this version: left for an operator."""


class CheckRecorder(RecordBuffer):
    """The checks' records: a check asked alone is a row of its own, a batchCheck call
    one row that counts as its checks."""

    def __init__(self, graph: Graph, **options: Any) -> None:
        self._singles = Stream(WRITE_RECORDS, WRITE_AGAIN[WRITE_RECORDS])
        self._batches = Stream(WRITE_BATCHES, WRITE_AGAIN[WRITE_BATCHES], weighted=True)
        super().__init__(
            graph,
            (self._singles, self._batches),
            name="checkRecords",
            refusal=CHECKS_REFUSED,
            **options,
        )

    def record(self, row: dict[str, Any]) -> None:
        """Buffer one check asked alone (a `record_row`)."""
        if self.enabled:
            self._add(self._singles, row, 1)

    def record_batch(self, row: dict[str, Any]) -> None:
        """Buffer one batchCheck call (a `batch_row`), which counts as its checks."""
        if self.enabled:
            self._add(self._batches, row, int(row["size"]))


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
        return await single_map(tx, create_feedback, "feedback", params)

    # A check answered by another process may still be in that process's buffer: it
    # lands within about the buffer's `max_lag`, so a fresh id is looked for again
    # until RECORD_LANDS_WITHIN_S after it was issued before NOT_FOUND is the answer.
    # (an id claiming a time to come waits no longer than one issued now)
    now = time.time()
    deadline = min(issued_at(check_id) or 0.0, now) + RECORD_LANDS_WITHIN_S
    while True:
        try:
            return await graph.write_tx(work, name="recordFeedback")
        except NotFound:
            left = deadline - time.time()
            if left <= 0:
                raise
            await asyncio.sleep(min(FEEDBACK_RETRY_S, left))


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
