"""The sanction event log: one node per committed change of a sanction, in commit order.

Every sanction mutation appends its event in its own write transaction (`append`), so an
event exists exactly when its change committed. The order is a counter on one
`(:EventLog {id: "sanctions"})` node: each append increments it and the event takes the new
value as `seq`. The increment holds the counter's write lock until commit, so appends
commit one after another in `seq` order, and an event committed with `seq = n` was
preceded by committed events `1 … n-1`: a reader going by `seq` skips none, however many
processes commit at once. Every API process tails the log (`tail`) and hands each event to
its own subscribers (`api.event_tail`).

A log in the database every process already uses, rather than a message broker beside it:
the event commits or rolls back with its change (a broker would need a second write that can
fail on its own), there is no component more to run, and a process cut off from Neo4j for
a while reads on from its last `seq` when it answers again.

`logId` (random, set when the counter node is made) tells a reader that the log it follows
was replaced, as when a database is emptied and written again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from neo4j import AsyncManagedTransaction

from domain.time import city_midnight, time_ordered_ids
from domain.vocabulary import Label
from graph_model.driver import Graph
from graph_model.sanctions_read import SANCTION_FIELDS
from graph_model.values import native

LOG_ID = "sanctions"


class EventKind(StrEnum):
    IMPOSED = "IMPOSED"
    LIFTED = "LIFTED"
    OBJECTION_FILED = "OBJECTION_FILED"
    OBJECTION_RESOLVED = "OBJECTION_RESOLVED"
    EXPIRED = "EXPIRED"  # its validTo came (graph_model.exchange.feed publishes these)
    UPDATED = "UPDATED"  # an entry relayed from another jurisdiction changed there


# What an event keeps of its sanction as the change left it: the feed
# (graph_model.exchange.feed) publishes each change with the entry as it was then, not as
# it is when the feed is read.
SNAPSHOT_FIELDS = (
    "listType",
    "decidedOn",
    "validFrom",
    "validTo",
    "documentNo",
    "reason",
    "issuerId",
    "liftedAt",
)


_LOG = f"(log:{Label.EVENT_LOG.value} {{id: $log}})"
_NEW_LOG = "ON CREATE SET log.seq = 0, log.logId = randomUUID()"

# The migration's statement; it runs without parameters, so the id is written in.
CREATE_LOG = f"MERGE (log:{Label.EVENT_LOG.value} {{id: '{LOG_ID}'}}) {_NEW_LOG}"

# MERGE rather than MATCH: a database emptied after its migrations (a test's wipe, a partial
# restore) still records its changes, on a new log. `SET log.seq = log.seq + 1` reads the
# counter under the write lock it takes (Cypher locks before reading when a SET depends on
# the property it sets), so two appends never take the same value.
APPEND = (
    f"MERGE {_LOG} {_NEW_LOG} "
    "SET log.seq = log.seq + 1 "
    f"CREATE (e:{Label.SANCTION_EVENT.value}) SET e = $event, e.seq = log.seq "
    "RETURN e.seq AS seq"
)

# as APPEND, for a batch: the counter moves by the batch's size under one lock, and the
# events take the values it moved through, in the batch's order
APPEND_MANY = (
    f"MERGE {_LOG} {_NEW_LOG} "
    "SET log.seq = log.seq + size($events) "
    "WITH log, log.seq - size($events) AS base "
    "UNWIND range(0, size($events) - 1) AS i "
    f"CREATE (e:{Label.SANCTION_EVENT.value}) SET e = $events[i], e.seq = base + i + 1 "
    "RETURN max(e.seq) AS seq"
)

LAST_SEQ = f"OPTIONAL MATCH {_LOG} RETURN log.logId AS logId, coalesce(log.seq, 0) AS seq"

EVENT_FIELDS = (
    "e {.seq, .id, .kind, .sanctionId, .subjectId, .jurisdiction, .at, .liftKind, .upheld, "
    f"sanction: {SANCTION_FIELDS.format(s='s')}}}"
)
# The log's head with the first `$limit` events after `$after`, each with its sanction as it
# is now (what a listener computes whom it reaches from never changes after imposition).
TAIL = (
    f"OPTIONAL MATCH {_LOG} "
    "RETURN log.logId AS logId, coalesce(log.seq, 0) AS seq, COLLECT { "
    f"MATCH (e:{Label.SANCTION_EVENT.value}) WHERE e.seq > $after "
    "WITH e ORDER BY e.seq LIMIT $limit "
    f"OPTIONAL MATCH (s:{Label.SANCTION.value} {{id: e.sanctionId}}) "
    f"RETURN {EVENT_FIELDS} }} AS events"
)


async def append(
    tx: AsyncManagedTransaction,
    kind: EventKind,
    sanction: dict[str, Any],
    at: dt.datetime,
    *,
    lift_kind: str | None = None,
    upheld: bool | None = None,
) -> int:
    """Append the event of `sanction`'s change (its row as the change left it) in the
    change's own transaction; returns its `seq`.

    Call it as the transaction's last statement: it takes the counter's lock, which every
    sanction write waits on, so taking it last, after the transaction's other locks, leaves
    no lock held while waiting for the counter and no cycle can form.
    """
    event = event_row(kind, sanction, at, lift_kind=lift_kind, upheld=upheld)
    record = await (await tx.run(APPEND, log=LOG_ID, event=event)).single()
    assert record is not None, "APPEND returns one row"
    return int(record["seq"])


def event_row(
    kind: EventKind,
    sanction: dict[str, Any],
    at: dt.datetime,
    *,
    lift_kind: str | None = None,
    upheld: bool | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """The properties of the event of `sanction`'s change (its row as the change left it)."""
    row = {name: sanction.get(name) for name in SNAPSHOT_FIELDS}
    row.update(
        id=event_id or time_ordered_ids("E", 1)[0],
        kind=kind.value,
        sanctionId=sanction["id"],
        subjectId=sanction["subjectId"],
        jurisdiction=sanction.get("jurisdiction"),
        at=at,
        liftKind=lift_kind,
        upheld=upheld,
        status=status_after(kind, sanction, lift_kind),
    )
    return row


def status_after(kind: EventKind, sanction: dict[str, Any], lift_kind: str | None) -> str:
    """The entry's status as this change leaves it, as a reader then would have seen it."""
    if kind is EventKind.EXPIRED:
        return "EXPIRED"
    if lift_kind is not None:
        return lift_kind
    return str(sanction.get("status") or "ACTIVE")


async def append_many(tx: AsyncManagedTransaction, events: list[dict[str, Any]]) -> int:
    """Append `events` (rows from `event_row`), in order, in the caller's transaction, as
    the transaction's last statement (see `append`); returns the last `seq` given."""
    if not events:
        return 0
    record = await (await tx.run(APPEND_MANY, log=LOG_ID, events=events)).single()
    assert record is not None, "APPEND_MANY returns one row"
    return int(record["seq"])


@dataclass(frozen=True)
class LogHead:
    """Which log (None: there is none yet) and the last `seq` it gave."""

    log_id: str | None
    seq: int


@dataclass(frozen=True)
class TailPage:
    head: LogHead
    # {seq, id, kind, sanctionId, subjectId, jurisdiction, at, liftKind, upheld, sanction},
    # by seq; `sanction` None when it is no longer stored
    events: list[dict[str, Any]]


async def head(graph: Graph) -> LogHead:
    rows = await graph.read(LAST_SEQ, {"log": LOG_ID}, name="eventLog.head")
    row = rows[0]
    return LogHead(row["logId"], int(row["seq"]))


async def tail(graph: Graph, after: int, limit: int) -> TailPage:
    """The log's head and its first `limit` events with `seq > after`, by `seq`."""
    rows = await graph.read(
        TAIL, {"log": LOG_ID, "after": after, "limit": limit}, name="eventLog.tail"
    )
    row = rows[0]
    events = sorted((native(e) for e in row["events"]), key=lambda e: int(e["seq"]))
    return TailPage(LogHead(row["logId"], int(row["seq"])), events)


# Entries written without an event (the bulk loaders, the CSV import), locked (the SET)
# before they are read again, so two processes logging at once never log one twice; each
# is marked logged, and an entry of this jurisdiction with an end gets its expiry due.
UNLOGGED = (
    f"MATCH (s:{Label.SANCTION.value}) WHERE s.logged IS NULL "
    "WITH s LIMIT $limit SET s._lock = true REMOVE s._lock "
    "WITH s WHERE s.logged IS NULL "
    "SET s.logged = true, s.expiryDue = CASE WHEN s.jurisdiction = $own THEN s.validTo END "
    f"RETURN {SANCTION_FIELDS.format(s='s')} AS sanction, s.createdAt AS createdAt"
)
UNLOGGED_BATCH = 5000


def _backfilled(sanction: dict[str, Any], created_at: dt.datetime | None) -> list[dict[str, Any]]:
    """The events an entry written without them would have logged: its imposition, its
    objection if one is pending, its lift if it was lifted."""
    imposed_at = created_at or city_midnight(sanction["decidedOn"])
    imposed = dict(sanction, status="ACTIVE", liftedAt=None)
    rows = [event_row(EventKind.IMPOSED, imposed, imposed_at)]
    if sanction.get("status") == "UNDER_OBJECTION":
        rows.append(event_row(EventKind.OBJECTION_FILED, dict(sanction, liftedAt=None), imposed_at))
    if sanction.get("liftedAt") is not None:
        rows.append(
            event_row(
                EventKind.LIFTED,
                sanction,
                sanction["liftedAt"],
                lift_kind=sanction.get("liftKind") or "REVOKED",
            )
        )
    return rows


async def log_unlogged(graph: Graph, own: str) -> int:
    """Log the events of every entry written without them; returns how many entries."""
    logged = 0
    while True:

        async def work(tx: AsyncManagedTransaction) -> int:
            result = await tx.run(UNLOGGED, limit=UNLOGGED_BATCH, own=own)
            rows = [native(dict(r)) async for r in result]
            events = [e for r in rows for e in _backfilled(r["sanction"], r["createdAt"])]
            await append_many(tx, events)
            return len(rows)

        done = await graph.write_tx(work, name="eventLog.logUnlogged")
        logged += done
        if done < UNLOGGED_BATCH:
            return logged
