"""Sanction events fanned out to this process's subscribers.

Mutations publish nothing themselves: each writes its event into the log in Neo4j, in the
change's own transaction (`graph_model.event_log`), and the `EventTailer` of every API
process (`api.event_tail`) reads the log and publishes here, to the process's in-memory
broker. Any number of processes over one Neo4j so give their subscribers the same events in
the same (commit) order, with no broker of their own to run.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from domain.scoring.ratings import applies
from domain.time import CITY_TZ, utc_now

if TYPE_CHECKING:
    from graph_model.driver import Graph
    from graph_model.impact import ImpactEngine

# subject id -> (role, area) pairs through which a sanction reaches it
Reach = dict[str, list[tuple[str, str]]]


@dataclass(frozen=True)
class SanctionEvent:
    kind: str  # IMPOSED | LIFTED | OBJECTION_FILED | OBJECTION_RESOLVED
    sanction_id: str
    at: Any
    reach: Reach = field(default_factory=dict)
    seq: int = 0  # its place in the event log: the order events are published in


class EventBroker:
    def __init__(self, queue_size: int = 1000) -> None:
        self._queues: set[asyncio.Queue[SanctionEvent]] = set()
        self._queue_size = queue_size

    async def publish(self, event: SanctionEvent) -> None:
        for queue in list(self._queues):
            if queue.full():  # a slow subscriber loses its oldest event, never blocks writers
                queue.get_nowait()
            queue.put_nowait(event)

    async def subscribe(self) -> AsyncIterator[SanctionEvent]:
        queue: asyncio.Queue[SanctionEvent] = asyncio.Queue(self._queue_size)
        self._queues.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues.discard(queue)

    @property
    def subscriber_count(self) -> int:
        return len(self._queues)


async def impacted_at(
    graph: Graph, impact: ImpactEngine, sanction: dict[str, Any], at: dt.datetime
) -> list[dict[str, Any]]:
    """Who the sanction reaches at `at`; no one when it does not apply then."""
    if not applies(sanction, at):
        return []
    return await impact.impact(
        graph,
        list_type=sanction["listType"],
        subject_id=sanction["subjectId"],
        decided_on=sanction["decidedOn"],
        named=list(sanction.get("responsiblePersonIds") or []),
        at=at,
    )


async def reach_of(
    graph: Graph, impact: ImpactEngine, sanction: dict[str, Any], now: dt.datetime | None = None
) -> Reach:
    """Whom an event of `sanction` reaches: its subject, and whoever it reaches through a role
    as if it applied now (or from its first day), so that a lift or an objection still tells
    everyone the sanction reached, not only whom it reaches afterwards."""
    first_day = dt.datetime.combine(sanction["validFrom"], dt.time(), tzinfo=CITY_TZ).astimezone(
        dt.UTC
    )
    moment = max(now or utc_now(), first_day)
    probe = dict(sanction, liftedAt=None, validTo=None)
    reach: Reach = {sanction["subjectId"]: []}
    for entry in await impacted_at(graph, impact, probe, moment):
        reach.setdefault(entry["subject"]["id"], []).extend(
            (entry["role"], area) for area in entry["areas"]
        )
    return reach
