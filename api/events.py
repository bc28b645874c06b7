"""Sanction events fanned out to subscribers.

In one process an in-memory broker does; several API replicas need a shared broker
(see README, "Scaling out"), which would implement the same two methods.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SanctionEvent:
    kind: str  # IMPOSED | LIFTED | OBJECTION_FILED | OBJECTION_RESOLVED
    sanction_id: str
    at: Any
    # subject id -> roles and areas through which the sanction reaches it
    reach: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


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
